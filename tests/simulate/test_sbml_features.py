"""SBML as published: kinetic-law parameters, conserved moieties, rules, events, time courses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinsynth.simulate import SimulationError, load_model, oracle, simulate_dataset
from kinsynth.simulate.compile import compile_model
from kinsynth.simulate.runner import Simulator, has_conservation_laws

MODELS = Path(__file__).parent / "models"
COFACTOR = MODELS / "cofactor_local.xml"


def _ranges(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ranges.yaml"
    path.write_text(text)
    return path


def _antimony(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.ant"
    path.write_text(text)
    return path


def test_local_parameters_and_conserved_moiety():
    """Both range-id spellings reach the kinetic-law parameters; NAD + NADH is conserved."""
    spec = load_model(COFACTOR, MODELS / "cofactor_local_ranges.yaml")
    assert spec.parameter_ids == ["vIN_kin", "vOX_rmaxOX"] and spec.columns == ["kin", "rmaxOX"]
    result = simulate_dataset(40, seed=3, model=spec, workers=1)
    assert result.n_failed == 0
    frame = result.frame
    # steady state: vOX = vIN = kin, so NADH = kmX kin / (rmaxOX - kin); reference NADH = 1/3
    expected = frame["kin"] / (4 * frame["rmaxOX"] - frame["kin"]) / (1 / 3)
    assert np.allclose(frame["NADH"], expected, rtol=1e-8)


def test_conserved_moiety_model_uses_the_reduced_system():
    spec = load_model(COFACTOR, MODELS / "cofactor_local_ranges.yaml")
    simulator = Simulator(spec)
    assert simulator.conserved
    ids = list(simulator.model.getFloatingSpeciesIds())
    state = simulator.model.getFloatingSpeciesConcentrations()
    assert state[ids.index("NAD")] + state[ids.index("NADH")] == pytest.approx(2.0, rel=1e-10)
    # stability is judged on the reduced Jacobian: one fewer row than species
    assert simulator._jacobian().shape == (len(ids) - 1, len(ids) - 1)


def test_pathway_I_keeps_the_full_system_path(spec):
    assert not has_conservation_laws(compile_model(spec.sbml))


def test_unknown_range_id_lists_near_matches(tmp_path):
    ranges = _ranges(tmp_path, "flux: vDH\nparameters:\n  - {id: vOX.rmaxOx, low: 0.5, high: 2}\n")
    with pytest.raises(SimulationError, match=r"'vOX.rmaxOx'.*nearest: vOX_rmaxOX") as info:
        load_model(COFACTOR, ranges)
    assert "\n" not in str(info.value)


def test_assignment_rule_model(tmp_path):
    """A capacity computed by an assignment rule: varying what the rule reads works."""
    model = _antimony(tmp_path, """
model rule()
  J_in:  -> S;  k_in;
  J_out: S -> ; vmax_eff * S / (km + S);
  vmax_eff := vmax_out * copies;
  k_in = 1; vmax_out = 1; copies = 2; km = 1; S = 1;
end
""")
    ranges = _ranges(tmp_path, "output: S\nparameters:\n  - {id: vmax_out, low: 0.6, high: 2}\n")
    designs = pd.DataFrame({"vmax_out": [0.75, 1.0, 1.5]})
    got = oracle(designs, model=load_model(model, ranges), workers=1)
    # S* = km k_in / (vmax_eff - k_in), relative to the reference S* = 1
    expected = 1 / (2 * designs["vmax_out"] - 1)
    assert got["valid"].all() and np.allclose(got["flux"], expected, rtol=1e-8)
    ruled = _ranges(tmp_path, "output: S\nparameters:\n  - {id: vmax_eff, low: 0.6, high: 2}\n")
    with pytest.raises(SimulationError, match="vmax_eff, which a assignment rule sets"):
        load_model(model, ruled)


@pytest.mark.parametrize("construct, text, message", [
    ("event", "at time > 1: k_in = 2;", "has events"),
    ("rate rule", "k_in' = 0.1;", "vmax_out, which a rate rule sets"),
])
def test_constructs_the_simulator_cannot_honour(tmp_path, construct, text, message):
    varied = "k_in" if construct == "event" else "vmax_out"
    body = text if construct == "event" else "vmax_out' = 0.1;"
    model = _antimony(tmp_path, f"""
model m()
  J_in:  -> S;  k_in;
  J_out: S -> ; vmax_out * S / (km + S);
  k_in = 1; vmax_out = 2; km = 1; S = 1;
  {body}
end
""")
    row = f"  - {{id: {varied}, low: 0.5, high: 2}}\n"
    ranges = _ranges(tmp_path, "flux: J_out\nparameters:\n" + row)
    with pytest.raises(SimulationError, match=message) as info:
        load_model(model, ranges)
    assert "\n" not in str(info.value)


def test_time_course_objective_matches_the_analytic_solution(tmp_path):
    """dS/dt = k_in - k_out S, S(0) = 1/2: S(t) = k_in/k_out + (1/2 - k_in/k_out) e^(-k_out t)."""
    model = _antimony(tmp_path, """
model linear()
  J_in:  -> S;  k_in;
  J_out: S -> ; k_out * S;
  k_in = 1; k_out = 1; S = 0.5;
end
""")
    table = "parameters:\n  - {id: k_in, low: 0.5, high: 2}\n  - {id: k_out, low: 0.5, high: 2}\n"
    ranges = _ranges(tmp_path, "objective: time_course\ntime: 1.5\n" + table)
    designs = pd.DataFrame({"k_in": [0.5, 1.0, 2.0], "k_out": [2.0, 1.0, 0.5]})

    def s_at(k_in, k_out, t=1.5):
        return k_in / k_out + (0.5 - k_in / k_out) * np.exp(-k_out * t)

    reference = s_at(1.0, 1.0)
    species = oracle(designs, model=load_model(model, ranges, output="S"), workers=1)
    assert np.allclose(species["flux"], s_at(designs.k_in, designs.k_out) / reference, rtol=1e-5)
    flux = oracle(designs, model=load_model(model, ranges, output="J_out"), workers=1)
    expected = designs.k_out * s_at(designs.k_in, designs.k_out) / reference
    assert np.allclose(flux["flux"], expected, rtol=1e-5)
    # the same model at steady state: S* = k_in / k_out
    steady = oracle(designs, model=load_model(model, ranges, output="S",
                                              objective="steady_state"), workers=1)
    assert np.allclose(steady["flux"], designs.k_in / designs.k_out, rtol=1e-8)


def test_time_course_needs_an_end_time(tmp_path):
    model = _antimony(tmp_path, "model m()\n  J: -> S; k; k = 1; S = 1;\nend\n")
    ranges = _ranges(tmp_path, "output: S\nparameters:\n  - {id: k, low: 0.5, high: 2}\n")
    with pytest.raises(SimulationError, match="needs an end time"):
        load_model(model, ranges, objective="time_course")
