"""scripts/dbtl_benchmark.py: the sweeps it runs (dry run: no campaign is simulated)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dbtl_benchmark.py"


def _script():
    spec = importlib.util.spec_from_file_location("dbtl_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_sweep_per_landscape_with_the_schedule_and_noise(tmp_path, capsys):
    assert _script().main(["--dry-run", "--schedule", "art", "--noise", "0.1", "--seeds", "0",
                           "1", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("initial_designs=16 cycles=4 designs_per_cycle=16" in line
                                   for line in lines)
    assert "strategy=random,recommender,vanlent,bo,generative seed=0,1" in lines[0]
    assert f"hydra.sweep.dir={tmp_path}/pathway_I-art-noise0.1" in lines[0]
    assert "space=vanlent_pathway_A" in lines[1] and "space=burden" in lines[2]
    assert all("noise.kind=heteroscedastic noise.level=0.1" in line for line in lines)


def test_an_existing_sweep_folder_is_refused(tmp_path, capsys):
    (tmp_path / "burden-vanlent").mkdir()
    assert _script().main(["--landscapes", "burden", "--out", str(tmp_path)]) == 1
    assert "exists; choose another --out" in capsys.readouterr().err


@pytest.mark.slow(seconds=9)  # four learners fitted, van Lent's BayesSearchCV among them
def test_the_cycle_timing_times_every_learner_alone():
    """``scripts/benchmark.py --cycles`` (scripts/bench/cycles.py), on a small built table."""
    import sys

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from bench import cycles
        from bench.report import Report
    finally:
        sys.path.remove(str(SCRIPT.parent))
    report = Report()
    cycles.run(report, lambda line: None, landscapes=("burden",), n_built=24, n=4,
               with_reference=False)
    names = [row.name for row in report.rows]
    learning = cycles.learning_strategies()
    assert {"bo", "generative", "recommender", "vanlent"} <= set(learning)
    assert "random" not in learning
    assert names == [f"burden: {s} cycle, 4 of 24 built" for s in learning] + [
        "burden: bo / recommender cycle"]
    assert all(row.value > 0 for row in report.rows)
    bo = report.rows[learning.index("bo")]
    recommender = report.rows[learning.index("recommender")]
    assert bo.target == "<= 15" and bo.passed == (bo.value <= 15) and "6 columns" in bo.note
    ratio = report.rows[-1].value
    assert ratio == pytest.approx(bo.value / recommender.value)


def test_the_vanlent2023_protocol_runs_their_schedules_noise_and_seed_counts(tmp_path, capsys):
    assert _script().main(["--protocol", "vanlent2023", "--dry-run", "--out",
                           str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # 50 + 4 x 50 in two seed groups, the other schedules in one each
    settings = ("space=vanlent_pathway_A noise.kind=homoscedastic noise.level=0.15 noise.clip=0 "
                "metrics.judge=true")
    assert all(settings in line for line in lines)
    seeds_10, seeds_30 = ",".join(map(str, range(10))), ",".join(map(str, range(30)))
    assert f"strategy=random,recommender,bo seed={seeds_10} " in lines[0]
    assert f"strategy=vanlent,generative seed={seeds_30} " in lines[1]
    assert "initial_designs=50 cycles=4 designs_per_cycle=[50,50,50,50]" in lines[1]
    assert f"seed={seeds_10} " in lines[2] and "strategy=random,recommender,vanlent,bo,gen" in \
        lines[2]
    assert "initial_designs=150 cycles=4 designs_per_cycle=[50,25,25,25]" in lines[2]
    assert "initial_designs=25 cycles=4 designs_per_cycle=[25,50,150,25]" in lines[3]
    assert _script().main(["--protocol", "vanlent2023", "--dry-run", "--quick", "--strategies",
                           "vanlent", "--out", str(tmp_path)]) == 0
    quick = capsys.readouterr().out.splitlines()
    assert len(quick) == 3 and all("strategy=vanlent seed=0 " in line for line in quick)
    assert _script().main(["--protocol", "vanlent2023", "--dry-run", "--seeds", "3", "4",
                           "--schedules", "25,25,50,150,25", "--out", str(tmp_path)]) == 0
    chosen = capsys.readouterr().out.splitlines()
    assert len(chosen) == 1 and "seed=3,4 " in chosen[0] and "designs_per_cycle=[25,50,150,25]" \
        in chosen[0]
    assert _script().main(["--protocol", "vanlent2023", "--dry-run", "--launcher", "slurm",
                           "--override", "hydra.launcher.partition=p1", "--out",
                           str(tmp_path)]) == 0
    cluster = capsys.readouterr().out.splitlines()
    assert all("hydra/launcher=slurm hydra.launcher.partition=p1 hydra.sweep.dir=" in line and
               "n_jobs" not in line for line in cluster)


def _campaign(folder: Path, strategy: str, seed: int, predicted: list[float],
              found: int) -> None:
    import json

    import pandas as pd

    folder.mkdir(parents=True)
    n = len(predicted)
    pd.DataFrame({"cycle": range(n), "n_built": [50 * (c + 1) for c in range(n)],
                  "top100_found": [0] * (n - 1) + [found], "top100_predicted": predicted,
                  "library_r2": [0.5] * n, "best_true_flux": [9.0] * n,
                  "batch_diversity": [1.0] * n, "batch_valid_fraction": [1.0] * n,
                  "cumulative_top": [1] * n, "top1_found": [0] * n}).to_csv(
        folder / "cycles.csv", index=False)
    (folder / "campaign.json").write_text(json.dumps({
        "strategy": strategy, "seed": seed, "cumulative_top": 1, "best_true_flux": 9.0,
        "strains_to_q99": None, "top100_found": found, "top1_found": 0,
        "top100_predicted": predicted[-1], "library_r2": 0.5}))


def test_the_vanlent2023_table_stands_beside_the_papers_figures(tmp_path, capsys):
    sweep = tmp_path / "vanlent2023" / "50p4x50" / "30seeds"
    _campaign(sweep / "a", "vanlent", 0, [0, 40, 60, 70, 80], 3)
    _campaign(sweep / "b", "vanlent", 1, [2, 50, 70, 80, 90], 0)
    assert _script().main(["--protocol", "vanlent2023", "--report-only", "--strategies",
                           "vanlent", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "vanlent2023" / "vanlent2023.md").read_text()
    # cycle 5 (the last): 80 and 90 -> 85 ± 7.1; one of two campaigns built a top-100 design
    assert "| 50+4x50 | vanlent | 2 | 85 ± 7.1 | 0.5 ± 0 | 1.5 ± 2.1 | 1/2 | 9 ± 0 |" in text
    assert "| 50+4x50 | paper GBR (30 runs) | 30 | 82.7 ± 6.3 |" in text
    assert "| 50+4x50 | paper RF (30 runs) | 30 | 60.9 ± 17 |" in text
    # the curve in the paper's numbering: cycle 1 is the initial library
    assert "| 50+4x50 | vanlent | 1.0 | 45.0 | 65.0 | 75.0 | 85.0 |" in text
    assert "| 50+4x50 | paper GBR (30 runs) | 44.0 | 62.3 | 72.7 | 80.0 | 82.7 |" in text
    assert (tmp_path / "vanlent2023" / "vanlent2023_curves.png").stat().st_size > 0
