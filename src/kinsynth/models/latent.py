"""VAE, CVAE and beta-CVAE: one latent-variable LightningModule, configured, never subclassed.

One Lightning training step runs a whole epoch of mini-batch updates (manual optimisation): the
DataModule hands over the epoch's shuffled batches at once, so Lightning's per-step bookkeeping is
paid once per epoch instead of once per batch. On tables of a few thousand rows that bookkeeping
would otherwise cost more than the model's own arithmetic. The updates are the same mini-batch
updates a plain loop makes (scripts/benchmark.py checks the weights match exactly). What follows:
``trainer.global_step`` counts epochs, and optimizer hooks (``on_before_optimizer_step``) run once
per epoch, for its last mini-batch.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional

from kinsynth.core.counts import positive_int
from kinsynth.core.errors import KinsynthError
from kinsynth.models.base import GenerativeModule
from kinsynth.models.elbo import (
    LIKELIHOODS,
    ElboTerms,
    elbo_loss,
    kl_to_standard_normal,
    kl_weight,
    numeric_mask,
    reconstruction_nll,
)
from kinsynth.models.epoch_figures import log_epoch_figures, show_epoch_figures
from kinsynth.models.limits import MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS
from kinsynth.models.networks import mlp

if TYPE_CHECKING:
    from pytorch_lightning.utilities.types import OptimizerLRScheduler

Batch = tuple[torch.Tensor, torch.Tensor | None]
LOG_VAR_BOUNDS = (-9.0, 4.0)
PRIORS = ("standard", "aggregate")
LR_SCHEDULES = ("constant", "cosine")
#: the figures each epoch of training reports: the means over its mini-batches, and the KL weight
TRAIN_FIGURES = ("train/loss", "train/recon", "train/kl", "train/beta")


def _check_hidden(hidden: Sequence[int]) -> list[int]:
    """Hidden layer widths, bounded before any weight is allocated."""
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise KinsynthError(f"model.hidden={hidden!r}: expected a list of layer widths")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise KinsynthError(f"model.hidden: {len(hidden)} layers, at most {MAX_HIDDEN_LAYERS}")
    return [positive_int("model.hidden", width, MAX_HIDDEN_UNITS) for width in hidden]


class NonFiniteLossError(KinsynthError):
    """Raised when training diverges, so the run stops; checkpoints written before it stay."""


class LatentVariableModel(GenerativeModule):
    """Gaussian-latent autoencoding model trained on the (beta-weighted) ELBO.

    VAE = ``conditional=False, beta=1``; CVAE = ``conditional=True, beta=1``; beta-CVAE =
    ``conditional=True`` with another ``beta``. The scaled target is concatenated to the encoder's
    and the decoder's input when conditional, as in the thesis CVAE.

    ``prior`` only changes where sampling draws z from, never the ELBO: ``standard`` draws from
    N(0, I); ``aggregate`` draws from a full-covariance Gaussian moment-matched to the aggregate
    posterior of the training rows, (1/N) sum_i q(z | x_i), refreshed once per epoch. With a small
    beta the encoder leaves the aggregate posterior off N(0, I) (shifted, correlated, some
    dimensions narrower), and decoding prior draws from the "holes" gives unrealistic rows; an
    ex-post fit to where the codes actually lie removes that mismatch (Ghosh et al. 2020). On
    the reference data it matters once training runs long (600 epochs: C2ST 0.61 -> 0.57) and is
    neutral at 300 epochs (docs/results.md).
    """

    checkpoint_name = "LatentVariableModel"  # what 0.1.0 checkpoints record: never change it
    has_network = True
    # buffers of the aggregate prior (registered in __init__ for prior=aggregate only)
    prior_mean: torch.Tensor
    prior_scale_tril: torch.Tensor
    prior_condition_mean: torch.Tensor
    prior_slope: torch.Tensor

    def __init__(
        self,
        feature_columns: Sequence[str],
        target: str | None,
        latent_dim: int = 11,
        hidden: Sequence[int] = (64, 64),
        activation: str = "relu",
        conditional: bool = True,
        joint: bool = True,
        beta: float = 1.0,
        warmup_epochs: int = 0,
        free_bits: float = 0.0,
        likelihood: str = "learned",
        output_activation: str | None = None,
        prior: str = "standard",
        lr_schedule: str = "constant",
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        levels: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(feature_columns, target, latent_dim, conditional, joint, levels)
        if likelihood not in LIKELIHOODS:
            raise KinsynthError(f"model.likelihood={likelihood!r}: expected one of {LIKELIHOODS}")
        if prior not in PRIORS:
            raise KinsynthError(f"model.prior={prior!r}: expected one of {PRIORS}")
        if lr_schedule not in LR_SCHEDULES:
            raise KinsynthError(
                f"model.lr_schedule={lr_schedule!r}: expected one of {LR_SCHEDULES}"
            )
        if output_activation not in (None, "relu"):
            raise KinsynthError(
                f"model.output_activation={output_activation!r}: expected null or 'relu'"
            )
        hidden = _check_hidden(hidden)
        self.save_hyperparameters(ignore=["optimizer"])
        self.automatic_optimization = False
        self.optimizer_factory = optimizer
        data_dim, cond_dim = self.data_width, len(self.condition_columns)
        self.blocks = self.categorical_blocks
        self.encoder = mlp(data_dim + cond_dim, hidden, 2 * self.latent_dim, activation)
        self.decoder = mlp(self.latent_dim + cond_dim, hidden, data_dim, activation)
        self.log_var = nn.Parameter(torch.zeros(data_dim)) if likelihood == "learned" else None
        self.output_relu = output_activation == "relu"
        self.beta = float(beta)
        self.warmup_epochs = int(warmup_epochs)
        self.free_bits = float(free_bits)
        self.prior = prior
        self.lr_schedule = lr_schedule
        self._epoch_figures: dict[str, float] = {}
        if prior == "aggregate":
            # N(prior_mean, L L^T); buffers so checkpoints carry the fitted aggregate prior (only
            # for this prior, so checkpoints of standard-prior models keep their exact layout)
            self.register_buffer("prior_mean", torch.zeros(self.latent_dim))
            self.register_buffer("prior_scale_tril", torch.eye(self.latent_dim))
            self.register_buffer("prior_condition_mean", torch.zeros(cond_dim))
            self.register_buffer("prior_slope", torch.zeros(self.latent_dim, cond_dim))

    # ---- the network ---------------------------------------------------------------------------
    @staticmethod
    def _join(a: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        return a if condition is None else torch.cat([a, condition], dim=1)

    def encode_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.encoder(self._join(data, condition)).chunk(2, dim=1)
        return mu, log_var

    def decode_mean(self, z: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        mean = self.decoder(self._join(z, condition))
        if not self.output_relu:
            return mean
        if not self.blocks:
            return torch.relu(mean)
        # a softmax head's logits are not amounts: only the numeric columns are clipped at 0
        mask = numeric_mask(mean.shape[1], self.blocks, mean.device)
        return torch.where(mask, torch.relu(mean), mean)

    def decoder_log_var(self) -> torch.Tensor | None:
        return None if self.log_var is None else self.log_var.clamp(*LOG_VAR_BOUNDS)

    def reconstruct_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> torch.Tensor:
        mu, _ = self.encode_scaled(data, condition)
        return self.decode_mean(mu, condition)

    def sample_scaled(
        self, n: int, condition: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        """Ancestral sampling: z ~ prior, then x ~ p(x | z); decoder noise only when learned."""
        z = torch.randn(n, self.latent_dim, generator=generator, device=self.device)
        if self.prior == "aggregate":
            z = self.prior_mean + z @ self.prior_scale_tril.T
            if condition is not None:
                z = z + (condition - self.prior_condition_mean) @ self.prior_slope.T
        mean = self.decode_mean(z, condition)
        log_var = self.decoder_log_var()
        values = mean
        if log_var is not None:
            noise = torch.randn(mean.shape, generator=generator, device=self.device)
            values = mean + noise * torch.exp(0.5 * log_var)
        for start, stop in self.blocks:
            # a part is drawn from its softmax head, whatever the numeric likelihood
            probs = torch.softmax(mean[:, start:stop], dim=1)
            drawn = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            values[:, start:stop] = functional.one_hot(drawn, stop - start).to(values.dtype)
        return values

    def elbo(
        self, data: torch.Tensor, condition: torch.Tensor | None, beta: float
    ) -> ElboTerms:
        mu, log_var = self.encode_scaled(data, condition)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        recon = reconstruction_nll(data, self.decode_mean(z, condition), self.decoder_log_var(),
                                   self.blocks)
        return elbo_loss(recon, kl_to_standard_normal(mu, log_var), beta, self.free_bits)

    @torch.no_grad()
    def fit_aggregate_prior(self, data: torch.Tensor, condition: torch.Tensor | None) -> None:
        """Moment-match a Gaussian to the aggregate posterior of ``data``: one encoder pass.

        Unconditional: N(m, S) with m the mean of the posterior means and S their covariance plus
        the mean posterior variance (law of total variance for the mixture of the q(z | x_i)).
        Conditional: the same Gaussian fitted jointly over (z, target) and conditioned on the
        target, z | c ~ N(m + B (c - m_c), S - B S_cz). A CVAE's codes are meant to be independent
        of the target but in practice keep some of it (x nearly determines the flux), and drawing
        z independently of the requested target then pulls designs towards the average flux.
        """
        mu, log_var = self.encode_scaled(data, condition)
        k = self.latent_dim
        codes = mu if condition is None else torch.cat([mu, condition], dim=1)
        mean = codes.mean(dim=0)
        centred = codes - mean
        cov = centred.T @ centred / max(len(codes) - 1, 1)
        cov_zz = cov[:k, :k] + torch.diag(log_var.exp().mean(dim=0))
        if condition is None:
            slope = self.prior_slope
        else:
            cov_cc = cov[k:, k:] + 1e-6 * torch.eye(cov.shape[0] - k, device=cov.device)
            slope = torch.linalg.solve(cov_cc, cov[k:, :k]).T  # B = S_zc S_cc^-1
            cov_zz = cov_zz - slope @ cov[k:, :k]
        jitter = 1e-6 * torch.eye(k, device=cov.device, dtype=cov.dtype)
        scale_tril, info = torch.linalg.cholesky_ex(cov_zz + jitter)
        # a failed factorisation (non-finite codes) keeps the previous prior rather than NaNs
        ok = (info == 0) & torch.isfinite(scale_tril).all() & torch.isfinite(slope).all()
        self.prior_mean.copy_(torch.where(ok, mean[:k], self.prior_mean))
        self.prior_condition_mean.copy_(torch.where(ok, mean[k:], self.prior_condition_mean))
        self.prior_slope.copy_(torch.where(ok, slope, self.prior_slope))
        self.prior_scale_tril.copy_(torch.where(ok, scale_tril, self.prior_scale_tril))

    # ---- Lightning ------------------------------------------------------------------------------
    def configure_optimizers(self) -> OptimizerLRScheduler:
        """The optimizer, plus a per-epoch cosine decay of its lr to 0 with ``lr_schedule=cosine``.

        Offered because sampling quality, not the loss, is what the run is judged on, and a decayed
        lr settles the final weights. On the reference data it settled on a lower-KL optimum that
        conditions worse (docs/results.md), so ``constant`` stays the default.
        """
        optimizer = self.build_optimizer(self.parameters())
        if self.lr_schedule == "constant":
            return optimizer
        epochs = (
            self.trainer.max_epochs
            if self.trainer.max_epochs and self.trainer.max_epochs > 0
            else 1
        )
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }

    def build_optimizer(self, parameters: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
        """The configured optimizer (Adam at lr 1e-3 when none is) over ``parameters``."""
        factory = self.optimizer_factory or functools.partial(torch.optim.Adam, lr=1e-3)
        return factory(params=parameters)

    def current_beta(self) -> float:
        return kl_weight(self.beta, self.current_epoch, self.warmup_epochs)

    def training_step(self, batches: list[Batch], batch_idx: int) -> None:
        """One epoch of mini-batch updates; figures are averaged over the epoch's batches."""
        lightning_optimizer = self.optimizers()
        assert not isinstance(lightning_optimizer, list), "configure_optimizers gives one"
        optimizer = lightning_optimizer.optimizer
        if self.training_replay is not None:
            # Lightning's step with no gradients moves no weight; it keeps the step count and
            # the optimizer hooks as a computed epoch has them
            lightning_optimizer.step()
            values = self.training_replay.restore(self, optimizer, self.current_epoch)
            self._end_epoch(values[:3], float(values[3]))
            return
        beta = self.current_beta()
        # a single full-precision process needs none of manual_backward's precision or strategy
        # handling; skipping it (and its hook dispatch) saves ~8% per step on small models
        plain_backward = self.trainer.world_size == 1 and str(self.trainer.precision) in (
            "32-true", "32", "64-true",
        )
        # what optimizer.zero_grad(set_to_none=True) does, without the profiler span it opens on
        # every call: 5 % of a step of the thesis VAE
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        # each step's figures as the step left them: backward has freed their graphs' buffers,
        # and a detach per figure and step would cost more than averaging them off the graph
        losses, recons, kls = [], [], []
        last = len(batches) - 1
        for i, (x, y) in enumerate(batches):
            data, condition = self.split_batch(x, y)
            terms = self.elbo(data, condition, beta)
            for parameter in parameters:
                parameter.grad = None
            if plain_backward:
                terms.loss.backward()
            else:
                self.manual_backward(terms.loss)
            # Lightning's optimizer wrapper (its hooks, its global-step count) once per epoch: one
            # Lightning step is one epoch here, and the plain step saves its per-call dispatch
            (lightning_optimizer if i == last else optimizer).step()
            losses.append(terms.loss)
            recons.append(terms.recon)
            kls.append(terms.kl)
        with torch.no_grad():
            totals = torch.stack([torch.stack(f).mean() for f in (losses, recons, kls)])
        if self.lr_schedule != "constant":
            # once per epoch; under manual optimisation Lightning leaves the stepping to us
            scheduler = self.lr_schedulers()
            assert scheduler is not None and not isinstance(scheduler, list), "one scheduler"
            scheduler.step()
        if self.prior == "aggregate" and batches:
            # once per epoch, after the updates: the prior matches the encoder being saved
            data, condition = self.split_batch(
                torch.cat([x for x, _ in batches]),
                None if batches[0][1] is None else torch.cat([y for _, y in batches
                                                              if y is not None]),
            )
            self.fit_aggregate_prior(data, condition)
        self._end_epoch(totals, beta)

    def _end_epoch(self, totals: torch.Tensor, beta: float) -> None:
        """Refuse a diverged epoch; hand its figures (loss, recon, kl; beta) to the loggers."""
        if not torch.isfinite(totals).all():
            raise NonFiniteLossError(
                f"training loss became {totals[0].item()} at epoch {self.current_epoch}: lower "
                f"optimizer.lr or check the data; {self._kept_checkpoint()}"
            )
        # the KL weight in float32 beside the figures, as a logged number would be stored
        values = torch.cat([totals, totals.new_tensor([beta])])
        figures = dict(zip(TRAIN_FIGURES, values.unbind(), strict=True))
        # the train loss beside the epoch counter of a terminal's progress bar
        show_epoch_figures(self.trainer, figures, progress_bar=("train/loss",))
        self._epoch_figures = dict(zip(TRAIN_FIGURES, values.tolist(), strict=True))

    def on_train_epoch_end(self) -> None:
        """The epoch's training figures to the loggers, after its validation figures."""
        figures, self._epoch_figures = self._epoch_figures, {}
        log_epoch_figures(self.trainer, figures, self.current_epoch)

    def _kept_checkpoint(self) -> str:
        """What the divergence message may truthfully say about checkpoints on disk."""
        saved = [
            path
            for callback in self.trainer.checkpoint_callbacks
            for path in (getattr(callback, "last_model_path", ""),
                         getattr(callback, "best_model_path", ""))
            if path and os.path.isfile(path)
        ]
        if not saved:
            return "no checkpoint was written before it diverged"
        return f"the last good checkpoint is kept: {saved[0]}"

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Per-row negative ELBO on the whole validation split.

        Its reparameterisation noise comes from a forked random state, so how often validation
        runs never changes the training noise: the same seed trains the same model either way.
        """
        data, condition = self.split_batch(*batch)
        cuda = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            terms = self.elbo(data, condition, self.beta)
        self.log_dict(
            {"val/loss": terms.loss, "val/recon": terms.recon, "val/kl": terms.kl},
            on_step=False,
            on_epoch=True,
            batch_size=1,
            prog_bar=True,
        )
