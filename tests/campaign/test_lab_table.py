"""``dbtl.py step=propose`` on a lab's hand-made table: every bad cell is one line naming the file,
column and first bad data row; replicates, negative fluxes and designs outside the space are used
as documented and said in one line; ``out=`` and ``designs_per_cycle`` are checked up front."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import run_cli

from kinsynth.campaign import propose_from_table
from kinsynth.campaign.propose import read_built
from kinsynth.campaign.space import design_keys
from kinsynth.core.errors import KinsynthError

FAST = {"recommender": ["strategy.pool_size=200"],
        "generative": ["strategy.epochs=3", "strategy.oversample=2", "strategy.random_pool=100"],
        "random": []}


@pytest.fixture
def propose(tmp_path, compose_dbtl):
    """Run step=propose on ``table`` (written to lab.csv) with ``strategy`` and more overrides."""

    def _propose(table: pd.DataFrame, strategy: str = "recommender", *overrides: str,
                 out: str | None = "plate.csv") -> pd.DataFrame:
        path = tmp_path / "lab.csv"
        table.to_csv(path, index=False)
        given = [] if out is None else [f"out={tmp_path / out}"]
        cfg = compose_dbtl("step=propose", f"strategy={strategy}", *FAST[strategy],
                           f"data.path={path}", "designs_per_cycle=6", *given, *overrides)
        return propose_from_table(cfg)

    return _propose


def one_line(error: pytest.ExceptionInfo, *parts: str) -> str:
    message = str(error.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message
    return message


@pytest.mark.parametrize("strategy", ["recommender", "generative"])
def test_nan_in_a_feature_names_the_labs_file_column_and_row(tmp_path, propose, lab_table,
                                                            strategy):
    table = lab_table()
    table.loc[6, "vmax_forward_TKT2"] = np.nan
    with pytest.raises(KinsynthError) as error:
        propose(table, strategy)
    message = one_line(error, str(tmp_path / "lab.csv"), "'vmax_forward_TKT2'", "data row 7",
                       "empty")
    assert "tmp" not in message.replace(str(tmp_path), "")  # never a temporary file's name
    assert not (tmp_path / "plate.csv").exists()


def test_a_negative_or_zero_fold_change_is_one_line(propose, lab_table):
    table = lab_table()
    table.loc[9, "km_substrate1_Enz_A"] = -0.5
    table.loc[12, "km_substrate1_Enz_A"] = 0.0
    with pytest.raises(KinsynthError) as error:
        propose(table)
    one_line(error, "'km_substrate1_Enz_A'", "-0.5", "data row 10", "2 bad cell(s)",
             "positive fold change")


def test_text_in_a_feature_or_the_flux_is_one_line(propose, lab_table):
    table = lab_table().astype({"vmax_forward_Enz_A": object})
    table.loc[3, "vmax_forward_Enz_A"] = "1.2x"
    with pytest.raises(KinsynthError) as error:
        propose(table)
    one_line(error, "'vmax_forward_Enz_A'", "'1.2x'", "data row 4")
    table = lab_table().astype({"Product_I": object})
    table.loc[8, "Product_I"] = "n.d."
    with pytest.raises(KinsynthError) as error:
        propose(table)
    one_line(error, "'Product_I'", "'n.d.'", "data row 9", "empty for a strain")


def test_fewer_measured_rows_than_the_generator_needs_says_how_many(propose, lab_table):
    table = lab_table(8)  # rows 1-5 did not produce: 3 measured
    with pytest.raises(KinsynthError) as error:
        propose(table, "generative")
    message = one_line(error, "3 built design(s) have a measured Product_I",
                       "strategy=generative needs at least 5")
    assert "data.split" not in message
    assert len(propose(lab_table(10), "generative")) == 6  # 5 measured: enough


def test_a_negative_flux_is_used_and_said(propose, lab_table, caplog):
    table = lab_table()
    table.loc[20, "Product_I"] = -0.25
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        plate = propose(table)
    assert len(plate) == 6
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "'Product_I' holds 1 negative flux value(s)" in warned[0]
    assert "data row 21: -0.25" in warned[0] and "used as measured" in warned[0]


def test_replicates_are_averaged_per_design_and_said(tmp_path, pathway, lab_table, caplog):
    table = lab_table(12)
    # strain 8 built three times (one failed), strain 10 twice
    table = pd.concat([table, table.iloc[[7, 7, 9]]], ignore_index=True)
    table.loc[12, "Product_I"], table.loc[13, "Product_I"] = 0.5, np.nan
    table.loc[14, "Product_I"] = 2.0
    path = tmp_path / "lab.csv"
    table.to_csv(path, index=False)
    with caplog.at_level(logging.INFO, logger="kinsynth"):
        built = read_built(path, list(pathway.columns), "Product_I")
    assert len(built) == 12
    assert len(set(design_keys(built, pathway.columns))) == 12
    assert built.loc[7, "Product_I"] == pytest.approx((table.loc[7, "Product_I"] + 0.5) / 2)
    assert built.loc[9, "Product_I"] == pytest.approx((table.loc[9, "Product_I"] + 2.0) / 2)
    assert built["valid"].sum() == 12 - 5  # the first 5 never produced
    said = [r.getMessage() for r in caplog.records if "replicates" in r.getMessage()]
    assert len(said) == 1 and "15 rows hold 12 designs (2 built more than once)" in said[0]


def test_fold_changes_outside_the_space_are_used_and_said(propose, lab_table, caplog):
    table = lab_table()
    table.loc[4, "vmax_forward_Enz_A"] = 3.0  # the embedded range is [0.5, 2]
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        plate = propose(table)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "outside the design space" in warned[0]
    assert "'vmax_forward_Enz_A' 1 row(s), first data row 5: 3 outside [0.5, 2]" in warned[0]
    assert plate["vmax_forward_Enz_A"].max() <= 2.0  # proposals stay inside


def test_the_valid_column_reads_yes_no_words_and_refuses_others(tmp_path, pathway, lab_table,
                                                               propose):
    table = lab_table(10)
    table["Product_I"] = np.linspace(0.5, 1.4, 10)
    table["valid"] = ["yes", "no", "YES", "No", "true", "false", "1", "0", " True ", "yes"]
    path = tmp_path / "lab.csv"
    table.to_csv(path, index=False)
    built = read_built(path, list(pathway.columns), "Product_I")
    assert built["valid"].tolist() == [True, False] * 4 + [True, True]
    assert built.loc[~built["valid"], "Product_I"].isna().all()  # "no": its flux is not used
    table["valid"] = ["yes"] * 6 + ["maybe"] + ["no"] * 3
    with pytest.raises(KinsynthError) as error:
        propose(table)
    one_line(error, "column 'valid' has 'maybe' at data row 7", "yes/no, true/false or 1/0")
    table["valid"] = "yes"
    table.loc[2, "Product_I"] = np.nan
    with pytest.raises(KinsynthError) as error:
        propose(table)
    one_line(error, "'Product_I' is empty at data row 3 where 'valid' says yes")


def test_no_out_is_refused_and_writes_no_file_named_none(tmp_path, propose, lab_table,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KinsynthError) as error:
        propose(lab_table(), out=None)
    one_line(error, "out:", "out=<file.csv>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.csv"]


@pytest.mark.parametrize("value", ["-5", "0"])
def test_a_bad_designs_per_cycle_is_refused(tmp_path, propose, lab_table, value):
    with pytest.raises(KinsynthError) as error:
        propose(lab_table(), "recommender", f"designs_per_cycle={value}")
    one_line(error, "designs_per_cycle=", "expected a positive integer")
    assert not (tmp_path / "plate.csv").exists()


def test_designs_per_cycle_of_another_type_is_refused_in_one_line(tmp_path, propose, lab_table):
    from kinsynth.cli.guard import user_error

    with pytest.raises(Exception) as error:  # a size, or one per cycle: campaign.schedule
        propose(lab_table(), "recommender", "designs_per_cycle=abc")
    assert user_error(error.value) == "designs_per_cycle='abc': expected a positive integer"
    assert not (tmp_path / "plate.csv").exists()


def test_out_a_dangling_symlink_is_one_line(tmp_path, propose, lab_table):
    (tmp_path / "plate.csv").symlink_to(tmp_path / "gone" / "plate.csv")
    with pytest.raises(KinsynthError) as error:
        propose(lab_table())
    one_line(error, "plate.csv", "symbolic link to a missing file")
    assert not (tmp_path / "gone").exists()


@pytest.mark.slow  # the whole CLI: the Hydra run directory is made before any code of ours
def test_step_propose_writes_only_its_out_file(tmp_path, lab_table):
    lab_table().to_csv(tmp_path / "lab.csv", index=False)
    result = run_cli("dbtl.py", "step=propose", "strategy=random", "data.path=lab.csv",
                     "designs_per_cycle=4", "out=plate.csv", cwd=tmp_path)
    assert "wrote 4 proposed designs to plate.csv" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.csv", "plate.csv"]
    assert len(pd.read_csv(tmp_path / "plate.csv")) == 4
    assert Path(tmp_path / "plate.csv").stat().st_size > 0
