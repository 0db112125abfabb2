"""VAE, CVAE and beta-CVAE: one latent-variable LightningModule, configured, never subclassed.

One Lightning training step runs a whole epoch of mini-batch updates (manual optimisation): the
DataModule hands over the epoch's shuffled batches at once, so Lightning's per-step bookkeeping is
paid once per epoch instead of once per batch. On tables of a few thousand rows that bookkeeping
would otherwise cost more than the model's own arithmetic. The updates are the same mini-batch
updates a plain loop makes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from kinsynth.errors import KinsynthError
from kinsynth.models.base import GenerativeModule
from kinsynth.models.elbo import (
    BATCH_REDUCTIONS,
    LIKELIHOODS,
    ElboTerms,
    elbo_loss,
    kl_to_standard_normal,
    kl_weight,
    reconstruction_nll,
)
from kinsynth.models.networks import mlp

Batch = tuple[torch.Tensor, torch.Tensor | None]
_LOG_VAR_BOUNDS = (-9.0, 4.0)


class NonFiniteLossError(KinsynthError):
    """Raised when training diverges, so the run stops and the last good checkpoint stays."""


class LatentVariableModel(GenerativeModule):
    """Gaussian-latent autoencoding model trained on the (beta-weighted) ELBO.

    VAE = ``conditional=False, beta=1``; CVAE = ``conditional=True, beta=1``; beta-CVAE =
    ``conditional=True`` with another ``beta``. The scaled target is concatenated to the encoder's
    and the decoder's input when conditional, as in the thesis CVAE.
    """

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
        batch_reduction: str = "mean",
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
    ) -> None:
        super().__init__(feature_columns, target, latent_dim, conditional, joint)
        if likelihood not in LIKELIHOODS:
            raise KinsynthError(f"model.likelihood={likelihood!r}: expected one of {LIKELIHOODS}")
        if batch_reduction not in BATCH_REDUCTIONS:
            raise KinsynthError(
                f"model.batch_reduction={batch_reduction!r}: expected one of {BATCH_REDUCTIONS}"
            )
        if output_activation not in (None, "relu"):
            raise KinsynthError(
                f"model.output_activation={output_activation!r}: expected null or 'relu'"
            )
        self.save_hyperparameters(ignore=["optimizer"])
        self.automatic_optimization = False
        self.optimizer_factory = optimizer
        data_dim, cond_dim = len(self.data_columns), len(self.condition_columns)
        self.encoder = mlp(data_dim + cond_dim, hidden, 2 * self.latent_dim, activation)
        self.decoder = mlp(self.latent_dim + cond_dim, hidden, data_dim, activation)
        self.log_var = nn.Parameter(torch.zeros(data_dim)) if likelihood == "learned" else None
        self.output_relu = output_activation == "relu"
        self.beta = float(beta)
        self.warmup_epochs = int(warmup_epochs)
        self.free_bits = float(free_bits)
        self.batch_reduction = batch_reduction

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
        return torch.relu(mean) if self.output_relu else mean

    def decoder_log_var(self) -> torch.Tensor | None:
        return None if self.log_var is None else self.log_var.clamp(*_LOG_VAR_BOUNDS)

    def reconstruct_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> torch.Tensor:
        mu, _ = self.encode_scaled(data, condition)
        return self.decode_mean(mu, condition)

    def sample_scaled(
        self, n: int, condition: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        """Ancestral sampling: z ~ N(0, I), then x ~ p(x | z); decoder noise only when learned."""
        z = torch.randn(n, self.latent_dim, generator=generator, device=self.device)
        mean = self.decode_mean(z, condition)
        log_var = self.decoder_log_var()
        if log_var is None:
            return mean
        noise = torch.randn(mean.shape, generator=generator, device=self.device)
        return mean + noise * torch.exp(0.5 * log_var)

    def elbo(
        self, data: torch.Tensor, condition: torch.Tensor | None, beta: float, reduction: str
    ) -> ElboTerms:
        mu, log_var = self.encode_scaled(data, condition)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        recon = reconstruction_nll(data, self.decode_mean(z, condition), self.decoder_log_var())
        return elbo_loss(recon, kl_to_standard_normal(mu, log_var), beta, self.free_bits, reduction)

    # ---- Lightning ------------------------------------------------------------------------------
    def configure_optimizers(self) -> torch.optim.Optimizer:
        factory = self.optimizer_factory or functools.partial(torch.optim.Adam, lr=1e-3)
        return factory(params=self.parameters())

    def current_beta(self) -> float:
        return kl_weight(self.beta, self.current_epoch, self.warmup_epochs)

    def training_step(self, batches: list[Batch], batch_idx: int) -> None:
        """One epoch of mini-batch updates; figures are averaged over the epoch's batches."""
        optimizer = self.optimizers()
        beta = self.current_beta()
        totals = torch.zeros(3)
        for x, y in batches:
            data, condition = self.split_batch(x, y)
            terms = self.elbo(data, condition, beta, self.batch_reduction)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(terms.loss)
            optimizer.step()
            totals += torch.stack([terms.loss.detach(), terms.recon.detach(), terms.kl.detach()])
        totals /= max(len(batches), 1)
        if not torch.isfinite(totals).all():
            raise NonFiniteLossError(
                f"training loss became {totals[0].item()} at epoch {self.current_epoch}: lower "
                "optimizer.lr or check the data; the last good checkpoint is kept"
            )
        self.log_dict(
            {
                "train/loss": totals[0],
                "train/recon": totals[1],
                "train/kl": totals[2],
                "train/beta": beta,
            },
            on_step=False,
            on_epoch=True,
            batch_size=1,
        )

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Per-row negative ELBO on the whole validation split, comparable across reductions."""
        data, condition = self.split_batch(*batch)
        terms = self.elbo(data, condition, self.beta, "mean")
        self.log_dict(
            {"val/loss": terms.loss, "val/recon": terms.recon, "val/kl": terms.kl},
            on_step=False,
            on_epoch=True,
            batch_size=1,
            prog_bar=True,
        )
