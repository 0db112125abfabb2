"""Batch Bayesian optimisation: the peer an ML-minded metabolic engineer reaches for.

A Gaussian process (BoTorch's ``SingleTaskGP``, Matern-5/2 with one lengthscale per column) is
fitted on the valid built designs, in log fold-change space scaled to [0, 1] (a 2x step up and a
2x step down are the same distance, as for the other strategies), with a standardised outcome.
A batch is chosen by qLogNoisyExpectedImprovement with sequential greedy selection (each pick is
conditioned on the ones before it, as pending points), as in BioAutomata (HamediRad et al. 2019):

- over a candidate pool of ``pool_size`` random designs, or over the whole library when a
  discrete library is small enough to enumerate (``optimize_acqf_discrete``);
- or, with ``optimizer=continuous``, by gradient ascent on the space itself (``optimize_acqf``).

A failed build (no steady state: a strain that was made and did not produce) has no flux for the
GP, but it is information: with ``failures=weight`` a validity classifier, fitted on every build,
multiplies the acquisition by its probability that a design builds (added in log space to the
log-acquisition). ``failures=ignore`` leaves failures out, the naive BO of the issue.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch

from kinsynth.campaign.space import DesignSpace, drop_built
from kinsynth.core.errors import KinsynthError

OPTIMIZERS = ("discrete", "continuous")
FAILURE_MODES = ("weight", "ignore")
MIN_VALID = 3
FIT_ITERATIONS = 200
DTYPE = torch.float64  # BoTorch's advice: GP fits in single precision are unstable


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
        values = designs[list(self.space.columns)].to_numpy(float)[:, self.varied]
        return torch.as_tensor((np.log(values) - self.log_low) / self.log_span, dtype=DTYPE)

    def to_designs(self, unit: torch.Tensor) -> pd.DataFrame:
        values = np.tile(self.space.lows, (len(unit), 1))
        u = np.clip(unit.detach().cpu().numpy().reshape(len(unit), -1), 0.0, 1.0)
        values[:, self.varied] = np.exp(self.log_low + u * self.log_span)
        return pd.DataFrame(values, columns=list(self.space.columns))


def fit_gp(x: torch.Tensor, y: torch.Tensor) -> Any:
    """SingleTaskGP, Matern-5/2 ARD with BoTorch's dimension-scaled lengthscale prior."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
    from gpytorch.mlls import ExactMarginalLogLikelihood

    covar = get_covar_module_with_dim_scaled_prior(ard_num_dims=x.shape[-1], use_rbf_kernel=False)
    model = SingleTaskGP(x, y.reshape(-1, 1), covar_module=covar,
                         outcome_transform=Standardize(m=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BoTorch's input-scaling and optimiser chatter
        # capped: on 19 columns and 157 designs L-BFGS ran 1,258 iterations (50 s, two attempts);
        # BoTorch accepts a fit stopped at the cap without a retry
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                         optimizer_kwargs={"options": {"maxiter": FIT_ITERATIONS}})
    return model


class ValidityModel:
    """P(a design builds): logistic regression on the unit inputs and their pairwise products.

    Quadratic, so it can draw the curved boundaries where kinetic models lose their steady state
    (a step overloaded by its supply), and written in torch so the continuous optimiser can take
    its gradient.
    """

    def __init__(self, x: torch.Tensor, valid: np.ndarray, seed: int) -> None:
        from sklearn.linear_model import LogisticRegression

        self.pairs = list(itertools.combinations_with_replacement(range(x.shape[-1]), 2))
        classifier = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
        classifier.fit(self._features(x).numpy(), valid.astype(int))
        self.weights = torch.as_tensor(classifier.coef_[0], dtype=DTYPE)
        self.bias = float(classifier.intercept_[0])

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        i, j = zip(*self.pairs, strict=True)
        return torch.cat([x, x[..., list(i)] * x[..., list(j)]], dim=-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.logsigmoid(self._features(x) @ self.weights + self.bias)


def _weighted(acquisition: Any, validity: ValidityModel | None) -> Any:
    """The log-acquisition plus log P(valid) of the batch's new points (pending ones excluded)."""
    if validity is None:
        return acquisition
    from botorch.acquisition import AcquisitionFunction

    class ValidityWeighted(AcquisitionFunction):
        def __init__(self) -> None:
            super().__init__(model=acquisition.model)
            self.X_pending = None

        def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
            acquisition.set_X_pending(X_pending)
            self.X_pending = X_pending

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return acquisition(X) + validity.log_prob(X).sum(-1)

    return ValidityWeighted()


def candidate_designs(space: DesignSpace, pool_size: int, max_enumerate: int,
                      rng: np.random.Generator) -> pd.DataFrame:
    """The whole library when it holds at most ``max_enumerate`` designs, else ``pool_size``
    random designs (snapped to the library's levels)."""
    if space.discrete and space.library_size <= max_enumerate:
        per_column = [space.column_levels(j) for j in range(len(space.columns))]
        return pd.DataFrame(list(itertools.product(*per_column)), columns=list(space.columns))
    return space.snap(space.sample(pool_size, rng))


class BayesOptStrategy:
    """A GP and qLogNEI pick each batch; see the module docstring."""

    def __init__(self, space: DesignSpace, target: str, seed: int = 0, pool_size: int = 10000,
                 optimizer: str = "discrete", failures: str = "weight",
                 max_enumerate: int = 20000, mc_samples: int = 128, num_restarts: int = 4,
                 raw_samples: int = 256, prescreen: int = 10) -> None:
        if optimizer not in OPTIMIZERS:
            raise KinsynthError(f"strategy.optimizer={optimizer!r}: expected one of "
                                f"{list(OPTIMIZERS)}")
        if failures not in FAILURE_MODES:
            raise KinsynthError(f"strategy.failures={failures!r}: expected one of "
                                f"{list(FAILURE_MODES)}")
        if int(pool_size) < 1:
            raise KinsynthError(f"strategy.pool_size={pool_size}: expected a count >= 1")
        self.space, self.target, self.seed = space, target, seed
        self.pool_size, self.optimizer, self.failures = int(pool_size), optimizer, failures
        self.max_enumerate, self.mc_samples = int(max_enumerate), int(mc_samples)
        self.num_restarts, self.raw_samples = int(num_restarts), int(raw_samples)
        if int(prescreen) < 0:
            raise KinsynthError(f"strategy.prescreen={prescreen}: expected a count >= 0")
        self.prescreen = int(prescreen)
        self.scale = UnitScale(space)

    def acquisition(self, built: pd.DataFrame, rng: np.random.Generator) -> Any:
        """qLogNEI of a GP on the valid built designs, weighted by validity when so configured."""
        return self._fit(built, rng)[0]

    def _fit(self, built: pd.DataFrame, rng: np.random.Generator) -> tuple[Any, Any, Any, Any]:
        """(weighted qLogNEI, GP, validity model or None, the valid designs' unit inputs)."""
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
        y = torch.as_tensor(built[self.target].to_numpy(float)[valid_mask], dtype=DTYPE)
        model = fit_gp(x_all[valid_mask], y)
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([self.mc_samples]),
                                        seed=int(rng.integers(1 << 31)))
        acquisition = qLogNoisyExpectedImprovement(model, x_all[valid_mask], sampler=sampler,
                                                   prune_baseline=True)
        validity = None
        if self.failures == "weight" and 0 < valid_mask.sum() < len(valid_mask):
            validity = ValidityModel(x_all, valid_mask, self.seed)
        return _weighted(acquisition, validity), model, validity, x_all[valid_mask]

    def _prescreen(self, model: Any, validity: ValidityModel | None, x_train: torch.Tensor,
                   choices: torch.Tensor, keep: int) -> torch.Tensor:
        """The ``keep`` choices of highest analytic log-EI (times P(valid)): one cheap pass, so
        the greedy qLogNEI, which costs about a millisecond per candidate and pick, sees few."""
        from botorch.acquisition.analytic import LogExpectedImprovement

        if len(choices) <= keep:
            return choices
        with torch.no_grad():
            best = model.posterior(x_train).mean.max()
            score = torch.cat([LogExpectedImprovement(model, best_f=best)(part[:, None, :])
                               for part in torch.split(choices, 4096)])
            if validity is not None:
                score = score + validity.log_prob(choices)
        return choices[torch.topk(score, keep).indices]

    def choose(self, built: pd.DataFrame, candidates: pd.DataFrame, n: int,
               rng: np.random.Generator) -> pd.DataFrame:
        """Greedy batch of up to ``n`` unbuilt ``candidates`` by the acquisition."""
        from botorch.optim import optimize_acqf_discrete

        candidates = drop_built(candidates, built, self.space.columns).reset_index(drop=True)
        if not len(candidates):
            return candidates
        acquisition, model, validity, x_train = self._fit(built, rng)
        choices = self.scale.to_unit(candidates)
        if self.prescreen:
            choices = self._prescreen(model, validity, x_train, choices, self.prescreen * n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picked, _ = optimize_acqf_discrete(acquisition, q=min(n, len(choices)),
                                               choices=choices, unique=True)
        return self.space.snap(self.scale.to_designs(picked))

    def candidates(self, rng: np.random.Generator) -> pd.DataFrame:
        return candidate_designs(self.space, self.pool_size, self.max_enumerate, rng)

    def _continuous(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        from botorch.optim import optimize_acqf

        acquisition = self._fit(built, rng)[0]
        bounds = torch.stack([torch.zeros(self.scale.dim, dtype=DTYPE),
                              torch.ones(self.scale.dim, dtype=DTYPE)])
        torch.manual_seed(int(rng.integers(1 << 31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picked, _ = optimize_acqf(acquisition, bounds=bounds, q=n, sequential=True,
                                      num_restarts=self.num_restarts,
                                      raw_samples=self.raw_samples, options={"maxiter": 50})
        designs = self.space.snap(self.scale.to_designs(picked))
        return drop_built(designs, built, self.space.columns).reset_index(drop=True)

    def propose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        from kinsynth.campaign.strategies import fill_with_random

        if self.optimizer == "continuous":
            chosen = self._continuous(built, n, rng)
        else:
            chosen = self.choose(built, self.candidates(rng), n, rng)
        # a library's levels can run out of unbuilt designs, and snapping can merge two picks
        return fill_with_random(chosen, built, n, self.space, rng)
