"""read_table: defaults and one test per kind of bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinsynth.core.errors import KinsynthError
from kinsynth.data import DEFAULT_DATA_PATH, KineticTable, read_table

# ------------------------------------------------------------------------------------ defaults


def test_reads_pandas_written_table(kinetic_csv: Path, kinetic_frame) -> None:
    table = read_table(kinetic_csv)
    expected = kinetic_frame()
    assert isinstance(table, KineticTable)
    assert table.features == ["k0", "k1", "k2"]
    assert table.target == "Product_I"
    assert table.columns == ["k0", "k1", "k2", "Product_I"]
    assert table.path == str(kinetic_csv)
    assert table.dropped_constant == []
    assert list(table.frame.index) == list(expected.index)  # unnamed first column is the index
    assert (table.frame.dtypes == np.float64).all()
    np.testing.assert_allclose(table.frame.to_numpy(), expected.to_numpy())


def test_negative_values_and_any_column_count(write_frame, kinetic_frame) -> None:
    frame = kinetic_frame(n_features=7) - 3.0
    table = read_table(write_frame(frame))
    assert len(table.features) == 7
    assert (table.frame.to_numpy() < 0).any()


def test_no_index_column(write_frame, kinetic_frame) -> None:
    table = read_table(write_frame(kinetic_frame(), index=False))
    assert table.features == ["k0", "k1", "k2"]
    assert isinstance(table.frame.index, pd.RangeIndex)


@pytest.mark.parametrize("name", ["id", "index", "ID"])
def test_integer_id_column_is_index(write_frame, name: str, kinetic_frame) -> None:
    frame = kinetic_frame().rename_axis(name).reset_index()
    table = read_table(write_frame(frame, index=False))
    assert table.features == ["k0", "k1", "k2"]
    assert table.frame.index.name == name


def test_non_unique_id_column_is_a_feature(write_frame, kinetic_frame) -> None:
    frame = kinetic_frame()
    frame.insert(0, "id", np.arange(len(frame)) % 7)
    table = read_table(write_frame(frame, index=False))
    assert table.features[0] == "id"


def test_explicit_id_feature_is_not_an_index(write_frame, kinetic_frame) -> None:
    frame = kinetic_frame().rename_axis("id").reset_index()
    table = read_table(write_frame(frame, index=False), features=["id", "k1"])
    assert table.features == ["id", "k1"]


def test_feature_subset_keeps_requested_order(kinetic_csv: Path) -> None:
    table = read_table(kinetic_csv, features=["k2", "k0"])
    assert table.columns == ["k2", "k0", "Product_I"]


def test_features_only_table(kinetic_csv: Path) -> None:
    table = read_table(kinetic_csv, target=None)
    assert table.target is None
    assert table.features == ["k0", "k1", "k2", "Product_I"]
    assert table.columns == table.features


def test_other_target_and_stripped_header(write_text) -> None:
    path = write_text(" a , b ,flux\n1,2,3\n2,3,5\n-1,0,4\n")
    table = read_table(path, target="flux")
    assert table.features == ["a", "b"]
    assert table.frame["flux"].tolist() == [3.0, 5.0, 4.0]


def test_default_path_points_into_package() -> None:
    assert DEFAULT_DATA_PATH.name == "pathway_I_sim_5000.csv"
    assert DEFAULT_DATA_PATH.parent == Path(__file__).resolve().parents[2] / (
        "src/kinsynth/data/default"
    )


def test_path_none_reads_default(assert_one_line) -> None:
    if DEFAULT_DATA_PATH.exists():
        assert len(read_table(None)) > 0
    else:
        with pytest.raises(KinsynthError) as error:
            read_table(None)
        assert_one_line(error, DEFAULT_DATA_PATH.name, "not found")


@pytest.mark.reference
def test_reference_file(reference_csv: Path) -> None:
    table = read_table(reference_csv)
    assert table.frame.shape == (5000, 20)
    assert table.target == "Product_I"
    assert len(table.features) == 19
    assert table.frame.index.is_unique


# ---------------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(tmp_path / "nope.csv")
    assert_one_line(error, "nope.csv", "not found")


def test_directory(tmp_path: Path, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(tmp_path)
    assert_one_line(error, str(tmp_path), "directory")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(kinetic_csv: Path, assert_one_line) -> None:
    kinetic_csv.chmod(0)
    try:
        with pytest.raises(KinsynthError) as error:
            read_table(kinetic_csv)
    finally:
        kinetic_csv.chmod(0o644)
    assert_one_line(error, kinetic_csv.name, "cannot be read")


def test_binary_file(tmp_path: Path, assert_one_line) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    with pytest.raises(KinsynthError) as error:
        read_table(path)
    assert_one_line(error, "table.csv", "UTF-8")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(write_text, text: str, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text(text))
    assert_one_line(error, "table.csv", "empty")


def test_header_only(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text(",a,b,Product_I\n"))
    assert_one_line(error, "table.csv", "no data rows")


def test_non_numeric_value(write_text, assert_one_line) -> None:
    path = write_text("a,b,Product_I\n1,2,3\n2,x7,4\n3,oops,5\n")
    with pytest.raises(KinsynthError) as error:
        read_table(path)
    assert_one_line(error, "table.csv", "'b'", "'x7'", "row 2", "expected numbers")


def test_non_numeric_value_names_index(write_text, assert_one_line) -> None:
    path = write_text(",a,Product_I\n17,1,3\n42,?,4\n43,1,2\n")
    with pytest.raises(KinsynthError) as error:
        read_table(path)
    assert_one_line(error, "'a'", "'?'", "row 2", "index 42")


def test_nan_and_inf(write_text, assert_one_line) -> None:
    path = write_text("a,b,Product_I\n1,,3\n2,nan,inf\n3,1,-inf\n")
    with pytest.raises(KinsynthError) as error:
        read_table(path)
    assert_one_line(error, "table.csv", "'b' has 2 NaN", "'Product_I' has 2 infinite", "finite")


def test_short_row_is_reported_as_missing(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text("a,b,Product_I\n1,2,3\n2,3\n"))
    assert_one_line(error, "'Product_I' has 1 NaN")


def test_long_row(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text("a,b,Product_I\n1,2,3,4\n2,3,4,5\n"))
    assert_one_line(error, "table.csv", "more fields than the header")


def test_missing_target_lists_columns(kinetic_csv: Path, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(kinetic_csv, target="flux")
    assert_one_line(error, "table.csv", "'flux' not found", "'k0', 'k1', 'k2', 'Product_I'")


def test_unknown_features(kinetic_csv: Path, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(kinetic_csv, features=["k0", "vmax_X"])
    assert_one_line(error, "table.csv", "'vmax_X'", "available columns")


def test_target_listed_as_feature(kinetic_csv: Path, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(kinetic_csv, features=["k0", "Product_I"])
    assert_one_line(error, "'Product_I'", "also listed as a feature")


def test_duplicate_columns(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text("a,b,a,Product_I\n1,2,3,4\n2,3,4,5\n"))
    assert_one_line(error, "table.csv", "duplicate", "'a' (2x)")


@pytest.mark.parametrize(
    ("delimiter", "word"), [(";", ";-separated"), ("\t", "tab-separated"), ("|", "|-separated")]
)
def test_other_delimiter(write_text, delimiter: str, word: str, assert_one_line) -> None:
    rows = ["a,b,Product_I", "1,2,3", "2,3,4"]
    path = write_text("\n".join(row.replace(",", delimiter) for row in rows) + "\n")
    with pytest.raises(KinsynthError) as error:
        read_table(path)
    assert_one_line(error, "table.csv", f"looks {word}, expected commas")


def test_constant_feature_dropped_with_warning(write_frame, kinetic_frame) -> None:
    frame = kinetic_frame()
    frame.insert(1, "fixed", 1.5)
    with pytest.warns(UserWarning, match="'fixed'"):
        table = read_table(write_frame(frame))
    assert table.dropped_constant == ["fixed"]
    assert "fixed" not in table.frame.columns
    assert table.features == ["k0", "k1", "k2"]


def test_constant_target(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text("a,Product_I\n1,2\n2,2\n3,2\n"))
    assert_one_line(error, "table.csv", "'Product_I' is constant (always 2.0)")


def test_all_features_constant(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text("a,b,Product_I\n1,2,1\n1,2,2\n"))
    assert_one_line(error, "table.csv", "every feature column is constant")


def test_error_message_is_folded_to_one_line() -> None:
    assert str(KinsynthError("first\nsecond  line")) == "first second line"


# ------------------------------------------------------------------ the header-only check

@pytest.mark.parametrize(
    ("text", "name"),
    [(None, "nope.csv"), ("", "empty.csv"), ("a;b;c\n1;2;3\n", "semi.csv"),
     ("a,b,a\n1,2,3\n", "twice.csv"), (None, "nope.parquet")],
)
def test_check_file_refuses_what_read_table_refuses_with_the_same_line(
    tmp_path: Path, text: str | None, name: str
) -> None:
    """``check_file`` (train.py's check before torch loads) says what ``read_table`` says."""
    from kinsynth.data.io import check_file

    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(KinsynthError) as early:
        check_file(path)
    with pytest.raises(KinsynthError) as late:
        read_table(path)
    assert str(early.value) == str(late.value)


def test_check_file_passes_a_table_whose_rows_are_bad(write_text) -> None:
    """Only the first line is read: a bad value further down is for the run's reader."""
    from kinsynth.data.io import check_file

    path = write_text("k0,Product_I\n1,abc\n")
    check_file(path)
    with pytest.raises(KinsynthError):
        read_table(path)
