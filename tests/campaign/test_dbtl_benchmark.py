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
