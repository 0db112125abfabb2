"""Every strategy on every space of parts: slots, sets, a mix with numeric levels, and a measured
table replayed as the landscape; what each learner predicts for a plate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf
from support import REPO_ROOT, compose_dbtl

from kinsynth.campaign import run_campaign
from kinsynth.campaign.landscape import Landscape, MeasuredLandscape, make_landscape
from kinsynth.campaign.parts import GeneSet, PartSpace
from kinsynth.campaign.space import design_keys
from kinsynth.campaign.strategies import make_strategy, strategy_names
from kinsynth.core.errors import KinsynthError

E = "vmax_forward_Enz_"
PROMOTERS = {"pW": 0.5, "pM": 1.0, "pS": 2.0}
#: spaces of parts on pathway I: each slot a model column whose parts are fold changes, each
#: gene a model column that an "on" sets to its set's fold change
SIMULATED: dict[str, dict[str, Any]] = {
    "slots": {"factors": {E + "A": PROMOTERS, E + "B": PROMOTERS, E + "C": PROMOTERS,
                          E + "D": {"rW": 0.5, "rM": 1.0, "rS": 2.0},
                          "vmax_forward_TKT2": {"t1": 0.33, "t2": 1.0, "t3": 3.0}},
              "exclude": [{E + "A": "pS", E + "B": "pS"}]},
    "sets": {"sets": {"boost": {"genes": [E + c for c in "ABCDEF"], "min": 1, "max": 3,
                                "fold_change": 2.0}}},
    "mixed": {"factors": {E + "A": PROMOTERS, E + "B": {"pW": 0.5, "pS": 2.0}},
              "vary": ["vmax_forward_TKT2", E + "C"], "levels": [0.5, 1, 2],
              "sets": {"down": {"genes": [E + "D", E + "E", E + "F"], "min": 0, "max": 2,
                                "fold_change": 0.5}}},
}
#: each strategy's settings for a campaign of a few seconds on a space of parts; a registered
#: strategy missing here fails the test below, so none goes untried on parts
FAST = {
    "random": [],
    "recommender": ["strategy.pool_size=300"],
    "vanlent": ["strategy.search_iterations=2"],
    "bo": ["strategy.mc_samples=16"],
    "generative": ["strategy.epochs=20", "strategy.oversample=5", "strategy.random_pool=300"],
}
LEARNERS = [name for name in FAST if name != "random"]
SIZES = ["initial_designs=8", "cycles=2", "designs_per_cycle=6", "metrics.judge=false"]
G8H = REPO_ROOT.parent / "shared" / "data" / "g8h_cpr" / "data.csv"
G8H_TARGET = "strictosidine_pct_of_control"


@pytest.fixture(scope="module")
def pool_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pool cache for the module: its keys hold the model and the space, so campaigns on
    the same space simulate their reference pool and library once."""
    return tmp_path_factory.mktemp("pool_cache")


def with_space(cfg: DictConfig, space: dict[str, Any]) -> DictConfig:
    for key, value in space.items():
        cfg.space[key] = OmegaConf.create(value) if isinstance(value, dict | list) else value
    return cfg


def measured_table(path: Path, seed: int = 0, designs: int = 100) -> pd.DataFrame:
    """A lab's replayed table: three slots of named parts and two on/off genes, ``designs`` of
    the 480 measured, one to three isolates each, a few empty responses and ``valid`` noes.

    The response is additive in the parts with a small isolate noise: an easy signal, whose
    top 10 a learner should find far more often than random screening."""
    rng = np.random.default_rng(seed)
    effects = {"promoter": dict(zip(["pA", "pB", "pC", "pD", "pE"], [0.0, 0.4, 0.8, 1.2, 1.6],
                                    strict=True)),
               "homolog": dict(zip(["hKo", "hLa", "hMi", "hNu", "hOm", "hPi"],
                                   [0.0, 0.1, 0.9, 0.2, 1.5, 0.3], strict=True)),
               "rbs": dict(zip(["r1", "r2", "r3", "r4"], [0.5, 0.0, 1.0, 0.2], strict=True))}
    product = pd.MultiIndex.from_product([*(list(v) for v in effects.values()), [0, 1], [0, 1]],
                                         names=[*effects, "koX", "koY"]).to_frame(index=False)
    chosen = product.iloc[np.sort(rng.choice(len(product), designs, replace=False))]
    mean = sum(chosen[c].map(effects[c]) for c in effects) + 0.6 * chosen["koX"] - \
        0.4 * chosen["koY"]
    rows = chosen.loc[chosen.index.repeat(rng.integers(1, 4, len(chosen)))].copy()
    rows["titre"] = (2.0 + mean.loc[rows.index] + rng.normal(0, 0.08, len(rows))).round(4)
    rows["valid"] = "yes"
    rows = rows.reset_index(drop=True)
    rows.loc[[3, 17, 40], "titre"] = np.nan  # isolates that did not grow: failed builds
    rows.loc[[25, 61], "valid"] = "no"
    rows.to_csv(path, index=False)
    return rows


def compose(pool_cache: Path, strategy: str, space: str, tmp_path: Path, seed: int = 1,
            sizes: list[str] | None = None) -> DictConfig:
    """dbtl.yaml for ``strategy`` with its fast settings on one of the spaces of this module."""
    overrides = [f"strategy={strategy}", *FAST[strategy], *(sizes or SIZES), f"seed={seed}",
                 "pool.n=300"]
    if space == "measured":
        path = tmp_path / "measured.csv"
        if not path.exists():
            measured_table(path)
        overrides += [f"space.landscape={path}", "space.target=titre"]
    elif space == "g8h":
        path = tmp_path / "g8h.csv"
        pd.read_csv(G8H)[["G8H", "pG8H", "pCPR", "CPR", G8H_TARGET]].to_csv(path, index=False)
        overrides += [f"space.landscape={path}", f"space.target={G8H_TARGET}"]
    cfg = compose_dbtl(pool_cache, *overrides)
    return with_space(cfg, SIMULATED[space]) if space in SIMULATED else cfg


def assert_buildable(built: pd.DataFrame, landscape: Landscape) -> None:
    """Every built design is one the space can build, and none was built twice."""
    space = landscape.space
    assert isinstance(space, PartSpace)
    columns = list(space.columns)
    keys = design_keys(built, columns)
    assert len(set(keys)) == len(built)  # never built twice
    for column, parts in space.slots.items():
        assert set(built[column].astype(str)) <= set(parts), column
    for column, levels in space.numbers.items():
        assert set(built[column].astype(float)) <= set(levels), column
    for gene_set in space.sets:
        on = built[list(gene_set.genes)].to_numpy(float)
        assert set(np.unique(on)) <= {0.0, 1.0}
        assert (on.sum(axis=1) >= gene_set.low).all() and (on.sum(axis=1) <= gene_set.high).all()
    for rule in space.exclude:
        hit = np.ones(len(built), bool)
        for column, values in rule.items():
            hit &= built[column].isin(values).to_numpy()
        assert not hit.any(), rule
    library = set(design_keys(space.enumerate(), columns))
    assert set(keys) <= library  # a listed space (a replayed table): only its designs
    assert len(space.snap(built[columns])) == len(built)


def test_every_registered_strategy_has_a_short_campaign_on_parts_below():
    assert sorted(FAST) == sorted(strategy_names())


@pytest.mark.parametrize("space", [*SIMULATED, "measured"])
@pytest.mark.parametrize("strategy", list(FAST))
def test_a_short_campaign_of_every_strategy_on_every_space(tmp_path, pool_cache, strategy,
                                                            space):
    cfg = compose(pool_cache, strategy, space, tmp_path)
    landscape = make_landscape(cfg)
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["n_built"]) == [8, 14, 20]
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert len(built) == 20 and list(built.groupby("cycle").size()) == [8, 6, 6]
    assert_buildable(built, landscape)
    target = landscape.target
    assert built.loc[~built["valid"], target].isna().all()
    if space == "measured":  # a replay returns one of the design's measured isolates
        rows = pd.read_csv(tmp_path / "measured.csv")
        good = rows[(rows["valid"] == "yes") & rows["titre"].notna()]
        columns = list(landscape.space.columns)
        isolates: dict[tuple, list[float]] = {}
        for key, value in zip(design_keys(good, columns), good["titre"], strict=True):
            isolates.setdefault(key, []).append(value)
        produced = built[built["valid"]]
        for key, value in zip(design_keys(produced, columns), produced[target], strict=True):
            assert np.isclose(isolates[key], value, rtol=0, atol=1e-9).any(), (key, value)
        assert np.isfinite(table["random_top10_found"]).all()


@pytest.mark.skipif(not G8H.is_file(), reason=f"the G8H x CPR table is not at {G8H} "
                                               "(../shared/data/g8h_cpr)")
@pytest.mark.parametrize("strategy", list(FAST))
def test_a_short_replay_of_the_g8h_library(tmp_path, pool_cache, strategy):
    cfg = compose(pool_cache, strategy, "g8h", tmp_path)
    landscape = make_landscape(cfg)
    assert landscape.space.library_size == 234  # the measured genotypes of both rounds
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["n_built"]) == [8, 14, 20]
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert_buildable(built, landscape)
    assert table["random_top10_found"].iloc[-1] == pytest.approx(10 * 20 / 234)


#: the learners' campaigns on the measured table: 8 random designs, then 3 cycles of 8
LONGER = ["initial_designs=8", "cycles=3", "designs_per_cycle=8", "metrics.judge=false"]


@pytest.mark.parametrize("strategy", LEARNERS)
def test_learners_find_more_of_the_measured_top_than_random(tmp_path, pool_cache, strategy):
    """Over three seeds, each learner holds at least twice as many of the table's top 10 (by
    mean) after 32 builds as uniform random screening's exact expectation, 10 x 32 / 100 = 3.2
    (measured: recommender 8, 10, 10; vanlent 7, 7, 9; bo 10, 10, 10; generative 6, 9, 9)."""
    found, expected = [], []
    for seed in (1, 2, 3):
        cfg = compose(pool_cache, strategy, "measured", tmp_path, seed, LONGER)
        table = run_campaign(cfg, tmp_path / f"run{seed}")
        found.append(int(table["top10_found"].iloc[-1]))
        expected.append(float(table["random_top10_found"].iloc[-1]))
    assert expected == pytest.approx([3.2] * 3)
    assert np.mean(found) >= 2 * 3.2, found


# -- the strategies one by one ------------------------------------------------------------


@pytest.fixture
def replay(tmp_path: Path) -> Callable[..., tuple[MeasuredLandscape, pd.DataFrame]]:
    """The measured landscape of :func:`measured_table` and ``n`` random builds of it."""

    def _replay(n: int = 30, scale: float = 1.0) -> tuple[MeasuredLandscape, pd.DataFrame]:
        path = tmp_path / "measured.csv"
        if not path.exists():
            measured_table(path)
        cfg = compose_dbtl(tmp_path, f"space.landscape={path}", "space.target=titre")
        landscape = make_landscape(cfg)
        assert isinstance(landscape, MeasuredLandscape)
        designs = landscape.space.enumerate().iloc[:: max(1, 100 // n)].iloc[:n]
        measured, _, valid = landscape.build(designs.reset_index(drop=True))
        built = designs.reset_index(drop=True).assign(
            titre=np.where(valid, measured * scale, np.nan), valid=valid)
        return landscape, built

    return _replay


#: the options of each learner whose prediction is checked (the hybrid ranks by bo's GP)
PREDICTORS = {
    "recommender": {}, "vanlent": {"search_iterations": 0}, "bo": {"mc_samples": 16},
    "generative": {"epochs": 20, "oversample": 5, "random_pool": 300},
    "generative-acquisition": {"epochs": 20, "oversample": 5, "random_pool": 300,
                               "ranker": "acquisition", "bo": {"mc_samples": 16}},
}


@pytest.mark.parametrize("variant", list(PREDICTORS))
def test_predict_reads_the_fitted_model_and_comes_after_propose(replay, variant):
    landscape, built = replay()
    strategy = variant.split("-")[0]
    chosen = make_strategy(strategy, landscape.space, "titre", 0, PREDICTORS[variant])
    with pytest.raises(KinsynthError, match=rf"^strategy={strategy}: predict\(\) reads the "
                                            r"model that propose\(\) fits"):
        chosen.predict(built)
    plate = chosen.propose(built, 6, np.random.default_rng(0))
    mean, sd = chosen.predict(plate)
    assert mean.shape == sd.shape == (6,) and np.isfinite(mean).all()
    # in the response's units: the measured designs are predicted near their measurements
    measured = built[built["valid"]]
    fitted, _ = chosen.predict(measured)
    assert np.corrcoef(fitted, measured["titre"])[0, 1] > 0.8
    assert abs(np.mean(fitted) - measured["titre"].mean()) < 0.2 * measured["titre"].std()
    if variant in ("bo", "generative-acquisition"):  # a GP's posterior sd
        assert (sd > 0).all()
    else:  # gradient boosting: a point model
        assert np.isnan(sd).all()


def test_random_predicts_nothing(replay):
    landscape, built = replay()
    random = make_strategy("random", landscape.space, "titre", 0)
    plate = random.propose(built, 4, np.random.default_rng(0))
    mean, sd = random.predict(plate)
    assert np.isnan(mean).all() and np.isnan(sd).all() and len(mean) == 4


def test_a_random_forest_gives_its_trees_spread_as_the_sd(replay):
    landscape, built = replay()
    for name in ("recommender", "generative"):
        options = {"regressor": "random_forest"}
        if name == "generative":
            options.update(epochs=5, oversample=2, random_pool=50)
        chosen = make_strategy(name, landscape.space, "titre", 0, options)
        plate = chosen.propose(built, 5, np.random.default_rng(0))
        mean, sd = chosen.predict(plate)
        forest = chosen.model if name == "recommender" else chosen.surrogate  # type: ignore
        trees = np.stack([t.predict(landscape.space.features(plate).astype(np.float32))
                          for t in forest.estimators_])
        np.testing.assert_allclose(mean, trees.mean(axis=0))
        np.testing.assert_allclose(sd, trees.std(axis=0))
        assert (sd > 0).any()


def test_bos_prediction_is_in_the_responses_units(replay):
    landscape, built = replay()
    plates = []
    for scale in (1.0, 1000.0):
        _, scaled = replay(scale=scale)
        bo = make_strategy("bo", landscape.space, "titre", 0, {"mc_samples": 16})
        plate = bo.propose(scaled, 5, np.random.default_rng(0))
        plates.append((plate, *bo.predict(plate)))
    (first, mean1, sd1), (second, mean1000, sd1000) = plates
    pd.testing.assert_frame_equal(first, second)  # a change of units changes no choice
    np.testing.assert_allclose(mean1000, 1000 * mean1, rtol=1e-3)
    # the sd's fit stops at the optimiser's tolerance: equal to about 2 %
    np.testing.assert_allclose(sd1000, 1000 * sd1, rtol=0.05)


def test_bo_sees_a_slots_parts_as_names_not_numbers():
    """Reordering a slot's parts (the same biology, another numbering) changes nothing the GP
    predicts: its categorical kernel asks only whether two designs share a part."""
    rng = np.random.default_rng(0)
    parts = ("a1", "a2", "a3", "a4", "a5")
    forward = PartSpace(("a", "b"), {"a": parts, "b": ("b1", "b2", "b3")})
    backward = PartSpace(("a", "b"), {"a": parts[::-1], "b": ("b3", "b1", "b2")})
    built = forward.enumerate().sample(10, random_state=1).reset_index(drop=True)
    effect = {"a1": 0.0, "a2": 1.0, "a3": 0.2, "a4": 0.9, "a5": 0.4}
    built = built.assign(y=built["a"].map(effect) + (built["b"] == "b2") * 0.5
                         + rng.normal(0, 0.05, len(built)), valid=True)
    predictions = []
    for space in (forward, backward):
        bo = make_strategy("bo", space, "y", 0, {"mc_samples": 16})
        bo.propose(built, 3, np.random.default_rng(0))
        predictions.append(bo.predict(forward.enumerate()))
    np.testing.assert_allclose(predictions[0][0], predictions[1][0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(predictions[0][1], predictions[1][1], rtol=1e-4, atol=1e-6)


def test_bo_refuses_the_continuous_optimizer_on_parts():
    space = PartSpace(("a",), {"a": ("x", "y")})
    with pytest.raises(KinsynthError, match=r"^strategy.optimizer=continuous: a space of parts "
                                            r"is a list of designs"):
        make_strategy("bo", space, "y", 0, {"optimizer": "continuous"})


def test_bo_weighs_failures_with_a_one_hot_classifier():
    """A part whose builds all failed: the validity classifier, on one-hot parts, gives its
    unbuilt designs a low P(builds), and the others a high one."""
    import torch

    space = PartSpace(("a", "b"), {"a": ("a1", "a2", "a3", "a4"), "b": ("b1", "b2", "b3")})
    built = space.enumerate().iloc[[0, 1, 3, 4, 6, 7, 9, 10]].reset_index(drop=True)
    fails = built["a"] == "a4"
    built = built.assign(y=np.where(fails, np.nan, np.arange(len(built)) / 4.0), valid=~fails)
    bo = make_strategy("bo", space, "y", 0, {"mc_samples": 16})
    bo.propose(built, 2, np.random.default_rng(0))
    unbuilt = pd.DataFrame({"a": ["a1", "a2", "a3", "a4"], "b": ["b3"] * 4})
    p_valid = torch.exp(bo.validity.log_prob(bo.scale.to_unit(unbuilt))).numpy()  # type: ignore
    assert p_valid[3] < 0.5 < p_valid[:3].min(), p_valid


def test_vanlent_draws_its_independent_levels_conditioned_on_buildable():
    """An excluded design is never drawn; the others keep the ratios of the product of their
    levels' probabilities: P(a2)=0.8, P(b2)=0.5 and (a2, b2) excluded leave 1/6, 1/6, 4/6."""
    space = PartSpace(("a", "b"), {"a": ("a1", "a2"), "b": ("b1", "b2")},
                      exclude=({"a": ("a2",), "b": ("b2",)},))
    vanlent = make_strategy("vanlent", space, "y", 0)
    features = space.features(space.enumerate())
    vanlent._library = (space.enumerate(), features,  # type: ignore[attr-defined]
                        *vanlent._level_index(space.enumerate()))  # type: ignore[attr-defined]
    distributions = np.array([[0.2, 0.8], [0.5, 0.5]])
    rng = np.random.default_rng(0)
    none = pd.DataFrame(columns=["a", "b"])
    drawn = pd.concat([vanlent._draw_buildable(distributions, none, 1, rng)  # type: ignore
                       for _ in range(3000)])
    shares = drawn.value_counts(normalize=True)
    assert ("a2", "b2") not in shares.index
    assert shares[("a2", "b1")] == pytest.approx(4 / 6, abs=0.03)
    assert shares[("a1", "b1")] == pytest.approx(1 / 6, abs=0.03)
    # built designs are never drawn again, and a batch is distinct
    built = pd.DataFrame({"a": ["a2"], "b": ["b1"]})
    again = vanlent._draw_buildable(distributions, built, 5, rng)  # type: ignore
    assert sorted(map(tuple, again.to_numpy())) == [("a1", "b1"), ("a1", "b2")]


def test_vanlent_on_a_gene_set_keeps_its_bounds():
    """Six genes, 1 to 2 on: independent per-gene draws would mostly break the bound; the
    conditioned draw never does, and a full batch comes from the distributions."""
    space = PartSpace(tuple("uvwxyz"), sets=(GeneSet("ko", tuple("uvwxyz"), 1, 2),))
    library = space.enumerate()
    assert len(library) == 6 + 15
    vanlent = make_strategy("vanlent", space, "y", 0, {"search_iterations": 0,
                                                       "thresholds": "linear"})
    built = library.iloc[:10].assign(y=library.iloc[:10][["u", "v"]].sum(axis=1) + 1.0,
                                     valid=True)
    plate = vanlent.propose(built, 8, np.random.default_rng(0))
    on = plate.to_numpy(int).sum(axis=1)
    assert len(plate) == 8 and ((on >= 1) & (on <= 2)).all()
    assert not set(design_keys(plate, space.columns)) & set(design_keys(built, space.columns))


def test_the_generator_names_parts_and_switches_genes_on_or_off(tmp_path):
    """The CVAE's own designs (before any snapping) hold the space's part names and 0/1 genes."""
    space = PartSpace(("p", "h", "g1", "g2", "g3"),
                      {"p": ("pA", "pB", "pC"), "h": ("hX", "hY")},
                      sets=(GeneSet("ko", ("g1", "g2", "g3"), 0, 2),))
    rng = np.random.default_rng(0)
    built = space.sample(30, rng).drop_duplicates().reset_index(drop=True)
    built = built.assign(y=(built["p"] == "pC") * 1.0 + built["g1"] + rng.normal(0, .1, len(built)),
                         valid=True)
    generative = make_strategy("generative", space, "y", 0,
                               {"epochs": 30, "oversample": 5, "random_pool": 0})
    plate = generative.propose(built, 4, rng)
    generated = generative.generator.sample(200, target=2.0, seed=1)  # type: ignore
    assert set(generated["p"]) <= {"pA", "pB", "pC"} and set(generated["h"]) <= {"hX", "hY"}
    for gene in ("g1", "g2", "g3"):
        assert set(pd.to_numeric(generated[gene])) <= {0, 1}
    assert len(plate) == 4
    assert len(space.snap(plate)) == 4
