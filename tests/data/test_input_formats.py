"""Large-table inputs: .csv.gz and .parquet read like CSV; float32 on request."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import make_toy_table

from kinsynth.core.errors import KinsynthError
from kinsynth.data import read_table


@pytest.fixture
def toy(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    frame = make_toy_table(300, seed=3)
    path = tmp_path / "toy.csv"
    frame.to_csv(path)
    return frame, path


def test_gzip_and_parquet_read_the_same_table(toy, tmp_path: Path) -> None:
    frame, csv_path = toy
    gz = tmp_path / "toy.csv.gz"
    gz.write_bytes(gzip.compress(csv_path.read_bytes()))
    expected = read_table(csv_path).frame
    pd.testing.assert_frame_equal(read_table(gz).frame, expected)
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "toy.parquet"
    frame.reset_index(drop=True).to_parquet(parquet)
    from_parquet = read_table(parquet).frame
    np.testing.assert_array_equal(from_parquet.to_numpy(), expected.to_numpy())
    assert list(from_parquet.columns) == list(expected.columns)


def test_float32_tables_hold_the_same_values_in_half_the_bytes(toy) -> None:
    _, path = toy
    wide, narrow = read_table(path).frame, read_table(path, dtype=np.float32).frame
    assert (narrow.dtypes == np.float32).all() and (wide.dtypes == np.float64).all()
    assert narrow.memory_usage(index=False).sum() * 2 == wide.memory_usage(index=False).sum()
    np.testing.assert_allclose(narrow.to_numpy(), wide.to_numpy(), rtol=1e-7)
    assert list(narrow.index) == list(wide.index)  # the file's index column survives


def test_bad_cells_are_still_named_on_the_float32_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b,Product_I\n1,2,3\n4,oops,6\n7,8,9\n")
    with pytest.raises(KinsynthError, match="column 'b' has non-numeric value 'oops' at data row"):
        read_table(path, dtype=np.float32)
    damaged = tmp_path / "bad.csv.gz"
    damaged.write_bytes(b"not gzip at all")
    with pytest.raises(KinsynthError, match="cannot be read"):
        read_table(damaged)
