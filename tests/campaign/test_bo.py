"""Batch Bayesian optimisation and van Lent's own recommender as campaign strategies, and the
top1_found / simple-regret columns."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from support import TOY_ANTIMONY, run_cli
from support import compose_dbtl as compose

from kinsynth.campaign import propose_from_table, run_campaign
from kinsynth.campaign.loop import _cycle_row, landscape_maximum
from kinsynth.campaign.pool import ReferencePool
from kinsynth.campaign.propose import plate_columns
from kinsynth.campaign.space import DesignSpace, design_keys
from kinsynth.campaign.strategies import make_strategy
from kinsynth.campaign.strategies.bo import BayesOptStrategy
from kinsynth.campaign.strategies.vanlent import level_distributions
from kinsynth.core.errors import KinsynthError
from kinsynth.simulate.model import load_model

SHORT = ["initial_designs=8", "cycles=2", "designs_per_cycle=8", "pool.n=300"]
FAST = {"bo": ["strategy.pool_size=200", "strategy.prescreen=3", "strategy.mc_samples=16"],
        "vanlent": ["strategy.pool_size=200", "strategy.search_iterations=2",
                    "strategy.cv_folds=3", "strategy.n_thresholds=20"]}
SPACES = {
    "continuous": [],
    # 19 columns at up to 5 levels: far too many to enumerate, so a pool is drawn and snapped
    "library": ["space.levels=[0.5,0.75,1,1.5,2]"],
    # 5 x 5 x 5 = 125 designs: enumerated whole (bo: optimize_acqf_discrete over all of it)
    "enumerated": ["space.levels=[0.5,0.75,1,1.5,2]",
                   "space.vary=[vmax_forward_Enz_A,vmax_forward_TKT2,km_substrate1_Enz_A]",
                   "metrics.judge=false"],  # the judge has its own tests
}


@pytest.fixture(scope="module")
def spec():
    return load_model()


@pytest.mark.parametrize("kind", list(SPACES))
@pytest.mark.parametrize("strategy", ["bo", "vanlent"])
def test_a_short_campaign(tmp_path, spec, strategy, kind):
    cfg = compose(tmp_path, f"strategy={strategy}", *SHORT, *FAST[strategy], *SPACES[kind])
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["n_built"]) == [8, 16, 24]
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert len(set(design_keys(built, spec.columns))) == 24  # never one design twice
    if kind != "continuous":
        space = DesignSpace.from_spec(spec, [0.5, 0.75, 1, 1.5, 2],
                                      None if kind == "library" else
                                      ["vmax_forward_Enz_A", "vmax_forward_TKT2",
                                       "km_substrate1_Enz_A"])
        for j, column in enumerate(spec.columns):
            assert set(built[column]) <= set(space.column_levels(j))
    assert table["top1_found"].is_monotonic_increasing
    assert (table["top1_found"] <= table["cumulative_top"]).all()  # q99 above q95
    assert (table["simple_regret"] >= 0).all() and table["simple_regret"].is_monotonic_decreasing
    summary = json.loads((tmp_path / "run" / "campaign.json").read_text())
    assert summary["landscape_max_exact"] == (kind == "enumerated")
    assert summary["simple_regret"] == pytest.approx(
        summary["landscape_max"] - summary["best_true_flux"])


def test_bo_proposes_nothing_built_and_nothing_twice(spec):
    space = DesignSpace.from_spec(spec, [0.5, 1, 2], ["vmax_forward_Enz_A", "vmax_forward_TKT2",
                                                      "km_substrate1_Enz_A"])
    rng = np.random.default_rng(0)
    built = space.sample(12, rng).drop_duplicates()
    # a smooth flux with its best at Enz_A = 2: what BO wants most is mostly built already
    built = built.assign(Product_I=np.log(built["vmax_forward_Enz_A"]) + 1.0, valid=True)
    strategy = BayesOptStrategy(space, "Product_I", mc_samples=16)
    candidates = pd.concat([built[list(space.columns)]] * 2 + [space.sample(40, rng)])
    strategy.fit(built, rng)
    batch = strategy.pick(built, candidates, 10)
    keys = design_keys(batch, space.columns)
    assert len(batch) == min(10, 27 - len(built)) and len(set(keys)) == len(keys)
    assert not set(keys) & set(design_keys(built, space.columns))
    # the enumerated library: 27 designs; asking for all that are left gives exactly those
    rest = strategy.propose(built, 27 - len(built), rng)
    assert set(design_keys(rest, space.columns)) | set(design_keys(built, space.columns)) == \
        set(design_keys(space.enumerate(), space.columns))


def test_bo_with_the_continuous_optimizer(spec):
    space = DesignSpace.from_spec(spec, None, ["vmax_forward_Enz_A", "vmax_forward_TKT2"])
    rng = np.random.default_rng(1)
    built = space.sample(10, rng)
    built = built.assign(Product_I=-np.log(built["vmax_forward_Enz_A"] / 1.5) ** 2, valid=True)
    strategy = BayesOptStrategy(space, "Product_I", optimizer="continuous", mc_samples=16,
                                num_restarts=2, raw_samples=32)
    batch = strategy.propose(built, 4, rng)
    assert len(batch) == 4 and len(set(design_keys(batch, space.columns))) == 4
    assert ((batch[list(space.columns)] >= space.lows) & (batch[list(space.columns)] <=
                                                         space.highs)).all().all()


def test_bo_bad_input_is_one_line(spec):
    space = DesignSpace.from_spec(spec)
    with pytest.raises(KinsynthError, match=r"strategy.optimizer='newton': expected one of"):
        make_strategy("bo", space, "Product_I", 0, {"optimizer": "newton"})
    built = space.sample(5, np.random.default_rng(0)).assign(
        Product_I=[1.0, 1.1, np.nan, np.nan, np.nan], valid=[True, True, False, False, False])
    message = r"^strategy=bo needs at least 3 built design\(s\) with a measured Product_I; got 2$"
    with pytest.raises(KinsynthError, match=message):
        make_strategy("bo", space, "Product_I", 0, {}).propose(built, 4,
                                                               np.random.default_rng(0))


def test_bo_bad_input_on_the_command_line(tmp_path):
    result = run_cli("dbtl.py", "strategy=bo", "strategy.optimizer=newton", *SHORT,
                     cwd=tmp_path, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "strategy.optimizer" in line]
    assert len(errors) == 1 and "expected one of ['discrete', 'continuous']" in errors[0]


def test_step_propose_with_bo_on_a_labs_table(tmp_path, spec):
    varied = ["vmax_forward_Enz_A", "vmax_forward_TKT2", "km_substrate1_Enz_A"]
    rng = np.random.default_rng(4)
    lab = pd.DataFrame(rng.choice([0.5, 0.75, 1, 1.5, 2], size=(30, 3)), columns=varied)
    lab = lab.drop_duplicates()
    lab["Product_I"] = rng.uniform(0.3, 1.5, len(lab))
    lab.loc[lab.index[:3], "Product_I"] = np.nan  # strains that did not produce
    lab.to_csv(tmp_path / "lab.csv", index=False)
    out = tmp_path / "plate.csv"
    cfg = compose(tmp_path, "step=propose", "strategy=bo", "strategy.mc_samples=16",
                  "space.levels=[0.5,0.75,1,1.5,2]", f"space.vary=[{','.join(varied)}]",
                  f"data.path={tmp_path / 'lab.csv'}", f"out={out}", "designs_per_cycle=8")
    propose_from_table(cfg)
    plate = pd.read_csv(out)
    assert len(plate) == 8 and list(plate.columns) == [*spec.columns, *plate_columns("Product_I")]
    plate = plate[spec.columns]
    assert (plate.drop(columns=varied) == 1.0).all().all()
    keys = design_keys(plate[varied], varied)
    assert len(set(keys)) == 8 and not set(keys) & set(design_keys(lab, varied))


def test_top1_found_and_simple_regret_by_hand():
    # a pool of 100 designs with fluxes 0.01 .. 1.00: q95 = 0.9505, q99 = 0.9901 (linear
    # interpolation); the best of the pool is 1.00
    pool_flux = np.arange(1, 101) / 100
    pool = ReferencePool(pool_flux, float(np.quantile(pool_flux, 0.95)),
                         float(np.quantile(pool_flux, 0.99)), True)
    assert (pool.q95, pool.q99) == pytest.approx((0.9505, 0.9901))
    space = DesignSpace(("a", "b"), np.array([0.5, 0.5]), np.array([2.0, 2.0]))
    built = pd.DataFrame({"a": [1.0, 1.1, 1.2, 1.3, 1.4], "b": 1.0,
                          "true_flux": [0.96, 0.995, 1.02, np.nan, 0.5],
                          "valid": [True, True, True, False, True]})
    built["Product_I"] = built["true_flux"]
    landscape = SimpleNamespace(space=space, target="Product_I", top_k=100)
    row = _cycle_row(1, built, built, pool, landscape, None)
    assert row["cumulative_top"] == 3  # 0.96, 0.995, 1.02 > 0.9505
    assert row["top1_found"] == 2      # 0.995, 1.02 > 0.9901
    # the landscape's best known flux: the pool's 1.00 or a built 1.02, whichever is higher
    assert landscape_maximum(pool.flux, built["true_flux"]) == 1.02
    assert landscape_maximum(pool.flux, built["true_flux"].iloc[:2]) == 1.00
    assert landscape_maximum(pool.flux, built["true_flux"], library_max=1.3) == 1.3


def test_simple_regret_on_an_enumerated_toy_library(tmp_path):
    # toy: flux = k_in relative to its reference when uptake stays below capacity
    # (k_in < 2 vmax_out); over the levels 0.5, 1, 1.5 the library's exact best is 1.5
    (tmp_path / "toy.ant").write_text(TOY_ANTIMONY)
    (tmp_path / "ranges.csv").write_text(
        "id,low,high\nk_in,0.5,1.5\nvmax_out,0.5,2.0\nkm_out,0.5,2.0\n")
    cfg = compose(tmp_path, "strategy=random", "initial_designs=3", "cycles=1",
                  "designs_per_cycle=3", "pool.n=200", "space.levels=[0.5,1,1.5]",
                  "metrics.judge=false",
                  f"space.model_file={tmp_path}/toy.ant", f"space.ranges={tmp_path}/ranges.csv",
                  "space.flux=J_out")
    table = run_campaign(cfg, tmp_path / "run")
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    best = [built.loc[built["cycle"] <= c, "J_out"].max() for c in (0, 1)]
    np.testing.assert_allclose(table["simple_regret"], 1.5 - np.array(best), atol=1e-6)
    summary = json.loads((tmp_path / "run" / "campaign.json").read_text())
    assert summary["landscape_max"] == pytest.approx(1.5) and summary["landscape_max_exact"]


def test_van_lent_linear_level_distributions_by_hand():
    # one enzyme, two levels; predictions 4, 3, 2, 1 for levels 0, 0, 1, 1; thresholds 1, 2, 3:
    # above 1: levels (0, 0, 1) -> 2/3, 1/3; above 2: (0, 0) -> 1, 0; above 3: (0) -> 1, 0;
    # areas 8/3 and 1/3, normalised 8/9 and 1/9
    dist = level_distributions(np.array([4.0, 3, 2, 1]), np.array([[0], [0], [1], [1]]), 2,
                               thresholds="linear", n_thresholds=3)
    np.testing.assert_allclose(dist, [[8 / 9, 1 / 9]])


def test_the_diversity_knob_spreads_the_batch():
    from kinsynth.campaign.loop import batch_diversity
    from kinsynth.campaign.strategies.generative import diverse_pick

    space = DesignSpace(("a", "b"), np.array([0.25, 0.25]), np.array([4.0, 4.0]))
    rng = np.random.default_rng(0)
    # 30 near-copies of one design rank first, 30 spread-out designs after them
    near = np.exp(rng.normal(np.log(2.0), 0.01, size=(30, 2)))
    spread = np.exp(rng.uniform(np.log(0.25), np.log(4.0), size=(30, 2)))
    frame = pd.DataFrame(np.vstack([near, spread]), columns=["a", "b"])
    order = np.arange(60)
    plain = frame.iloc[order[:6]]
    points = space.scaled_features(frame)
    picked = diverse_pick(points, order, 6, 10.0, 0)
    diverse = frame.iloc[picked[:6]]
    assert picked[0] == 0  # the best-ranked design stays in the batch
    assert len(set(picked)) == 60  # a permutation: the rest follow for top-ups
    assert batch_diversity(diverse, space) > 5 * batch_diversity(plain, space)
    assert diverse_pick(points, order, 6, 1.0, 0).tolist() == \
        order.tolist()  # factor 1: the plain top n
    with pytest.raises(KinsynthError, match=r"strategy.diversity=0.5: expected 0 \(off\)"):
        make_strategy("generative", space, "Product_I", 0, {"diversity": 0.5})
    with pytest.raises(KinsynthError, match=r"strategy.ranker='gp': expected one of"):
        make_strategy("generative", space, "Product_I", 0, {"ranker": "gp"})


@pytest.mark.parametrize("variant", [["strategy.ranker=acquisition", "strategy.bo.prescreen=3",
                                      "strategy.bo.mc_samples=16"], ["strategy.diversity=0"]])
def test_a_short_hybrid_or_diverse_generative_campaign(tmp_path, spec, variant):
    cfg = compose(tmp_path, "strategy=generative", *SHORT, "strategy.epochs=10",
                  "strategy.oversample=5", "strategy.random_pool=200", *variant)
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["n_built"]) == [8, 16, 24]
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert len(set(design_keys(built, spec.columns))) == 24


def test_the_joint_greedy_picks_what_botorchs_greedy_qlognei_picks(spec):
    """The cached joint-sample greedy estimates the value BoTorch's optimize_acqf_discrete
    computes pick by pick: on a small library they choose the same best design and mostly the
    same batch."""
    space = DesignSpace.from_spec(spec, [0.5, 0.75, 1, 1.5, 2],
                                  ["vmax_forward_Enz_A", "vmax_forward_TKT2",
                                   "km_substrate1_Enz_A"])
    rng = np.random.default_rng(3)
    built = space.sample(20, rng).drop_duplicates()
    varied = ["vmax_forward_Enz_A", "vmax_forward_TKT2", "km_substrate1_Enz_A"]
    unit = np.log(built[varied].to_numpy()) / np.log(2)
    built = built.assign(Product_I=-((unit - [0.6, -0.3, 0.2]) ** 2).sum(axis=1), valid=True)
    batches = {}
    for batch in ("joint", "botorch"):
        strategy = BayesOptStrategy(space, "Product_I", batch=batch, mc_samples=256)
        strategy.fit(built, np.random.default_rng(0))
        batches[batch] = design_keys(strategy.pick(built, space.enumerate(), 6),
                                     space.columns)
    assert batches["joint"][0] == batches["botorch"][0]
    assert len(set(batches["joint"]) & set(batches["botorch"])) >= 4, batches
    with pytest.raises(KinsynthError, match=r"strategy.batch='both': expected one of"):
        BayesOptStrategy(space, "Product_I", batch="both")
