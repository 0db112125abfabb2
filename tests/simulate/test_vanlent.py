"""van Lent et al.'s pathway A, shipped converted: wild type, its rate laws, the published max."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from kinsynth.simulate import load_model, oracle
from kinsynth.simulate.compile import compile_model
from kinsynth.simulate.skimpy import sbml_id

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
UPSTREAM = SHARED / "data/vanlent/shiki_pathway_testmodel.yml"
needs_upstream = pytest.mark.skipif(not UPSTREAM.is_file(), reason=f"{UPSTREAM} is absent")

#: the published library maximum: their notebook prints max - 0.0001 = 10.734636628589437
PUBLISHED_MAX = 10.734636628589437 + 0.0001


@pytest.fixture(scope="module")
def spec():
    return load_model("vanlent_pathway_A")


def test_named_model_carries_its_design_and_objective(spec):
    assert spec.columns == [f"vmax_forward_Enzyme_{c}" for c in "ABCDEFG"]
    assert spec.objective == "time_course" and spec.time == 25 and spec.flux == "Enzyme_G"
    assert spec.levels == (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
    assert spec.output_parameters == "wild_type"


def test_wild_type_and_the_published_maximum(spec):
    designs = pd.DataFrame([[1.0] * 7, [4, 4, 4, 4, 4, 4, 0.25]], columns=spec.columns)
    got = oracle(designs, model=spec, workers=1)
    assert got["valid"].all()
    assert got["flux"].iloc[0] == pytest.approx(1.0, abs=1e-12)
    # their argmax design (A..F at 4, G at 0.25) reaches their maximum
    assert got["flux"].iloc[1] == pytest.approx(PUBLISHED_MAX, rel=1e-5)


def _skimpy_rate(reaction: dict, name: str, c: dict, p: dict) -> float:
    """SKiMpy's QSSA rate law of one reaction, evaluated directly from the YAML (numbers, no
    Antimony), for every mechanism pathway A uses and both small-molecule modifiers."""
    mech = reaction["mechanism"]
    cls = mech["class"]

    def par(kind):
        return p[f"{kind}_{name}"]

    def roles(prefix):
        found = [r for r in mech if r.startswith(prefix) and r != "mechanism_stoichiometry"]
        return sorted(found, key=lambda r: int(r[len(prefix):] or 0))

    stoich = mech.get("mechanism_stoichiometry", {})
    vmax = par("vmax_forward")
    if cls == "ReversibleMichaelisMenten":
        s, q = c[mech["substrate"]], c[mech["product"]]
        den = 1 + s / par("km_substrate") + q / par("km_product")
        fwd = vmax * s / par("km_substrate") / den
        bwd = vmax / par("k_equilibrium") * q / par("km_substrate") / den
    elif cls == "IrrevMichaelisMenten":
        fwd = vmax * np.prod([c[mech[r]] / (c[mech[r]] + par("km_" + r))
                              for r in roles("substrate")])
        bwd = 0.0
    elif cls == "Convenience":
        sub, prod, fwd, bwd = 1.0, 1.0, vmax, vmax / par("k_equilibrium")
        for r in roles("substrate"):
            x, n = c[mech[r]] / par("km_" + r), abs(stoich[r])
            sub *= sum(x ** a for a in range(int(n) + 1))
            fwd *= x ** n
            bwd *= par("km_" + r) ** -n
        for r in roles("product"):
            x, n = c[mech[r]] / par("km_" + r), abs(stoich[r])
            prod *= sum(x ** a for a in range(int(n) + 1))
            bwd *= c[mech[r]] ** n
        fwd, bwd = fwd / (sub + prod - 1), bwd / (sub + prod - 1)
    elif cls == "H1GeneralizedReversibleHill":
        subs, prods = roles("substrate"), roles("product")
        den = np.prod([1 + c[mech[s]] / par("km_" + s) + c[mech[q]] / par("km_" + q)
                       for s, q in zip(subs, prods, strict=False)])
        fwd = vmax * np.prod([c[mech[s]] / par("km_" + s) for s in subs]) / den
        bwd = (vmax / par("k_equilibrium") * np.prod([1 / par("km_" + s) for s in subs])
               * np.prod([c[mech[q]] for q in prods]) / den)
    elif cls == "UniBiReversibleHill":
        s, p1, p2 = c[mech["substrate"]], c[mech["product1"]], c[mech["product2"]]
        ks, k1, k2, h = par("km_substrate"), par("km_product1"), par("km_product2"), \
            par("hill_coefficient")
        effect = (s / ks + p1 / k1 * p2 / k2) ** (h - 1)
        den = (1 + (s / ks + p1 / k1) ** h + (s / ks + p2 / k2) ** h
               + (s / ks + p1 / k1 * p2 / k2) ** h - 2 * s / ks ** h)
        fwd = vmax * s / ks * effect / den
        bwd = vmax / (par("k_equilibrium") * ks) * p1 * p2 * effect / den
    elif cls == "BiUniReversibleHill":
        s1, s2, q = c[mech["substrate1"]], c[mech["substrate2"]], c[mech["product"]]
        k1, k2, kp, h = par("km_substrate1"), par("km_substrate2"), par("km_product"), \
            par("hill_coefficient")
        effect = (s1 / k1 * s2 / k2 + q / kp) ** (h - 1)
        den = (1 + (s1 / k1 + q / kp) ** h + (s2 / k2 + q / kp) ** h
               + (s1 / k1 * s2 / k2 + q / kp) ** h - 2 * q / kp ** h)
        fwd = vmax * s1 / k1 * s2 / k2 * effect / den
        bwd = vmax / (par("k_equilibrium") * k1 * k2) * q * effect / den
    else:
        raise AssertionError(f"{name}: mechanism {cls} not covered by this test")
    for mod in (reaction.get("modifiers") or {}).values():
        n = mod["mechanism_stoichiometry"]["small_molecule"]
        x = c[mod["small_molecule"]]
        if mod["class"] == "DisplacementSmallMoleculeModifier" or n > 0:
            bwd = bwd * x ** n if bwd else 0.0
        elif n < 0:
            fwd = fwd * x ** -n
    return fwd - bwd


@pytest.mark.reference
@needs_upstream
def test_reference_rates_equal_skimpys_rate_laws(spec):
    doc = yaml.safe_load(UPSTREAM.read_text())
    params = {k: v for k, v in doc["parameters"].items() if v is not None}
    state = {**doc["initial_conditions"], **{b["reactant"]: params[b["reactant"]]
                                             for b in doc["boundary_conditions"].values()}}
    rr = compile_model(spec.sbml)
    got = dict(zip(rr.model.getReactionIds(), rr.model.getReactionRates(), strict=True))
    assert len(got) == len(doc["reactions"]) == 72
    for name, reaction in doc["reactions"].items():
        expected = _skimpy_rate(reaction, name, state, params)
        assert got[sbml_id(name)] == pytest.approx(expected, rel=1e-9, abs=1e-9), name


def test_reference_state_is_near_a_steady_state(spec):
    """The reference (the YAML's initial state) is a steady state to ~6e-5 relative: h_c moves
    most, at 5.7e-5 of its concentration per time unit."""
    rr = compile_model(spec.sbml)
    x = rr.model.getFloatingSpeciesConcentrations()
    rates = rr.model.getFloatingSpeciesConcentrationRates()
    assert np.max(np.abs(rates) / x) < 1e-4


@pytest.mark.slow(seconds=3)
def test_a_campaign_on_pathway_A(tmp_path):
    """dbtl.py space=vanlent_pathway_A: the named model's library, objective and flux column."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from kinsynth.campaign import run_campaign

    conf = Path(__file__).resolve().parents[2] / "conf"
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        cfg = compose("dbtl", overrides=["space=vanlent_pathway_A", "strategy=random",
                                         "initial_designs=6", "cycles=1", "designs_per_cycle=4",
                                         "pool.n=100",  # the pool's minimum
                                         "metrics.judge=false"])  # tested in tests/campaign
    cfg = OmegaConf.to_container(cfg, resolve=False)
    cfg["pool"]["cache_dir"] = str(tmp_path / "pool_cache")
    cfg.pop("hydra", None)
    table = run_campaign(OmegaConf.create(cfg), tmp_path / "run")
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert table["n_built"].iloc[-1] == 10
    # the shipped library gives the exact top 100; 10 random designs hardly ever hold one of them
    assert table["top100_found"].iloc[-1] in (0, 1)
    assert list(built.columns[:8]) == [f"vmax_forward_Enzyme_{c}" for c in "ABCDEFG"] + \
        ["Enzyme_G"]
    levels = {0.25, 0.5, 1.0, 1.5, 2.0, 4.0}
    assert set(np.unique(built.iloc[:, :7].to_numpy())) <= levels
    again = oracle(built.iloc[:3, :7], model="vanlent_pathway_A", workers=1)
    np.testing.assert_allclose(built["Enzyme_G"].iloc[:3], again["flux"], rtol=1e-5)


@pytest.mark.reference
@needs_upstream
def test_the_shipped_conversion_is_the_readers_output():
    from importlib import resources

    from kinsynth.simulate.skimpy import read_skimpy

    shipped = resources.files("kinsynth.simulate").joinpath("models", "vanlent_pathway_A.ant")
    text = shipped.read_text()
    assert "MIT License" in text and "Copyright (c) 2023 AbeelLab" in text
    body = text[text.index("// Converted from a SKiMpy model"):]
    assert body == read_skimpy(UPSTREAM)


def test_the_shipped_library(spec):
    """The whole 279,936-design library ships with the model: exact top designs, no simulation."""
    from kinsynth.simulate.library import shipped_library

    library = shipped_library(spec)
    if library is None:
        pytest.skip("vanlent_pathway_A_library.npz is not shipped (enumeration not finished)")
    assert len(library.flux) == 6 ** 7 and library.codes.dtype == np.uint8
    top = library.top(100)
    assert top["flux"].iloc[0] == pytest.approx(PUBLISHED_MAX, rel=0.02)
    assert top.iloc[0, :7].tolist() == [4, 4, 4, 4, 4, 4, 0.25]
    wild_type = pd.DataFrame([[1.0] * 7], columns=spec.columns)
    assert library.lookup(wild_type)[0] == pytest.approx(1.0, abs=1e-9)
    # a few entries simulated again agree with the file
    sample = library.designs().sample(3, random_state=1)
    again = oracle(sample, model=spec, workers=1)["flux"].to_numpy()
    np.testing.assert_allclose(library.lookup(sample), again, rtol=1e-9, equal_nan=True)
