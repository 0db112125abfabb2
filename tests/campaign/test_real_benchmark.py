"""scripts/dbtl_benchmark.py --landscape g8h_cpr (scripts/bench/dbtl_real.py): its sweeps, the
20-line anchor, the authors' round 2 replayed, and the report, on one seed and one budget."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
SLOTS = ["G8H", "pG8H", "pCPR", "CPR"]
TARGET = "strictosidine_pct_of_control"


@pytest.fixture(scope="module")
def real():
    sys.path.insert(0, str(SCRIPTS))
    try:
        from bench import dbtl_real
    finally:
        sys.path.remove(str(SCRIPTS))
    return dbtl_real


def _script():
    spec = importlib.util.spec_from_file_location("dbtl_benchmark", SCRIPTS / "dbtl_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_strategy_and_budget_is_its_own_sweep(tmp_path, capsys):
    assert _script().main(["--landscape", "g8h_cpr", "--dry-run", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    seeds = "seed=" + ",".join(map(str, range(20))) + " "
    sweeps = [line for line in lines if line.startswith("dbtl.py")]
    assert len(sweeps) == 2 * 5  # every registered strategy at both budgets
    assert all(seeds in line and "space=g8h_cpr" in line for line in sweeps)
    assert sum("initial_designs=8 cycles=4 designs_per_cycle=8 " in line for line in sweeps) == 5
    assert sum("initial_designs=16 cycles=4 designs_per_cycle=16 " in line
               for line in sweeps) == 5
    assert f"hydra.sweep.dir={tmp_path}/g8h_cpr/replay/8+4x8/random" in sweeps[0]
    assert [line.split(" (")[0] for line in lines if line.startswith("anchor")] == [
        "anchor 8+4x8 x 20 seeds", "anchor 16+4x16 x 20 seeds"]
    assert sum(line.startswith("round 2:") for line in lines) == 6
    assert not (tmp_path / "g8h_cpr").exists()  # a dry run writes nothing


def test_the_anchor_is_refused_outside_a_real_library(capsys):
    with pytest.raises(SystemExit):
        _script().main(["--strategies", "anchor", "--dry-run"])
    assert "the anchor runs on a real library" in capsys.readouterr().err


def test_an_existing_result_is_refused_before_anything_runs(tmp_path, capsys):
    taken = tmp_path / "g8h_cpr" / "round2" / "random.csv"
    taken.parent.mkdir(parents=True)
    taken.write_text("mine\n")
    assert _script().main(["--landscape", "g8h_cpr", "--strategies", "random", "--out",
                           str(tmp_path)]) == 1
    assert "random.csv exists; choose another --out" in capsys.readouterr().out
    assert taken.read_text() == "mine\n" and not (tmp_path / "g8h_cpr" / "replay").exists()


def test_the_anchor_predicts_as_the_recommender_and_differs_only_in_ties(real, compose_dbtl):
    from kinsynth.campaign.landscape import make_landscape
    from kinsynth.campaign.strategies import strategy_from_config, strategy_names

    cfg = compose_dbtl("space=g8h_cpr", "strategy=recommender")
    landscape = make_landscape(cfg)
    space, target = landscape.space, landscape.target
    built = landscape.designs.iloc[np.random.default_rng(0).choice(234, 16, replace=False)]
    measured, _, valid = landscape.build(built)
    built = built.assign(**{target: measured}, valid=valid).reset_index(drop=True)
    anchor = real.anchor_class()(space, target, seed=3)
    recommender = strategy_from_config(cfg.strategy, space, target, seed=3)
    chosen = anchor.propose(built, 8, np.random.default_rng(1))
    recommender.propose(built, 8, np.random.default_rng(1))
    unbuilt = landscape.designs.merge(built[list(space.columns)], how="left", indicator=True)
    unbuilt = unbuilt[unbuilt["_merge"] == "left_only"][list(space.columns)]
    predicted, sd = anchor.predict(unbuilt)
    np.testing.assert_allclose(predicted, recommender.score(unbuilt))  # the same model
    assert np.isnan(sd).all()
    # the anchor's batch: the first 8 of the unbuilt list by prediction, ties in list order
    order = np.argsort(-predicted, kind="stable")[:8]
    pd.testing.assert_frame_equal(chosen, unbuilt.iloc[order].reset_index(drop=True))
    assert "anchor" not in strategy_names()  # never registered outside the benchmark


def test_the_anchor_runs_as_a_campaign_and_is_forgotten_after(real, tmp_path):
    from kinsynth.campaign.strategies import strategy_names

    folder = tmp_path / "anchor"
    real.run_anchor("8+4x8", [0], folder, say=lambda line: None)
    summary = json.loads((folder / "0" / "campaign.json").read_text())
    cycles = pd.read_csv(folder / "0" / "cycles.csv")
    assert summary["strategy"] == "anchor" and 0 <= summary["top10_found"] <= 10
    assert cycles["n_built"].tolist() == [8, 16, 24, 32, 40]
    assert cycles["top10_found"].is_monotonic_increasing
    assert "anchor" not in strategy_names()


def test_the_round_2_sub_library_and_the_authors_names(real):
    table, shipped = real.measured_table()
    library = real.sub_library(table, SLOTS)
    assert len(library) == 140  # 5 G8H x 2 x 2 promoters x 7 CPR, as the authors built
    automl = real.automl_predictions(SLOTS)
    space = real.full_space(table, SLOTS)
    assert space.library_size == 1280
    for column in SLOTS:  # every abbreviated name maps onto a part of the table
        assert set(automl[column]) <= set(space.slots[column])
    round1 = real.round_designs(table, SLOTS, TARGET, [1])
    assert len(round1) == 159
    # the authors predicted exactly the designs round 1 left unbuilt
    keys = set(map(tuple, automl[SLOTS].to_numpy()))
    assert len(keys) == 1121 and not keys & set(map(tuple, round1[SLOTS].to_numpy()))
    authors, top96 = real.authors_reference()
    assert (authors["in_sub_library"], authors["built_in_round2"]) == (140, 86)
    assert top96["in_sub_library"] <= 96 and top96["built_in_round2"] <= top96["in_sub_library"]


def test_round_2_proposals_are_ranked_and_scored(real):
    proposals = real.propose_round2("anchor", [0], say=lambda line: None)
    assert len(proposals) == 1121  # every design round 1 left unbuilt, its prediction beside
    ranked = proposals[proposals["rank"].notna()].sort_values("rank")
    assert ranked["rank"].tolist() == list(range(1, 97))
    assert ranked["prediction"].is_monotonic_decreasing  # first choice: highest prediction
    scores = real.score_round2(proposals)
    assert scores["seeds"] == 1 and 0 <= scores["in_sub_library"][0] <= 96
    assert -1 <= scores["rho_library"][0] <= 1 and np.isfinite(scores["rho_batch"][0])
    random = real.score_round2(real.propose_round2("random", [0], say=lambda line: None))
    assert np.isnan(random["rho_library"][0])  # random designs predict nothing


def test_the_report_from_one_seed(real, tmp_path):
    real.run_anchor("8+4x8", [0, 1], tmp_path / "g8h_cpr" / "replay" / "8+4x8" / "anchor",
                    say=lambda line: None)
    (tmp_path / "g8h_cpr" / "round2").mkdir()
    real.propose_round2("random", [0], say=lambda line: None).to_csv(
        tmp_path / "g8h_cpr" / "round2" / "random.csv", index=False)
    text = real.write_report(tmp_path)
    assert (tmp_path / "g8h_cpr" / "g8h_cpr.md").read_text() == text
    assert (tmp_path / "g8h_cpr" / "g8h_cpr_top10.png").stat().st_size > 0
    assert "| 8+4x8 (40 builds) | anchor | 2 |" in text
    assert "| random (exact) | 0.34 | 0.68 | 1.03 | 1.37 | 1.71 |" in text
    assert "| random | 96 | 1 |" in text and "| authors' round 2 (as built) | 140 |" in text


def test_the_report_of_nothing_is_one_line(tmp_path, capsys):
    assert _script().main(["--landscape", "g8h_cpr", "--report-only", "--out",
                           str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no finished campaign" in err and err.count("\n") == 1
