"""Bring-your-own model: SBML + a range table + the flux to report."""

from __future__ import annotations

import antimony
import numpy as np
import pandas as pd
import pytest
from support import TOY_ANTIMONY

from kinsynth.simulate import SimulationError, load_model, oracle, simulate_dataset
from kinsynth.simulate.cli import check_overrides, shard_path


@pytest.fixture
def toy_files(tmp_path):
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(TOY_ANTIMONY) >= 0
    sbml = tmp_path / "toy.xml"
    sbml.write_text(antimony.getSBMLString("toy"))
    ranges = tmp_path / "ranges.csv"
    pd.DataFrame({"id": ["k_in", "vmax_out"], "low": [0.5, 0.5], "high": [1.5, 2.0]}).to_csv(
        ranges, index=False
    )
    return sbml, ranges


def test_user_sbml_and_csv_ranges(toy_files):
    sbml, ranges = toy_files
    result = simulate_dataset(200, seed=1, model=sbml, ranges=ranges, flux="J_out", workers=1)
    assert list(result.frame.columns) == ["k_in", "vmax_out", "J_out"]
    frame = result.frame
    # Steady state exists only while uptake is below capacity: flux = uptake (relative to 1).
    expected = (frame.k_in < 2 * frame.vmax_out).to_numpy()
    assert expected.all()
    failed = result.failed
    assert (failed.k_in >= 2 * failed.vmax_out).all()
    assert np.allclose(frame["J_out"], frame["k_in"], rtol=1e-6)


def test_user_model_errors(toy_files, tmp_path):
    sbml, ranges = toy_files
    with pytest.raises(SimulationError, match="range table"):
        load_model(sbml)
    with pytest.raises(SimulationError, match="flux"):
        load_model(sbml, ranges)
    with pytest.raises(SimulationError, match="no reaction"):
        load_model(sbml, ranges, flux="nope")
    with pytest.raises(SimulationError, match="cannot read model"):
        load_model(tmp_path / "missing.xml", ranges, flux="J_out")
    with pytest.raises(SimulationError, match="k_in"):
        oracle(pd.DataFrame({"vmax_out": [1.0]}), model=load_model(sbml, ranges, flux="J_out"))


def test_cli_helpers():
    assert shard_path("d/x.csv", 1, 4).name == "x.shard1of4.csv"
    assert shard_path("d/x.csv", 0, 1).name == "x.csv"
    check_overrides(["n=5", "hydra.run.dir=x", "-m", "nn=5"])  # nn=: the schema refuses it
    with pytest.raises(SimulationError, match="unknown key 'nn'"):
        check_overrides(["+nn=5"])  # Hydra's + would add it past the schema
    with pytest.raises(SimulationError, match="model_file="):
        check_overrides(["model=x.ant"])


@pytest.mark.parametrize("case", ["n=abc", "n=0", "truncated_sbml"])
def test_simulate_script_bad_input_is_one_line(toy_files, tmp_path, case):
    from support import run_cli

    sbml, ranges = toy_files
    out = tmp_path / "out.csv"
    args = [case]
    if case == "truncated_sbml":
        truncated = tmp_path / "truncated.xml"
        text = sbml.read_text()
        truncated.write_text(text[: len(text) // 2])
        args = ["n=10", f"model_file={truncated}", f"ranges={ranges}", "flux=J_out"]
    result = run_cli("scripts/simulate.py", *args, f"out={out}", "workers=1", cwd=tmp_path,
                     check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    expected = "cannot read model file" if case == "truncated_sbml" else "n="
    assert last.startswith("error: ") and expected in last, last
    assert not out.exists()
