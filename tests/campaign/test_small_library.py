"""A library smaller than the campaign: said before the first build, each design built once, the
log and cycles.csv say what was really built, and the best design counts as a top design."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

import kinsynth
from kinsynth.campaign import run_campaign

TWO_COLUMNS = ["space.levels=[0.5,1,2]",
               "space.vary=[vmax_forward_Enz_A,vmax_forward_TKT2]"]  # 9 designs
SHORT = ["strategy=random", "initial_designs=5", "cycles=2", "designs_per_cycle=5", "pool.n=200"]


def _run(compose_dbtl, tmp_path, caplog, *overrides):
    cfg = compose_dbtl(*SHORT, *overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "Mean of empty slice" on the console
        with caplog.at_level(logging.INFO, logger="kinsynth"):
            table = run_campaign(cfg, tmp_path / "run")
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("kinsynth.campaign.loop")]
    return table, built, lines


def test_a_one_design_library_is_said_first_built_once_and_counted_as_top(compose_dbtl, tmp_path,
                                                                           caplog):
    table, built, lines = _run(compose_dbtl, tmp_path, caplog, "space.levels=[1]")
    announce = [line for line in lines if "the library holds 1 design" in line]
    assert len(announce) == 1 and "cycles 1-2 build nothing" in announce[0]
    assert lines.index(announce[0]) < next(i for i, m in enumerate(lines) if "cycle 0" in m)
    assert len(built) == 1  # not five copies of the one design
    assert "cycle 0: built 1 (1 in all)" in " ".join(lines)
    assert sum("built nothing" in line for line in lines) == 2  # not "built 50"
    assert table["n_built"].tolist() == [1, 1, 1]
    assert table["cumulative_top"].tolist() == [1, 1, 1]  # the best design was built
    assert table["top1_found"].iloc[-1] == 1
    assert np.isnan(table["batch_valid_fraction"].iloc[1:]).all()


def test_the_readme_two_column_library_builds_each_of_its_nine_designs_once(compose_dbtl,
                                                                            tmp_path, caplog):
    table, built, lines = _run(compose_dbtl, tmp_path, caplog, *TWO_COLUMNS)
    assert any("holds 9 design(s)" in line and "cycle 2 builds nothing" in line
               for line in lines)
    columns = ["vmax_forward_Enz_A", "vmax_forward_TKT2"]
    assert len(built) == 9 and not built.duplicated(subset=columns).any()
    assert table["n_built"].tolist() == [5, 9, 9]
    assert "cycle 1: built 4 (9 in all)" in " ".join(lines)
    assert table["cumulative_top"].iloc[-1] >= 1  # the library's best is among the nine


def test_a_large_campaign_is_not_warned(compose_dbtl, tmp_path, caplog):
    _, built, lines = _run(compose_dbtl, tmp_path, caplog, "space.levels=[0.5,1,2]")
    assert not any("strains this campaign plans" in line for line in lines)
    assert len(built) == 15


def test_propose_says_it_returns_fewer_than_asked(caplog):
    from kinsynth.api import compose
    from kinsynth.campaign.landscape import make_landscape

    space = make_landscape(compose("dbtl", {"space": {"levels": [1]}})).space
    built = space.snap(space.sample(1, np.random.default_rng(0)))
    built["Product_I"] = [1.0]
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        plate = kinsynth.propose(built, n=5, strategy="random", space={"levels": [1]})
    assert len(plate) == 0
    assert any("designs_per_cycle=5: returning 0 design(s)" in r.getMessage()
               for r in caplog.records)


def test_propose_on_a_two_design_library_returns_what_is_left(caplog):
    n = 5
    from kinsynth.api import compose
    from kinsynth.campaign.landscape import make_landscape

    space = make_landscape(compose("dbtl", {"space": {"levels": [1, 2],
                                                     "vary": ["vmax_forward_Enz_A"]}})).space
    built = space.snap(space.sample(1, np.random.default_rng(0)))
    built["Product_I"] = [1.0]
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        plate = kinsynth.propose(built, n=n, strategy="random",
                                 space={"levels": [1, 2], "vary": ["vmax_forward_Enz_A"]})
    assert len(plate) == 1
    assert any(f"designs_per_cycle={n}: returning 1 design(s)" in r.getMessage()
               for r in caplog.records)


def test_vanlent_and_its_judge_fit_on_the_few_designs_of_a_small_library(compose_dbtl, tmp_path,
                                                                         caplog):
    """Five measured designs: cross-validation keeps 2 rows per held-out fold (an R² on one row
    is undefined and failed the search), so the tuned models fit and the campaign runs."""
    table, built, _ = _run(compose_dbtl, tmp_path, caplog, *TWO_COLUMNS, "strategy=vanlent",
                           "strategy.search_iterations=2", "metrics.judge=true",
                           "metrics.judge_iterations=2")
    assert len(built) == 9 and table["n_built"].tolist() == [5, 9, 9]
    assert np.isfinite(table["top100_predicted"]).all()
