"""A space where no design can be solved: CVODE's own [ERROR]/[WARNING] lines become one count on
kinsynth's console, and simulate.py writes no header-only CSV."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from support import run_cli

from kinsynth.simulate import load_model
from kinsynth.simulate.runner import Outcome, evaluate

# S' = k S^2 - 0.01 S blows up in finite time for the varied k: CVODE fails on every draw
BLOW_UP = """model blow()
  J_in: -> S; k * S * S;
  J_out: S -> ; 0.01 * S;
  k = 0.001; S = 1;
end
"""
RANGES = ("output: S\nobjective: time_course\ntime: 25\n"
          "parameters:\n  - {id: k, low: 100, high: 200}\n")


@pytest.fixture
def blow_up(tmp_path: Path) -> tuple[Path, Path]:
    model, ranges = tmp_path / "blow.ant", tmp_path / "ranges.yaml"
    model.write_text(BLOW_UP)
    ranges.write_text(RANGES)
    return model, ranges


@pytest.mark.parametrize("workers", [1, 2])
def test_solver_lines_are_counted_not_printed(blow_up, capfd, caplog, workers):
    spec = load_model(*blow_up)
    n = 300 if workers == 2 else 12  # two chunks: both workers solve
    folds = np.random.default_rng(0).uniform(100.0, 200.0, size=(n, 1))
    with caplog.at_level(logging.INFO, logger="kinsynth"):
        _, outcome = evaluate(spec, folds, workers=workers)
    assert (outcome == Outcome.integration_failed).all()
    printed = capfd.readouterr()
    assert "[ERROR]" not in printed.out + printed.err
    assert "[WARNING]" not in printed.out + printed.err
    (line,) = [r.getMessage() for r in caplog.records if "ODE solver reported" in r.getMessage()]
    assert f"reported {n} error(s)" in line and f"on {n} draw(s)" in line


def test_simulate_with_no_valid_draw_is_one_line_and_writes_nothing(blow_up, tmp_path):
    model, ranges = blow_up
    out = tmp_path / "sim.csv"
    result = run_cli("scripts/simulate.py", f"model_file={model}", f"ranges={ranges}", "n=6",
                     "workers=1", f"out={out}", cwd=tmp_path, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "none of the 6 draws gave a valid result (integration_failed 6)" in last
    assert not out.exists()
    assert "[ERROR]" not in result.stdout + result.stderr
