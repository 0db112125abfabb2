"""scripts/dbtl_report.py on a measured landscape: its true top is 10 designs (``top10_found``),
reported beside random's exact expectation, not as an empty ``top100_found``."""

from __future__ import annotations

import json

import pytest

from kinsynth.campaign.loop import run_campaign
from kinsynth.campaign.report import found_column, write_report
from kinsynth.core.errors import KinsynthError


def test_the_count_is_named_by_its_expectation_beside_it():
    assert found_column(["top1_found", "top10_found", "random_top10_found"]) == "top10_found"
    assert found_column(["top1_found", "top100_found", "random_top100_found"]) == "top100_found"
    assert found_column(["top1_found", "top100_found"]) == "top100_found"
    assert found_column(["top1_found", "cumulative_top"]) is None  # top 1 % is another figure


def test_the_report_counts_the_top_10_of_a_measured_table(compose_dbtl, tmp_path):
    finals = {}
    for strategy, seed in (("random", 0), ("random", 1), ("recommender", 0)):
        cfg = compose_dbtl("space=g8h_cpr", f"strategy={strategy}", f"seed={seed}",
                           "initial_designs=8", "cycles=2", "designs_per_cycle=8")
        run = tmp_path / "sweep" / f"{strategy}{seed}"
        run_campaign(cfg, run)
        finals[(strategy, seed)] = json.loads((run / "campaign.json").read_text())["top10_found"]
    lines = write_report([tmp_path / "sweep"], tmp_path / "report").splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert "top10_found" in header and "random_top10_found" in header
    assert "top100_found" not in header
    random_row = [c.strip() for c in lines[2].strip("|").split("|")]
    recommender_row = [c.strip() for c in lines[3].strip("|").split("|")]
    found, expected = header.index("top10_found"), header.index("random_top10_found")
    mean = (finals[("random", 0)] + finals[("random", 1)]) / 2
    assert float(random_row[found].split(" ± ")[0]) == pytest.approx(mean, abs=0.01)
    assert recommender_row[found] == str(finals[("recommender", 0)])
    assert random_row[expected] == f"{10 * 24 / 234:.3g}"  # exact: a number, no spread
    assert lines[-1].startswith("top10_found: distinct designs of the landscape's true top 10")
    assert (tmp_path / "report" / "dbtl_cumulative_top.png").stat().st_size > 0


def test_a_summary_without_any_top_count_is_one_line(tmp_path):
    run = tmp_path / "sweep" / "0"
    run.mkdir(parents=True)
    (run / "campaign.json").write_text(json.dumps({
        "strategy": "random", "seed": 0, "cumulative_top": 1, "best_true_flux": 1.0,
        "strains_to_q99": None}))
    (run / "cycles.csv").write_text("cycle,n_built,cumulative_top,batch_diversity,"
                                    "batch_valid_fraction\n0,8,1,0.5,1\n")
    with pytest.raises(KinsynthError) as error:
        write_report([tmp_path / "sweep"], tmp_path / "report")
    assert "lacks top100_found (or top{k}_found with random_top{k}_found)" in str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "report" / "dbtl_report.md").exists()
