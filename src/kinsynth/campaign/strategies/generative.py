"""``strategy=generative``: a conditional kinsynth model proposes designs above the best seen.

A beta-CVAE, trained each cycle on the measured designs, is asked for designs at a response above
the best seen. The generator narrows the search to the region that produced high responses; the
recommender's regressor (the surrogate) and a validity classifier (fitted on every build, failures
included: a failed build is information) rank its proposals beside a random pool, and k-means
spreads the batch (``diversity``). See docs/dbtl.md for the measurements behind each default.

On a space of parts the generator sees each slot and each gene as a categorical column (one-hot
in, a softmax head out, the most likely part or on/off per generated row), so every generated
design names real parts and 0/1 genes; a numeric column stays numeric and is snapped to its
nearest level. The space then drops what cannot be built (a set outside its bounds, an excluded
or unlisted design) before the ranking, and the batch is topped up as for every strategy.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.features import check_regressor, make_regressor, predict_with_sd
from kinsynth.campaign.space import drop_built
from kinsynth.campaign.strategies.base import Strategy, StrategyOptions
from kinsynth.campaign.strategies.registry import register_strategy
from kinsynth.core.errors import KinsynthError

#: how the candidates are ranked: the surrogate x validity, or BO's GP and qLogNEI
RANKERS = ("surrogate", "acquisition")


@dataclasses.dataclass
class GenerativeOptions(StrategyOptions):
    #: the generator's settings (kinsynth.models.LatentVariableModel keywords)
    model: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"latent_dim": 4, "hidden": [64, 64], "beta": 0.5})
    #: training epochs per cycle
    epochs: int = 150
    #: candidates generated per design built
    oversample: int = 40
    #: the request: this quantile of the measured responses ...
    target_quantile: float = 1.0
    #: ... raised by this share
    target_boost: float = 0.05
    #: rank by the surrogate's predicted response
    rank_by_surrogate: bool = True
    #: multiply the rank score by a validity classifier's P(builds)
    filter_valid: bool = True
    #: the surrogate: gradient_boosting | random_forest
    regressor: str = "gradient_boosting"
    #: random designs ranked beside the generated ones
    random_pool: int = 10000
    #: surrogate | acquisition (BO's GP and qLogNEI pick among the candidates)
    ranker: str = "surrogate"
    #: 0: the top n by rank; f >= 1: k-means into n clusters over the top f x n candidates
    diversity: float = 10.0
    #: ranker=acquisition: the bo strategy's options (the rest keep bo's defaults)
    bo: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"failures": "weight", "mc_samples": 128, "prescreen": 10})

    def check(self) -> None:
        check_regressor(self.regressor)
        if self.ranker not in RANKERS:
            raise KinsynthError(f"strategy.ranker={self.ranker!r}: expected one of "
                                f"{list(RANKERS)}")
        if not (self.diversity == 0 or self.diversity >= 1):
            raise KinsynthError(f"strategy.diversity={self.diversity}: expected 0 (off) or a "
                                "factor >= 1 (k-means over the top diversity x n candidates)")
        if self.random_pool < 0:
            raise KinsynthError(f"strategy.random_pool={self.random_pool}: expected a count "
                                ">= 0")
        for key in ("epochs", "oversample"):
            if getattr(self, key) < 1:
                raise KinsynthError(f"strategy.{key}={getattr(self, key)}: expected a count "
                                    ">= 1")


def train_generator(frame: pd.DataFrame, columns: list[str], target: str, epochs: int,
                    options: dict[str, Any], data_seed: int, weight_seed: int,
                    categorical: list[str] | None = None) -> Any:
    """A conditional LatentVariableModel trained for ``epochs`` on ``frame`` (a few dozen rows);
    ``categorical`` columns (part names, 0/1 genes) get one-hot inputs and softmax heads."""
    import pytorch_lightning as pl

    from kinsynth.data import KineticDataModule
    from kinsynth.models import LatentVariableModel
    from kinsynth.models.quiet import quiet_third_party

    with warnings.catch_warnings():
        # columns the campaign holds fixed (a library level, space.vary) are constant in the
        # built designs by design: the data module's warning about them is noise here
        warnings.filterwarnings("ignore", message=".*dropping constant feature column",
                                category=UserWarning)
        # the data module keeps at least 2 validation and 2 test rows; with a few dozen
        # built designs that is all it holds back
        held = max(0.05, 2.5 / len(frame))
        dm = KineticDataModule(frame=frame[[*columns, target]], target=target,
                               split=(1 - 2 * held, held, held), seed=data_seed, batch_size=32,
                               transform="quantile", n_quantiles=min(1000, len(frame)),
                               categorical=categorical or None)
        dm.setup("fit")
    pl.seed_everything(weight_seed, verbose=False)  # before the weights: same seed, same run
    model = LatentVariableModel(dm.features, dm.target, conditional=True, **options,
                                levels=dm.levels or None)
    model.attach_data(dm.transform, dm.train_frame[dm.target].to_numpy())
    quiet_third_party()
    # one fit per cycle: Lightning's per-fit INFO lines (devices, stop reason) are noise here
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, limit_val_batches=0, accelerator="cpu")
    trainer.fit(model, datamodule=dm)
    return model


@register_strategy("generative")
class GenerativeStrategy(Strategy):
    """See the module docstring."""

    Options = GenerativeOptions
    options: GenerativeOptions
    # the data module keeps at least 2 validation and 2 test rows: 5 is the least it can split
    min_measured = 5
    colour = "cyan"

    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        o = self.options
        flux = measured[self.target].to_numpy(float)
        self.request = float(np.quantile(flux, o.target_quantile)) * (1 + o.target_boost)
        self.measured = measured
        self.generator = train_generator(measured, list(self.space.columns), self.target,
                                         o.epochs, o.model, self.seed,
                                         int(rng.integers(1 << 31)),
                                         list(self.space.categorical))
        self.surrogate: Any = None
        if o.rank_by_surrogate:
            self.surrogate = make_regressor(o.regressor, self.seed)
            self.surrogate.fit(self.space.features(measured), flux)
        self.classifier: Any = None
        if o.filter_valid and built["valid"].nunique() > 1:
            from sklearn.ensemble import GradientBoostingClassifier

            self.classifier = GradientBoostingClassifier(random_state=self.seed)
            self.classifier.fit(self.space.features(built), built["valid"].astype(int))

    def predict(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """What ranked the batch: the surrogate's prediction (its sd across the trees of a
        random forest, else NaN), or with ``ranker=acquisition`` the GP's mean and sd; NaN
        where nothing predicts a response (``rank_by_surrogate=false``)."""
        if self.options.ranker == "acquisition":
            return self.fitted("ranker_bo").predict(designs)
        self.fitted("generator")
        if self.surrogate is None:
            return super().predict(designs)
        return predict_with_sd(self.surrogate, self.space.features(designs))

    def _candidates(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """The generator's designs and a random pool, snapped, unbuilt and distinct."""
        generated = self.generator.sample(self.options.oversample * n, target=self.request,
                                          seed=int(rng.integers(1 << 31)))
        # a column every measured design shares (a library column with one allowed level) is
        # dropped from training as constant; the generator's designs keep that one value
        for column in self.space.columns:
            if column not in generated:
                generated[column] = self.measured[column].iloc[0]
        # the recommender's random pool beside the generated designs: the ranking sees every kind
        # of candidate the recommender sees, so the generator can only add to it (on a small
        # library, where random candidates cover most unbuilt designs, that is what wins)
        randoms = self.space.sample(self.options.random_pool, rng)
        candidates = pd.concat([generated[list(self.space.columns)], randoms])
        return drop_built(self.space.snap(candidates), built,
                          self.space.columns).reset_index(drop=True)

    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        o = self.options
        candidates = self._candidates(built, n, rng)
        if not len(candidates):  # every candidate already built: a small library, no random pool
            return candidates
        if o.ranker == "acquisition":  # the hybrid: BO's GP and qLogNEI rank the candidates
            from kinsynth.campaign.strategies.bo import BayesOptStrategy

            bo = BayesOptStrategy(self.space, self.target, self.seed, o.bo)
            bo.fit(built, rng)
            self.ranker_bo = bo
            return bo.pick(built, candidates, n)
        features = self.space.features(candidates)
        score = np.zeros(len(candidates))
        if self.surrogate is not None:
            score = self.surrogate.predict(features)
        if self.classifier is not None:
            p_valid = self.classifier.predict_proba(features)[:, 1]
            score = score * p_valid if self.surrogate is not None else p_valid
        ranked = self.surrogate is not None or self.classifier is not None
        order = np.argsort(-score) if ranked else rng.permutation(len(candidates))
        if o.diversity:
            order = diverse_pick(self.space.scaled_features(candidates), order, n, o.diversity,
                                 self.seed)
        return candidates.iloc[order[:n]]


def diverse_pick(points: np.ndarray, order: np.ndarray, n: int, factor: float,
                 seed: int) -> np.ndarray:
    """A batch that spreads out: k-means (n clusters) over the ``factor`` x n best-ranked
    ``points`` (candidates in standardised log space), and the best-ranked of each cluster,
    first; the rest of ``order`` follows.

    A generator asked for a response above the best seen proposes near-copies of one design; a
    lab wants several distinct top strains. ``factor`` trades rank for spread: 1 is the plain top n.
    """
    from sklearn.cluster import KMeans

    top = order[: int(round(factor * n))]
    if len(top) <= n:
        return order
    labels = KMeans(n_clusters=n, n_init=1, random_state=seed).fit_predict(points[top])
    first: dict[int, int] = {}
    for rank, label in enumerate(labels):  # top is in rank order: the first seen is the best
        first.setdefault(int(label), rank)
    picked = top[sorted(first.values())]
    return np.concatenate([picked, np.setdiff1d(order, picked, assume_unique=True)])
