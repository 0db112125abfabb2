"""The strategy interface: a registry every command reads, typed options, one YAML per strategy,
and a strategy written outside kinsynth running a campaign and a lab's propose step."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf
from support import REPO_ROOT, compose_dbtl

import kinsynth
from kinsynth.campaign import run_campaign
from kinsynth.campaign.propose import propose_plate
from kinsynth.campaign.space import DesignSpace, design_keys
from kinsynth.campaign.strategies import (
    Strategy,
    StrategyOptions,
    make_strategy,
    register_strategy,
    strategy_class,
    strategy_names,
    unregister_strategy,
)
from kinsynth.core.errors import KinsynthError

FIXTURES = Path(__file__).parent / "fixtures"
STRATEGY_YAML = REPO_ROOT / "conf" / "strategy"


@dataclasses.dataclass
class NearBestOptions(StrategyOptions):
    pool: int = 300

    def check(self) -> None:
        if self.pool < 1:
            raise KinsynthError(f"strategy.pool={self.pool}: expected a count >= 1")


class NearBest(Strategy):
    """A toy: the random designs closest (in log space) to the best measured design."""

    Options = NearBestOptions
    options: NearBestOptions

    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        best = measured[self.target].to_numpy(float).argmax()
        self.best = np.log(measured[list(self.space.columns)].to_numpy(float)[best])

    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        pool = self.space.snap(self.space.sample(self.options.pool, rng))
        return pool.iloc[np.argsort(self.distance(pool))[:n]]

    def distance(self, designs: pd.DataFrame) -> np.ndarray:
        return np.linalg.norm(np.log(designs[list(self.space.columns)].to_numpy(float))
                              - self.best, axis=1)


@pytest.fixture
def near_best() -> Iterator[type[NearBest]]:
    register_strategy("near_best")(NearBest)
    yield NearBest
    unregister_strategy("near_best")


def test_kinsynths_own_strategies_each_have_one_yaml_whose_options_are_typed():
    names = strategy_names()
    assert names[:5] == ["random", "recommender", "vanlent", "bo", "generative"]
    files = sorted(path.stem for path in STRATEGY_YAML.glob("*.yaml"))
    assert files == sorted(names)
    for name in names:
        options = yaml.safe_load((STRATEGY_YAML / f"{name}.yaml").read_text())
        assert options.pop("name") == name
        cls = strategy_class(name)
        assert cls.name == name and cls.colour
        parsed = cls.Options(**{})  # every option has a default ...
        typed = dataclasses.asdict(parsed)
        assert set(options) <= set(typed), f"{name}.yaml: {set(options) - set(typed)}"
        # ... and the YAML's values are the dataclass's defaults: one set of defaults
        assert {key: typed[key] for key in options} == options, name


def test_options_are_typed_and_an_unknown_key_is_one_line():
    space = DesignSpace(("a", "b"), np.array([0.5, 0.5]), np.array([2.0, 2.0]))
    strategy = make_strategy("recommender", space, "y", 0, {"pool_size": "300"})
    assert strategy.options.pool_size == 300  # the YAML's string spelling is converted
    with pytest.raises(KinsynthError, match=r"^strategy.pool_sise: Key 'pool_sise' not in "
                                            r"'RecommenderOptions' \(strategy=recommender takes "
                                            r"\['regressor', 'pool_size', 'exploration'\]\)$"):
        make_strategy("recommender", space, "y", 0, {"pool_sise": 300})
    with pytest.raises(KinsynthError, match=r"^strategy.pool_size: Value '1.5' of type 'float' "
                                            r"could not be converted to Integer"):
        make_strategy("recommender", space, "y", 0, {"pool_size": 1.5})
    with pytest.raises(KinsynthError, match=r"^strategy='bogus': expected one of \['random', "):
        make_strategy("bogus", space, "y", 0, {})
    with pytest.raises(KinsynthError, match=r"^strategy.exploration=2.0: expected a share"):
        make_strategy("recommender", space, "y", 0, {"exploration": 2})


def test_registering_refuses_a_non_strategy_and_a_taken_name(near_best):
    with pytest.raises(TypeError, match="is not a Strategy subclass"):
        register_strategy("plain")(dict)  # type: ignore[type-var]

    class Other(NearBest):
        pass

    with pytest.raises(ValueError, match="strategy name 'random' is taken"):
        register_strategy("random")(Other)
    assert "near_best" in strategy_names() and strategy_class("random").__name__ == \
        "RandomStrategy"


def test_a_strategy_registered_from_outside_runs_a_campaign(tmp_path, near_best):
    cfg = compose_dbtl(tmp_path, "strategy=random", "initial_designs=12", "cycles=2",
                       "designs_per_cycle=8", "pool.n=600", "seed=5")
    cfg.strategy = OmegaConf.create({"name": "near_best", "pool": 400})
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["n_built"]) == [12, 20, 28]
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    columns = list(DesignSpace.from_spec(near_best_spec()).columns)
    assert len(set(design_keys(built, columns))) == 28  # never one design twice
    # the toy really chose cycle 1: its batch lies nearer cycle 0's best than random designs do
    space = DesignSpace.from_spec(near_best_spec())
    toy = NearBest(space, "Product_I")
    cycle0 = built[built["cycle"] == 0]
    toy._fit(cycle0, cycle0[cycle0["valid"]], np.random.default_rng(0))
    chosen = toy.distance(built[built["cycle"] == 1]).mean()
    random = toy.distance(space.sample(500, np.random.default_rng(1))).mean()
    assert chosen < 0.8 * random
    assert '"strategy": "near_best"' in (tmp_path / "run" / "campaign.json").read_text()


def test_a_strategy_registered_from_outside_proposes_a_plate(tmp_path, near_best, lab_table):
    built = lab_table(30)
    cfg = compose_dbtl(tmp_path, "strategy=random", "step=propose", "designs_per_cycle=6")
    cfg.strategy = OmegaConf.create({"name": "near_best"})
    plate = propose_plate(cfg, built)
    columns = list(built.columns.drop("Product_I"))
    assert len(plate) == 6 and not set(design_keys(plate, columns)) & set(
        design_keys(built, columns))
    again = kinsynth.propose(built, n=6, strategy="near_best", pool=300)
    pd.testing.assert_frame_equal(plate, again)
    with pytest.raises(KinsynthError, match=r"^strategy.pool=0: expected a count >= 1$"):
        kinsynth.propose(built, n=6, strategy="near_best", pool=0)


def near_best_spec():
    from kinsynth.simulate.model import load_model

    return load_model()


#: the seeded campaigns pinned in fixtures/ (the small settings keep them a few seconds each)
PINNED = {
    "random": [],
    "recommender": ["strategy.pool_size=300"],
    "generative": ["strategy.epochs=20", "strategy.oversample=5", "strategy.random_pool=300"],
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_seeded_campaign_builds_the_pinned_designs(tmp_path, name):
    """Same seed and config, the same designs and measurements as the pinned campaign."""
    cfg = compose_dbtl(tmp_path, f"strategy={name}", "initial_designs=10", "cycles=2",
                       "designs_per_cycle=10", "pool.n=600", "seed=3", *PINNED[name])
    run_campaign(cfg, tmp_path / "run")
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    pinned = pd.read_csv(FIXTURES / f"seeded_{name}_built.csv")
    pd.testing.assert_frame_equal(built, pinned, check_exact=False, rtol=1e-5)
