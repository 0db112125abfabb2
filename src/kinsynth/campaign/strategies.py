"""How each next batch is chosen: random screening, the van Lent recommender, or a generator.

Every strategy speaks one small interface, ``propose(built, n, rng)``: it sees every design built
so far (failures included: ``valid`` False, no flux) and returns ``n`` new designs.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.space import DesignSpace, drop_built
from kinsynth.core.errors import KinsynthError

log = logging.getLogger(__name__)
REGRESSORS = ("gradient_boosting", "random_forest")
RANKERS = ("surrogate", "acquisition")


def make_regressor(kind: str, seed: int) -> Any:
    """The recommender's regressor; both did best in van Lent et al.'s low-data regime."""
    # sklearn loads here, not with the module: dbtl.py checks its arguments first (1 s saved)
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    if kind == "gradient_boosting":
        return GradientBoostingRegressor(random_state=seed)
    if kind == "random_forest":
        return RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1)
    raise KinsynthError(f"strategy.regressor={kind!r}: expected one of {list(REGRESSORS)}")


def _valid(built: pd.DataFrame, target: str) -> pd.DataFrame:
    return built[built["valid"].astype(bool) & np.isfinite(built[target].to_numpy(float))]


def _log_features(frame: pd.DataFrame, space: DesignSpace) -> np.ndarray:
    # fold changes act multiplicatively: a regressor sees 0.5x and 2x as equally far from 1x
    return np.log(frame[list(space.columns)].to_numpy(float))


class RandomStrategy:
    """Uniform draws from the space: the screening every method must beat."""

    def __init__(self, space: DesignSpace, target: str, seed: int = 0) -> None:
        self.space, self.target = space, target

    def propose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        out = pd.DataFrame(columns=list(self.space.columns))
        for _ in range(20):  # a small library may need redraws to find unbuilt designs
            more = drop_built(self.space.snap(self.space.sample(2 * n, rng)),
                              pd.concat([built, out]), self.space.columns)
            out = pd.concat([out, more]).iloc[:n]
            if len(out) >= n:
                break
        return out.reset_index(drop=True)


def fill_with_random(chosen: pd.DataFrame, built: pd.DataFrame, n: int, space: DesignSpace,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Top a batch up to ``n`` with random unbuilt designs: on a small library a strategy's own
    candidates can run out (all already built), and a cycle still builds its full batch."""
    if len(chosen) >= n:
        return chosen.iloc[:n].reset_index(drop=True)
    seen = pd.concat([built, chosen]) if len(chosen) else built
    more = RandomStrategy(space, "").propose(seen, n - len(chosen), rng)
    return pd.concat([chosen, more], ignore_index=True)


class RecommenderStrategy:
    """Van Lent et al.'s recommender: a regressor on the built designs scores a random pool."""

    def __init__(self, space: DesignSpace, target: str, seed: int = 0,
                 regressor: str = "gradient_boosting", pool_size: int = 10000,
                 exploration: float = 0.0) -> None:
        make_regressor(regressor, seed)  # an unknown name fails before the first cycle
        if not 0 <= exploration <= 1:
            raise KinsynthError(f"strategy.exploration={exploration}: expected a share in [0, 1]")
        self.space, self.target, self.seed = space, target, seed
        self.regressor, self.pool_size, self.exploration = regressor, int(pool_size), exploration

    def score(self, built: pd.DataFrame, candidates: pd.DataFrame) -> np.ndarray:
        valid = _valid(built, self.target)
        model = make_regressor(self.regressor, self.seed)
        model.fit(_log_features(valid, self.space), valid[self.target].to_numpy(float))
        return model.predict(_log_features(candidates, self.space))

    def propose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        pool = drop_built(self.space.snap(self.space.sample(self.pool_size, rng)), built,
                          self.space.columns).reset_index(drop=True)
        if not len(pool):
            return fill_with_random(pool, built, n, self.space, rng)
        n_explore = int(round(self.exploration * n))
        order = np.argsort(-self.score(built, pool))
        chosen = list(order[: n - n_explore])
        rest = np.setdiff1d(np.arange(len(pool)), chosen)
        chosen += list(rng.choice(rest, size=min(n_explore, len(rest)), replace=False))
        return fill_with_random(pool.iloc[chosen], built, n, self.space, rng)


class GenerativeStrategy:
    """A conditional kinsynth model, trained each cycle on the built designs, proposes designs at
    a flux above the best seen; a surrogate and a validity classifier rank its proposals.

    The generator narrows the search to the region that produced high flux; the surrogate (the
    recommender's regressor) and the validity classifier (fitted on every build, failures
    included: a failed build is information) pick among its proposals.
    """

    def __init__(self, space: DesignSpace, target: str, seed: int = 0,
                 model: dict[str, Any] | None = None, epochs: int = 150,
                 oversample: int = 40, target_quantile: float = 1.0, target_boost: float = 0.05,
                 rank_by_surrogate: bool = True, filter_valid: bool = True,
                 regressor: str = "gradient_boosting", random_pool: int = 10000,
                 ranker: str = "surrogate", diversity: float = 10.0,
                 bo: dict[str, Any] | None = None) -> None:
        make_regressor(regressor, seed)
        if ranker not in RANKERS:
            raise KinsynthError(f"strategy.ranker={ranker!r}: expected one of {list(RANKERS)}")
        if not (diversity == 0 or diversity >= 1):
            raise KinsynthError(f"strategy.diversity={diversity}: expected 0 (off) or a factor "
                                f">= 1 (k-means over the top diversity x n candidates)")
        self.ranker, self.diversity = ranker, float(diversity)
        self.bo_options = dict(bo or {})
        self.space, self.target, self.seed = space, target, seed
        self.model_options = dict(model or {})
        self.epochs, self.oversample = int(epochs), int(oversample)
        self.target_quantile, self.target_boost = float(target_quantile), float(target_boost)
        self.rank_by_surrogate, self.filter_valid = rank_by_surrogate, filter_valid
        if int(random_pool) < 0:
            raise KinsynthError(f"strategy.random_pool={random_pool}: expected a count >= 0")
        self.regressor, self.random_pool = regressor, int(random_pool)

    def _train(self, valid: pd.DataFrame, seed: int) -> Any:
        import pytorch_lightning as pl

        from kinsynth.data import KineticDataModule
        from kinsynth.models import LatentVariableModel
        from kinsynth.train.console import quiet_third_party

        with warnings.catch_warnings():
            # columns the campaign holds fixed (a library level, space.vary) are constant in the
            # built designs by design: the data module's warning about them is noise here
            warnings.filterwarnings("ignore", message=".*dropping constant feature column",
                                    category=UserWarning)
            # the data module keeps at least 2 validation and 2 test rows; with a few dozen
            # built designs that is all it holds back
            held = max(0.05, 2.5 / len(valid))
            dm = KineticDataModule(frame=valid[[*self.space.columns, self.target]],
                                   target=self.target, split=(1 - 2 * held, held, held),
                                   seed=self.seed, batch_size=32, transform="quantile",
                                   n_quantiles=min(1000, len(valid)))
            dm.setup("fit")
        options = {"latent_dim": 4, "hidden": [64, 64], "beta": 0.5, **self.model_options}
        pl.seed_everything(seed, verbose=False)  # before the weights are drawn: same seed, same run
        model = LatentVariableModel(dm.features, dm.target, conditional=True, **options)
        model.attach_data(dm.transform, dm.train_frame[dm.target].to_numpy())
        quiet_third_party()
        # one fit per cycle: Lightning's per-fit INFO lines (devices, stop reason) are noise here
        logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
        trainer = pl.Trainer(max_epochs=self.epochs, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False,
                             num_sanity_val_steps=0, limit_val_batches=0, accelerator="cpu")
        trainer.fit(model, datamodule=dm)
        return model

    def propose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        valid = _valid(built, self.target)
        flux = valid[self.target].to_numpy(float)
        request = float(np.quantile(flux, self.target_quantile)) * (1 + self.target_boost)
        model = self._train(valid, int(rng.integers(1 << 31)))
        m = self.oversample * n
        generated = model.sample(m, target=request, seed=int(rng.integers(1 << 31)))
        # a column every built design shares (a library column with one allowed level) is
        # dropped from training as constant; the generator's designs keep that one value
        for column in self.space.columns:
            if column not in generated:
                generated[column] = valid[column].iloc[0]
        # the recommender's random pool beside the generated designs: the ranking sees every kind
        # of candidate the recommender sees, so the generator can only add to it (on a small
        # library, where random candidates cover most unbuilt designs, that is what wins)
        randoms = self.space.sample(self.random_pool, rng)
        candidates = pd.concat([generated[list(self.space.columns)], randoms])
        candidates = drop_built(self.space.snap(candidates), built, self.space.columns)
        candidates = candidates.reset_index(drop=True)
        if not len(candidates):  # every candidate already built: a small library, no random pool
            return fill_with_random(candidates, built, n, self.space, rng)
        if self.ranker == "acquisition":  # the hybrid: BO's GP and qLogNEI rank the candidates
            from kinsynth.campaign.bo import BayesOptStrategy

            bo = BayesOptStrategy(self.space, self.target, self.seed, **self.bo_options)
            return fill_with_random(bo.choose(built, candidates, n, rng), built, n, self.space,
                                    rng)
        score = np.zeros(len(candidates))
        if self.rank_by_surrogate:
            surrogate = make_regressor(self.regressor, self.seed)
            surrogate.fit(_log_features(valid, self.space), flux)
            score = surrogate.predict(_log_features(candidates, self.space))
        if self.filter_valid and built["valid"].nunique() > 1:
            from sklearn.ensemble import GradientBoostingClassifier

            classifier = GradientBoostingClassifier(random_state=self.seed)
            classifier.fit(_log_features(built, self.space), built["valid"].astype(int))
            p_valid = classifier.predict_proba(_log_features(candidates, self.space))[:, 1]
            score = score * p_valid if self.rank_by_surrogate else p_valid
        order = np.argsort(-score) if self.rank_by_surrogate or self.filter_valid else \
            rng.permutation(len(candidates))
        if self.diversity:
            order = diverse_pick(_log_features(candidates, self.space), order, n,
                                 self.diversity, self.space, self.seed)
        return fill_with_random(candidates.iloc[order[:n]], built, n, self.space, rng)


def diverse_pick(logs: np.ndarray, order: np.ndarray, n: int, factor: float, space: DesignSpace,
                 seed: int) -> np.ndarray:
    """A batch that spreads out: k-means (n clusters) over the ``factor`` x n best-ranked
    candidates, in standardised log space, and the best-ranked candidate of each cluster.

    A generator asked for a flux above the best seen proposes near-copies of one design; a lab
    wants several distinct top strains. ``factor`` trades rank for spread: 1 is the plain top n.
    """
    from sklearn.cluster import KMeans

    top = order[: int(round(factor * n))]
    if len(top) <= n:
        return order
    spread = np.log(space.highs) - np.log(space.lows)
    scale = np.where(spread > 0, spread / np.sqrt(12), 1.0)
    labels = KMeans(n_clusters=n, n_init=1, random_state=seed).fit_predict(logs[top] / scale)
    first = {}
    for rank, label in enumerate(labels):  # top is in rank order: the first seen is the best
        first.setdefault(label, rank)
    picked = top[sorted(first.values())]
    return np.concatenate([picked, np.setdiff1d(order, picked, assume_unique=True)])


def _bayes_opt(*args: Any, **kwargs: Any) -> Any:
    from kinsynth.campaign.bo import BayesOptStrategy  # BoTorch loads only when asked for

    return BayesOptStrategy(*args, **kwargs)


def _van_lent(*args: Any, **kwargs: Any) -> Any:
    from kinsynth.campaign.vanlent import VanLentStrategy

    return VanLentStrategy(*args, **kwargs)


STRATEGIES = {"random": RandomStrategy, "recommender": RecommenderStrategy,
              "generative": GenerativeStrategy, "bo": _bayes_opt, "vanlent": _van_lent}


def make_strategy(name: str, space: DesignSpace, target: str, seed: int,
                  options: dict[str, Any]) -> Any:
    if name not in STRATEGIES:
        raise KinsynthError(f"strategy={name!r}: expected one of {list(STRATEGIES)}")
    return STRATEGIES[name](space, target, seed=seed, **options)
