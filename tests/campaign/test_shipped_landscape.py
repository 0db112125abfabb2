"""The measured landscape kinsynth ships (G8H x CPR, Petersen et al. 2024): the table, its licence
in the package data, and ``space=g8h_cpr`` / ``space.landscape=g8h_cpr`` replaying it by name."""

from __future__ import annotations

import fnmatch
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import REPO_ROOT, build_wheel

from kinsynth.campaign.landscape import MeasuredLandscape, make_landscape
from kinsynth.campaign.landscapes import HERE, SHIPPED, shipped_landscape
from kinsynth.campaign.loop import run_campaign

FOLDER = HERE / "g8h_cpr"
SHARED = REPO_ROOT.parent / "shared" / "data" / "g8h_cpr"
SLOTS = ("G8H", "pG8H", "pCPR", "CPR")
TARGET = "strictosidine_pct_of_control"


def test_the_table_holds_both_rounds_of_measured_isolates():
    table = pd.read_csv(FOLDER / "measured.csv")
    assert list(table.columns) == ["strain", "dbtl_round", *SLOTS, TARGET]
    assert len(table) == 296 and table["strain"].is_unique
    assert table["dbtl_round"].value_counts().to_dict() == {1: 167, 2: 129}
    assert table.groupby(list(SLOTS)).ngroups == 234
    assert [table[c].nunique() for c in SLOTS] == [8, 4, 4, 10]  # 1,280 designs in all
    assert table[TARGET].notna().all() and (table[TARGET] >= 0).all()
    assert table[TARGET].max() == pytest.approx(245.034, abs=1e-3)  # the best isolate


def test_the_licence_and_the_source_ship_beside_the_data():
    licence = (FOLDER / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Copyright (c) 2022, Lucas Levassor" in licence
    notice = (FOLDER / "NOTICE.md").read_text()
    for fact in ("https://github.com/hiyama341/G8H_CPR_library",
                 "3cb0c57589509e89fc490324e8b3e705388cc690", "doi:10.1371/journal.pcbi.1011929"):
        assert fact in notice


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/g8h_cpr is absent")
def test_the_shipped_files_are_the_extracted_ones_unchanged():
    shipped = pd.read_csv(FOLDER / "measured.csv", dtype=str)
    source = pd.read_csv(SHARED / "data.csv", dtype=str)
    pd.testing.assert_frame_equal(shipped, source[shipped.columns])  # same text, same order
    assert (FOLDER / "LICENSE").read_bytes() == (SHARED / "LICENSE").read_bytes()
    assert (FOLDER / "round1_automl_predictions.csv").read_bytes() == \
        (SHARED / "aux_round1_automl_predictions.csv").read_bytes()


def _package_data_globs() -> list[str]:
    from setuptools.config.pyprojecttoml import read_configuration  # tomllib is 3.11+

    settings = read_configuration(REPO_ROOT / "pyproject.toml")
    return settings["tool"]["setuptools"]["package-data"]["kinsynth"]


def test_pyproject_ships_every_file_of_the_landscape_folder():
    package = REPO_ROOT / "src" / "kinsynth"
    files = [p.relative_to(package).as_posix() for p in FOLDER.iterdir() if p.is_file()]
    assert sorted(Path(f).name for f in files) == [
        "LICENSE", "NOTICE.md", "measured.csv", "round1_automl_predictions.csv"]
    for name in files:
        assert any(fnmatch.fnmatch(name, glob) for glob in _package_data_globs()), name


@pytest.mark.slow(seconds=10)  # builds a wheel
def test_the_wheel_carries_the_table_and_its_licence(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("measured.csv", "LICENSE", "NOTICE.md", "round1_automl_predictions.csv"):
        assert f"kinsynth/campaign/landscapes/g8h_cpr/{name}" in names
    assert "kinsynth/campaign/landscapes/__init__.py" in names


def test_a_name_is_the_shipped_table_and_a_path_is_a_file():
    assert shipped_landscape("g8h_cpr") is SHIPPED["g8h_cpr"]
    for value in ("g8h_cpr.csv", "data/g8h_cpr", None, 3):
        assert shipped_landscape(value) is None


@pytest.mark.parametrize("overrides", [["space=g8h_cpr"], ["space.landscape=g8h_cpr"]])
def test_the_name_alone_replays_the_library(compose_dbtl, overrides):
    landscape = make_landscape(compose_dbtl(*overrides))
    assert isinstance(landscape, MeasuredLandscape)
    assert landscape.target == TARGET and landscape.space.columns == SLOTS
    designs, means = landscape.library()
    assert len(designs) == 234 and landscape.top_k == 10
    assert landscape.maximum() == pytest.approx(159.0597, abs=1e-3)  # the best mean genotype
    assert landscape.random_expected(40) == pytest.approx(10 * 40 / 234)
    assert sum(landscape.replicate_counts().values()) == 296


def test_a_setting_given_wins_over_the_names_defaults(compose_dbtl):
    cfg = compose_dbtl("space=g8h_cpr", "space.columns=[G8H,CPR]")
    landscape = make_landscape(cfg)
    assert landscape.space.columns == ("G8H", "CPR")
    assert len(landscape.library()[0]) == 78  # the homolog pairs measured (77 in round 1)


def test_a_campaign_on_the_named_space_counts_the_top_10(compose_dbtl, tmp_path):
    cfg = compose_dbtl("space=g8h_cpr", "strategy=random", "initial_designs=8", "cycles=1",
                       "designs_per_cycle=8")
    table = run_campaign(cfg, tmp_path / "run")
    assert table["n_built"].tolist() == [8, 16]
    assert table["random_top10_found"].tolist() == pytest.approx([80 / 234, 160 / 234])
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    landscape = make_landscape(cfg)
    designs, means = landscape.library()
    top = designs.iloc[np.argsort(-means)[:10]]
    expected = len(top.merge(built[list(SLOTS)].drop_duplicates(), on=list(SLOTS)))
    assert table["top10_found"].iloc[-1] == expected
