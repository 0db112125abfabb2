"""Batch Bayesian optimisation: the peer an ML-minded metabolic engineer reaches for.

A Gaussian process (BoTorch's ``SingleTaskGP``, Matern-5/2 with one lengthscale per column) is
fitted on the valid built designs, in log fold-change space scaled to [0, 1] (a 2x step up and a
2x step down are the same distance, as for the other strategies), with a standardised outcome.
A batch is chosen by qLogNoisyExpectedImprovement with sequential greedy selection (each pick is
conditioned on the ones before it, as pending points), as in BioAutomata (HamediRad et al. 2019):

- over a candidate pool of ``pool_size`` random designs, or over the whole library when a
  discrete library is small enough to enumerate; an analytic log-EI pass keeps the
  ``prescreen`` x n most promising candidates, and the greedy batch is chosen among them;
- or, with ``optimizer=continuous``, by gradient ascent on the space itself (``optimize_acqf``).

The discrete greedy is BoTorch's ``optimize_acqf_discrete`` on qLogNEI (``batch=botorch``, the
default), which recomputes the joint posterior for each pick and candidate. ``batch=joint`` draws
the GP's joint posterior over the measured designs and the candidates once, as ``mc_samples``
quasi-Monte Carlo samples, and picks each next design by the batch's noisy expected improvement
over those same samples: about 10x faster per pick at 200 built, but its campaigns differ
(fewer failed builds, fewer top-1 % designs on pathway I and the burden landscape; docs/dbtl.md),
so it is an option, not the default.

On a space of parts (slots of named parts, gene sets, numeric levels, candidate lists) the GP is
BoTorch's ``MixedSingleTaskGP``: each slot and each gene is a categorical input (its part's
index; the categorical kernel sees only whether two designs share a part, so a slot's order
means nothing), each numeric column and each slot's descriptor (a measured promoter strength) a
continuous input, its log scaled to [0, 1]. The batch is chosen as above, over the enumerated
library or listed candidates (a pool of ``pool_size`` when the space is too large to list);
``optimizer=continuous`` has no meaning there and is refused.

A failed build (no steady state: a strain that was made and did not produce) has no flux for the
GP, but it is information: with ``failures=weight`` a validity classifier, fitted on every build,
multiplies the acquisition by its probability that a design builds (added in log space to the
log-acquisition). ``failures=ignore`` leaves failures out, the naive BO of the issue.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinsynth.campaign.parts import PartSpace
from kinsynth.campaign.space import DesignSpace, Space, drop_built
from kinsynth.campaign.strategies.base import Strategy, StrategyOptions
from kinsynth.campaign.strategies.registry import register_strategy
from kinsynth.core.errors import KinsynthError

if TYPE_CHECKING:
    import torch
    from botorch.acquisition import AcquisitionFunction
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import Kernel

OPTIMIZERS = ("discrete", "continuous")
BATCH_METHODS = ("joint", "botorch")
FAILURE_MODES = ("weight", "ignore")
#: valid measured designs the Gaussian process is fitted on at the least
MIN_VALID = 3
FIT_ITERATIONS = 200


def _dtype() -> torch.dtype:
    """float64: BoTorch's advice, GP fits in single precision are unstable (torch loads here)."""
    import torch

    return torch.float64


class UnitScale:
    """Log fold change scaled to [0, 1] per varied column; fixed columns are left out."""

    def __init__(self, space: DesignSpace) -> None:
        self.space = space
        self.varied = np.flatnonzero(space.highs > space.lows)
        self.log_low = np.log(space.lows[self.varied])
        self.log_span = np.log(space.highs[self.varied]) - self.log_low

    @property
    def dim(self) -> int:
        return len(self.varied)

    def to_unit(self, designs: pd.DataFrame) -> torch.Tensor:
        import torch

        logs = self.space.features(designs)[:, self.varied]
        return torch.as_tensor((logs - self.log_low) / self.log_span, dtype=_dtype())

    def to_designs(self, unit: torch.Tensor) -> pd.DataFrame:
        values = np.tile(self.space.lows, (len(unit), 1))
        u = np.clip(unit.detach().cpu().numpy().reshape(len(unit), -1), 0.0, 1.0)
        values[:, self.varied] = np.exp(self.log_low + u * self.log_span)
        return pd.DataFrame(values, columns=list(self.space.columns))


class PartEncoding:
    """A space of parts as GP inputs: each slot and gene one categorical dimension (its level
    index, :attr:`cat_dims`), each numeric column and each slot's descriptor one continuous
    dimension, its log (its value, where some level is not positive) scaled to [0, 1]."""

    def __init__(self, space: PartSpace) -> None:
        self.space = space
        #: the space's columns that are categorical (slots, genes), with their level counts
        self.cat_dims: list[int] = []
        self.cat_sizes: list[int] = []
        #: per continuous dimension: its column's index and each level's value in [0, 1]
        self.continuous: list[tuple[int, np.ndarray]] = []
        for j, column in enumerate(space.columns):
            if column in space.numbers:
                self.continuous.append((j, _unit(np.asarray(space.numbers[column], float))))
            else:
                self.cat_dims.append(j)
                self.cat_sizes.append(len(space.column_levels(j)))
        self.numeric_dims = [j for j, _ in self.continuous]
        for j, column in enumerate(space.columns):
            if column in space.descriptors:
                described = [space.descriptors[column][part] for part in space.slots[column]]
                self.continuous.append((j, _unit(np.asarray(described, float))))

    @property
    def dim(self) -> int:
        return len(self.cat_dims) + len(self.continuous)

    @property
    def gp_cat_dims(self) -> list[int]:
        """The categorical dimensions' positions among :meth:`to_unit`'s columns: the first."""
        return list(range(len(self.cat_dims)))

    def to_unit(self, designs: pd.DataFrame) -> torch.Tensor:
        """Categorical dimensions first (a column's level index), then the continuous ones."""
        import torch

        codes = self.space.codes(designs)
        blocks = [codes[:, self.cat_dims].astype(float)]
        blocks += [levels[codes[:, j]][:, None] for j, levels in self.continuous]
        return torch.as_tensor(np.hstack(blocks), dtype=_dtype())

    def to_designs(self, unit: torch.Tensor) -> pd.DataFrame:
        """The designs of :meth:`to_unit`'s rows: a numeric column's level is the nearest."""
        values = unit.detach().cpu().numpy().reshape(len(unit), -1)
        codes = np.zeros((len(values), len(self.space.columns)), dtype=np.int64)
        codes[:, self.cat_dims] = np.rint(values[:, :len(self.cat_dims)]).astype(np.int64)
        for k, j in enumerate(self.numeric_dims):
            levels = self.continuous[k][1]
            column = values[:, len(self.cat_dims) + k]
            codes[:, j] = np.abs(column[:, None] - levels).argmin(axis=1)
        return self.space.decode(codes)

    def one_hot(self, x: torch.Tensor) -> torch.Tensor:
        """Each categorical dimension as 0/1 columns, beside the continuous ones: what a linear
        classifier needs (a level index is no quantity)."""
        import torch

        blocks = []
        for k, size in enumerate(self.cat_sizes):
            levels = torch.arange(size, dtype=x.dtype)
            blocks.append((x[..., k:k + 1] == levels).to(x.dtype))
        blocks.append(x[..., len(self.cat_dims):])
        return torch.cat(blocks, dim=-1)


def _unit(values: np.ndarray) -> np.ndarray:
    """Levels on [0, 1]: their logs when all are positive (a 2x step is one step either way)."""
    if (values > 0).all():
        values = np.log(values)
    span = float(np.ptp(values))
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def fit_gp(x: torch.Tensor, y: torch.Tensor, cat_dims: Sequence[int] = ()) -> SingleTaskGP:
    """SingleTaskGP, Matern-5/2 ARD with BoTorch's dimension-scaled lengthscale prior; with
    ``cat_dims``, MixedSingleTaskGP: that kernel on the continuous dimensions and BoTorch's
    categorical kernel (same part or not, one lengthscale per dimension) on those."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import MixedSingleTaskGP, SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
    from gpytorch.mlls import ExactMarginalLogLikelihood

    model: SingleTaskGP
    if cat_dims:
        model = MixedSingleTaskGP(x, y.reshape(-1, 1), cat_dims=list(cat_dims),
                                  cont_kernel_factory=_matern,
                                  outcome_transform=Standardize(m=1))
    else:
        covar = get_covar_module_with_dim_scaled_prior(ard_num_dims=x.shape[-1],
                                                       use_rbf_kernel=False)
        model = SingleTaskGP(x, y.reshape(-1, 1), covar_module=covar,
                             outcome_transform=Standardize(m=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BoTorch's input-scaling and optimiser chatter
        # capped: on 19 columns and 157 designs L-BFGS ran 1,258 iterations (50 s, two attempts);
        # BoTorch accepts a fit stopped at the cap without a retry
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                         optimizer_kwargs={"options": {"maxiter": FIT_ITERATIONS}})
    return model


def _matern(batch_shape: torch.Size, ard_num_dims: int, active_dims: list[int]) -> Kernel:
    """The continuous strategy's kernel for a mixed space's continuous dimensions."""
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior

    return get_covar_module_with_dim_scaled_prior(ard_num_dims=ard_num_dims,
                                                  batch_shape=batch_shape,
                                                  use_rbf_kernel=False, active_dims=active_dims)


class ValidityModel:
    """P(a design builds): logistic regression on the unit inputs and their pairwise products.

    Quadratic, so it can draw the curved boundaries where kinetic models lose their steady state
    (a step overloaded by its supply), and written in torch so the continuous optimiser can take
    its gradient.
    """

    def __init__(self, x: torch.Tensor, valid: np.ndarray, seed: int,
                 inputs: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        """``inputs`` maps the GP's inputs to the classifier's (a space of parts: one-hot)."""
        import torch
        from sklearn.linear_model import LogisticRegression

        self.inputs = inputs
        width = x.shape[-1] if inputs is None else inputs(x[:1]).shape[-1]
        self.pairs = list(itertools.combinations_with_replacement(range(width), 2))
        classifier = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
        classifier.fit(self._features(x).numpy(), valid.astype(int))
        self.weights = torch.as_tensor(classifier.coef_[0], dtype=_dtype())
        self.bias = float(classifier.intercept_[0])

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        if self.inputs is not None:
            x = self.inputs(x)
        i, j = zip(*self.pairs, strict=True)
        return torch.cat([x, x[..., list(i)] * x[..., list(j)]], dim=-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.nn.functional.logsigmoid(self._features(x) @ self.weights + self.bias)


def _weighted(acquisition: AcquisitionFunction, validity: ValidityModel | None
              ) -> AcquisitionFunction:
    """The log-acquisition plus log P(valid) of the batch's new points (pending ones excluded)."""
    if validity is None:
        return acquisition
    from botorch.acquisition import AcquisitionFunction

    log_valid = validity.log_prob

    # the ignores below: botorch leaves X_pending unannotated, so its type is inferred from
    # botorch's first assignment (a Tensor), though botorch itself sets it to None as well
    class ValidityWeighted(AcquisitionFunction):
        def __init__(self) -> None:
            super().__init__(model=acquisition.model)
            self.X_pending = None  # type: ignore[assignment]

        def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
            acquisition.set_X_pending(X_pending)
            self.X_pending = X_pending  # type: ignore[assignment]

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return acquisition(X) + log_valid(X).sum(-1)

    return ValidityWeighted()


@dataclasses.dataclass
class BayesOptOptions(StrategyOptions):
    #: discrete: the best of the candidates; continuous: gradient ascent on the space
    optimizer: str = "discrete"
    #: random designs scored when the library is not enumerated
    pool_size: int = 10000
    #: a library up to this many designs is scored whole
    max_enumerate: int = 20000
    #: weight: the acquisition times a validity classifier's P(builds); ignore: failures left out
    failures: str = "weight"
    #: quasi-Monte Carlo samples of qLogNEI
    mc_samples: int = 128
    #: optimizer=continuous: restarts and raw samples per greedy pick
    num_restarts: int = 4
    raw_samples: int = 256
    #: prescreen x n candidates of highest analytic log-EI enter the greedy qLogNEI (0 = all)
    prescreen: int = 10
    #: the discrete greedy: botorch (qLogNEI recomputed per pick) | joint (one sample set)
    batch: str = "botorch"

    def check(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise KinsynthError(f"strategy.optimizer={self.optimizer!r}: expected one of "
                                f"{list(OPTIMIZERS)}")
        if self.batch not in BATCH_METHODS:
            raise KinsynthError(f"strategy.batch={self.batch!r}: expected one of "
                                f"{list(BATCH_METHODS)}")
        if self.failures not in FAILURE_MODES:
            raise KinsynthError(f"strategy.failures={self.failures!r}: expected one of "
                                f"{list(FAILURE_MODES)}")
        for key, least in (("pool_size", 1), ("max_enumerate", 1), ("mc_samples", 1),
                           ("num_restarts", 1), ("raw_samples", 1), ("prescreen", 0)):
            if getattr(self, key) < least:
                raise KinsynthError(f"strategy.{key}={getattr(self, key)}: expected a count "
                                    f">= {least}")


@register_strategy("bo")
class BayesOptStrategy(Strategy):
    """A GP and qLogNEI pick each batch; see the module docstring."""

    Options = BayesOptOptions
    options: BayesOptOptions
    min_measured = MIN_VALID
    colour = "tab:purple"

    def __init__(self, space: Space, target: str, seed: int = 0,
                 options: StrategyOptions | Mapping[str, Any] | None = None,
                 **keywords: Any) -> None:
        super().__init__(space, target, seed, options, **keywords)
        self.scale: UnitScale | PartEncoding
        if isinstance(space, DesignSpace):
            self.scale = UnitScale(space)
        elif isinstance(space, PartSpace):
            if self.options.optimizer == "continuous":
                raise KinsynthError("strategy.optimizer=continuous: a space of parts is a list "
                                    "of designs, not a range to climb; expected "
                                    "strategy.optimizer=discrete")
            self.scale = PartEncoding(space)
        else:
            raise KinsynthError(f"strategy=bo: no GP inputs for a {type(space).__name__}; "
                                "expected a space of fold changes or of parts")

    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        self.fit(built, rng)

    def fit(self, built: pd.DataFrame, rng: np.random.Generator) -> None:
        """The GP on the valid built designs, qLogNEI on it, and (``failures=weight``, when some
        builds failed) the validity model that weights it."""
        import torch
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.sampling import SobolQMCNormalSampler

        valid_mask = built["valid"].astype(bool).to_numpy() & np.isfinite(
            built[self.target].to_numpy(float))
        if valid_mask.sum() < MIN_VALID:
            raise KinsynthError(
                f"strategy=bo needs at least {MIN_VALID} valid built designs (with a measured "
                f"{self.target}) to fit its Gaussian process; got {int(valid_mask.sum())}")
        torch.manual_seed(int(rng.integers(1 << 31)))
        x_all = self.scale.to_unit(built)
        y = torch.as_tensor(built[self.target].to_numpy(float)[valid_mask], dtype=_dtype())
        cat_dims = self.scale.gp_cat_dims if isinstance(self.scale, PartEncoding) else ()
        self.model = fit_gp(x_all[valid_mask], y, cat_dims)
        self.sample_seed = int(rng.integers(1 << 31))
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([self.options.mc_samples]),
                                        seed=self.sample_seed)
        acquisition = qLogNoisyExpectedImprovement(self.model, x_all[valid_mask],
                                                   sampler=sampler, prune_baseline=True)
        self.validity = None
        if self.options.failures == "weight" and 0 < valid_mask.sum() < len(valid_mask):
            inputs = self.scale.one_hot if isinstance(self.scale, PartEncoding) else None
            self.validity = ValidityModel(x_all, valid_mask, self.seed, inputs)
        self.acquisition = _weighted(acquisition, self.validity)
        self.x_train = x_all[valid_mask]

    def predict(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The GP's posterior mean and sd of the noise-free response, in the response's units
        (the outcome's standardisation undone)."""
        import torch

        model = self.fitted("model")
        with torch.no_grad():
            posterior = model.posterior(self.scale.to_unit(designs))
            mean = posterior.mean[..., 0].numpy()
            sd = posterior.variance.clamp_min(0.0).sqrt()[..., 0].numpy()
        return mean.astype(float), sd.astype(float)

    def _prescreen(self, choices: torch.Tensor, keep: int) -> torch.Tensor:
        """The ``keep`` choices of highest analytic log-EI (times P(valid)): one cheap pass, so
        the greedy qLogNEI, which costs about a millisecond per candidate and pick, sees few."""
        import torch
        from botorch.acquisition.analytic import LogExpectedImprovement

        if len(choices) <= keep:
            return choices
        with torch.no_grad():
            best = self.model.posterior(self.x_train).mean.max()
            score = torch.cat([LogExpectedImprovement(self.model, best_f=best)(part[:, None, :])
                               for part in torch.split(choices, 4096)])
            if self.validity is not None:
                score = score + self.validity.log_prob(choices)
        return choices[torch.topk(score, keep).indices]

    def pick(self, built: pd.DataFrame, candidates: pd.DataFrame, n: int) -> pd.DataFrame:
        """Greedy batch of up to ``n`` unbuilt ``candidates`` by the fitted acquisition."""
        from botorch.optim import optimize_acqf_discrete

        candidates = drop_built(candidates, built, self.space.columns).reset_index(drop=True)
        if not len(candidates):
            return candidates
        choices = self.scale.to_unit(candidates)
        if self.options.prescreen:
            choices = self._prescreen(choices, self.options.prescreen * n)
        if self.options.batch == "joint":
            return self.scale.to_designs(choices[self._joint_greedy(choices, min(n, len(choices)))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picked, _ = optimize_acqf_discrete(self.acquisition, q=min(n, len(choices)),
                                               choices=choices, unique=True)
        return self.scale.to_designs(picked)

    def _joint_greedy(self, choices: torch.Tensor, q: int) -> list[int]:
        """Indices of ``q`` choices picked one by one, each maximising qLogNEI of the batch so far
        plus it (plus log P(valid)), on one set of joint posterior samples of the measured designs
        and every choice.

        The value is BoTorch's qLogNEI, term by term: per sample, the smoothed log-improvement of
        each point over the best measured design (``log_fatplus``, ``tau_relu``: a candidate no
        sample improves still ranks by how near it comes), the batch's maximum over its points,
        and the log of the mean over samples (``logmeanexp``). Two things differ: the samples
        are drawn once instead of once per pick and candidate, and the batch's maximum is exact
        (BoTorch smooths it, ``fatmax``, for gradient-based optimisers; a discrete greedy needs
        no gradient), so each pick costs one pass over samples x candidates.
        """
        import torch
        from botorch.acquisition.logei import TAU_RELU
        from botorch.sampling import SobolQMCNormalSampler
        from botorch.utils.safe_math import log_fatplus, logmeanexp

        n_base = len(self.x_train)
        with torch.no_grad():
            posterior = self.model.posterior(torch.cat([self.x_train, choices]))
            sampler = SobolQMCNormalSampler(sample_shape=torch.Size([self.options.mc_samples]),
                                            seed=self.sample_seed)
            samples = sampler(posterior)[..., 0]  # mc_samples x (measured + choices)
            incumbent = samples[:, :n_base].max(dim=1, keepdim=True).values
            log_improvement = log_fatplus(samples[:, n_base:] - incumbent, tau=TAU_RELU)
            log_valid = (self.validity.log_prob(choices) if self.validity is not None
                         else torch.zeros(len(choices), dtype=samples.dtype))
            # per sample, the batch's best log-improvement so far (none yet: -inf)
            best = torch.full((len(samples),), -torch.inf, dtype=samples.dtype)
            picked: list[int] = []
            for _ in range(q):
                trial = torch.maximum(best[:, None], log_improvement)
                score = logmeanexp(trial, dim=0) + log_valid
                score[picked] = -torch.inf
                picked.append(int(torch.argmax(score)))
                best = trial[:, picked[-1]]
        return picked

    def _continuous(self, n: int) -> pd.DataFrame:
        import torch
        from botorch.optim import optimize_acqf

        bounds = torch.stack([torch.zeros(self.scale.dim, dtype=_dtype()),
                              torch.ones(self.scale.dim, dtype=_dtype())])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picked, _ = optimize_acqf(self.acquisition, bounds=bounds, q=n, sequential=True,
                                      num_restarts=self.options.num_restarts,
                                      raw_samples=self.options.raw_samples,
                                      options={"maxiter": 50})
        return self.scale.to_designs(picked)

    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        import torch

        if self.options.optimizer == "continuous":
            torch.manual_seed(int(rng.integers(1 << 31)))
            return self._continuous(n)
        candidates = self.space.candidates(self.options.pool_size, self.options.max_enumerate,
                                           rng)
        return self.pick(built, candidates, n)
