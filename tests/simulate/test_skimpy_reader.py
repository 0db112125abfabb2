"""The SKiMpy reader: every supported mechanism's rate, as SKiMpy's QSSA rate laws define it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kinsynth.simulate import SimulationError, load_model
from kinsynth.simulate.compile import compile_model
from kinsynth.simulate.model import read_model
from kinsynth.simulate.skimpy import skimpy_to_antimony

YAML = Path(__file__).parent / "models" / "skimpy_all_mechanisms.yml"


def _doc() -> dict:
    return yaml.safe_load(YAML.read_text())


def _hand_rates(c: dict, p: dict) -> dict[str, float]:
    """Each rate law written out by hand from SKiMpy's definitions (v_fwd - v_bwd)."""
    A, B, C, D, E, h, X = (c[k] for k in ("A_c", "B_c", "C_c", "D_c", "E_c", "h_c", "X_c"))
    rates = {}
    # ReversibleMichaelisMenten: (V s/Ks - V/Keq p/Ks) / (1 + s/Ks + p/Kp)
    den = 1 + A / p["km_substrate_RMM"] + B / p["km_product_RMM"]
    rates["RMM"] = (p["vmax_forward_RMM"] * A / p["km_substrate_RMM"]
                    - p["vmax_forward_RMM"] / p["k_equilibrium_RMM"] * B / p["km_substrate_RMM"]
                    ) / den
    # IrrevMichaelisMenten: V prod s/(s + Ks) (stoichiometry only in the mass balance),
    # FirstOrderSmallMoleculeModifier with stoichiometry -1 multiplies v_fwd by h
    rates["IMM"] = (p["vmax_forward_IMM"] * B / (B + p["km_substrate1_IMM"])
                    * C / (C + p["km_substrate2_IMM"]) * h)
    # Convenience, D -> 2 E: den = (1 + d) + (1 + e + e^2) - 1; v_bwd = V/Keq Ks^-1 E^2
    d, e = D / p["km_substrate1_CONV"], E / p["km_product1_CONV"]
    den = (1 + d) + (1 + e + e ** 2) - 1
    rates["CONV"] = (p["vmax_forward_CONV"] * d
                     - p["vmax_forward_CONV"] / p["k_equilibrium_CONV"]
                     / p["km_substrate1_CONV"] * E ** 2) / den
    # H1GeneralizedReversibleHill, E + B <-> A + C: pairs (E, A), (B, C) in the denominator;
    # DisplacementSmallMoleculeModifier (stoichiometry 1) multiplies v_bwd by h
    den = ((1 + E / p["km_substrate1_H1"] + A / p["km_product1_H1"])
           * (1 + B / p["km_substrate2_H1"] + C / p["km_product2_H1"]))
    fwd = p["vmax_forward_H1"] * E / p["km_substrate1_H1"] * B / p["km_substrate2_H1"] / den
    bwd = (p["vmax_forward_H1"] / p["k_equilibrium_H1"] / p["km_substrate1_H1"]
           / p["km_substrate2_H1"] * A * C / den * h)
    rates["H1"] = fwd - bwd
    # UniBiReversibleHill, C <-> A + X, Hill coefficient n; the last term is 2 s / Ks^n
    s, a, x, n = C / p["km_substrate_UB"], A / p["km_product1_UB"], X / p["km_product2_UB"], \
        p["hill_coefficient_UB"]
    effect = (s + a * x) ** (n - 1)
    den = 1 + (s + a) ** n + (s + x) ** n + (s + a * x) ** n - 2 * C / p["km_substrate_UB"] ** n
    rates["UB"] = (p["vmax_forward_UB"] * s * effect
                   - p["vmax_forward_UB"] / (p["k_equilibrium_UB"] * p["km_substrate_UB"])
                   * A * X * effect) / den
    # BiUniReversibleHill, A + B <-> D; the last term is 2 p / Kp^n
    s1, s2, q, n = A / p["km_substrate1_BU"], B / p["km_substrate2_BU"], \
        D / p["km_product_BU"], p["hill_coefficient_BU"]
    effect = (s1 * s2 + q) ** (n - 1)
    den = 1 + (s1 + q) ** n + (s2 + q) ** n + (s1 * s2 + q) ** n - 2 * D / p["km_product_BU"] ** n
    rates["BU"] = (p["vmax_forward_BU"] * s1 * s2 * effect
                   - p["vmax_forward_BU"] / (p["k_equilibrium_BU"] * p["km_substrate1_BU"]
                                             * p["km_substrate2_BU"]) * D * effect) / den
    return rates


def test_every_mechanism_matches_the_hand_written_rate_law():
    doc = _doc()
    rr = compile_model(read_model(YAML))
    got = dict(zip(rr.model.getReactionIds(), rr.model.getReactionRates(), strict=True))
    expected = _hand_rates(doc["initial_conditions"], doc["parameters"])
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-12), name
    # mass balance: IMM takes 2 C, CONV makes 2 E, the modifier's h follows its stoichiometry
    rates = dict(zip(rr.model.getFloatingSpeciesIds(),
                     rr.model.getFloatingSpeciesConcentrationRates(), strict=True))
    assert rates["C_c"] == pytest.approx(-2 * got["IMM"] + got["H1"] - got["UB"], rel=1e-12)
    assert rates["E_c"] == pytest.approx(2 * got["CONV"] - got["H1"], rel=1e-12)
    assert rates["h_c"] == pytest.approx(-got["IMM"] + got["H1"], rel=1e-12)
    assert "X_c" not in rates  # held constant by its boundary condition


def test_a_skimpy_yaml_is_a_model_file(tmp_path):
    ranges = tmp_path / "ranges.yaml"
    ranges.write_text("flux: BU\nobjective: time_course\ntime: 0.5\nparameters:\n"
                      "  - {id: vmax_forward_RMM, low: 0.5, high: 2}\n")
    spec = load_model(YAML, ranges)
    assert spec.flux == "BU" and spec.objective == "time_course"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["reactions"]["RMM"]["mechanism"].update({"class": "OrderedBiBi"}),
     "reaction RMM uses mechanism OrderedBiBi"),
    (lambda d: d["reactions"]["IMM"]["modifiers"]["FOSM__h_c"].update(
        {"class": "InhibitionModifier"}), "reaction IMM uses modifier InhibitionModifier"),
    (lambda d: d["parameters"].pop("km_product1_UB"),
     "reaction UB (UniBiReversibleHill) needs parameter km_product1_UB"),
])
def test_bad_skimpy_yaml_is_one_line(edit, message):
    doc = _doc()
    edit(doc)
    with pytest.raises(SimulationError, match=re.escape(message)) as info:
        skimpy_to_antimony(doc, "model.yml")
    assert "\n" not in str(info.value)


def test_yaml_that_is_no_skimpy_model(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("- just a list\n")
    with pytest.raises(SimulationError, match="expected a SKiMpy model"):
        read_model(path)
