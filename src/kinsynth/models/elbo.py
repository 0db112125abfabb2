"""The one ELBO of kinsynth: every gradient model's loss is assembled here.

Kept free of Lightning so the benchmark's bare PyTorch loop and the LightningModule share the exact
same arithmetic, and so PPCA's closed-form posterior can report the same KL figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional

LIKELIHOODS = ("fixed", "learned")
_LOG_2PI = math.log(2.0 * math.pi)


def reconstruction_nll(
    x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor | None = None,
    categorical: Sequence[tuple[int, int]] = (),
) -> torch.Tensor:
    """Per-row negative log-likelihood of ``x`` under a Gaussian decoder (rows in the last
    dimension but one, so stacked models' (M, B, D) batches give (M, B)).

    With ``log_var`` None the variance is fixed and the term is the summed squared error, exactly
    the thesis's loss (a Gaussian with variance 1/2 up to a constant). With a learned per-feature
    ``log_var`` it is the full Gaussian NLL, which lets the model learn how noisy each column is
    instead of blurring every column towards its mean.

    ``categorical`` lists the ``(start, stop)`` one-hot blocks of part-name columns: there
    ``mean`` holds a softmax head's logits and the term is its cross-entropy with the observed
    level (the categorical likelihood's NLL), added to the Gaussian term of the other columns.
    """
    if categorical:
        return _mixed_nll(x, mean, log_var, categorical)
    squared = (x - mean).pow(2)
    if log_var is None:
        return squared.sum(dim=-1)
    return 0.5 * (log_var + squared * torch.exp(-log_var) + _LOG_2PI).sum(dim=-1)


def numeric_mask(width: int, categorical: Sequence[tuple[int, int]],
                 device: torch.device | None = None) -> torch.Tensor:
    """True at the model-space columns outside every categorical block."""
    mask = torch.ones(width, dtype=torch.bool, device=device)
    for start, stop in categorical:
        mask[start:stop] = False
    return mask


def _mixed_nll(
    x: torch.Tensor, out: torch.Tensor, log_var: torch.Tensor | None,
    categorical: Sequence[tuple[int, int]],
) -> torch.Tensor:
    """Gaussian NLL of the numeric columns plus the cross-entropy of each categorical block."""
    mask = numeric_mask(x.shape[1], categorical, x.device)
    total = torch.zeros(x.shape[0], dtype=out.dtype, device=out.device)
    if bool(mask.any()):
        total = reconstruction_nll(
            x[:, mask], out[:, mask], None if log_var is None else log_var[mask])
    for start, stop in categorical:
        level = x[:, start:stop].argmax(dim=1)
        total = total + functional.cross_entropy(out[:, start:stop], level, reduction="none")
    return total


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Per-latent-dimension KL(N(mu, exp(log_var)) || N(0, 1)), shape (rows, latent_dim)."""
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)


def kl_full_covariance(mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """Per-row KL(N(mean_i, cov) || N(0, I)) for a shared full posterior covariance (PPCA)."""
    k = cov.shape[-1]
    _, logdet = torch.linalg.slogdet(cov)
    return 0.5 * (torch.trace(cov) + mean.pow(2).sum(dim=1) - k - logdet)


@dataclass(frozen=True)
class ElboTerms:
    """The scalar loss and its parts, each a batch figure ready for logging."""

    loss: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


def elbo_loss(
    recon_nll: torch.Tensor,
    kl_per_dim: torch.Tensor,
    beta: float,
    free_bits: float = 0.0,
    latent_mask: torch.Tensor | None = None,
) -> ElboTerms:
    """Negative ELBO per row, averaged over the batch, with a beta-weighted KL and free bits.

    ``free_bits`` (nats per latent dimension, averaged over the batch) keeps the optimiser from
    pushing a dimension's KL below the floor, the usual cure for posterior collapse. The reported
    ``kl`` is always the true per-row KL so figures stay comparable across settings. With the
    fixed-variance likelihood this is the thesis notebooks' loss: squared error summed over the
    features plus the KL, both averaged over the batch.

    Leading dimensions are kept: stacked models' (M, B) and (M, B, latent) terms give (M,)
    figures. ``latent_mask`` (M, latent) marks the latent dimensions each stacked model has, so
    the free-bits floor never charges a model for a dimension it does not have.
    """
    recon = recon_nll.mean(dim=-1)
    kl_dims = kl_per_dim.mean(dim=-2)
    if free_bits > 0:
        floored = torch.clamp(kl_dims, min=free_bits)
        kl_penalised = (floored if latent_mask is None else floored * latent_mask).sum(dim=-1)
    else:
        kl_penalised = kl_dims.sum(dim=-1)
    # a weight of 1 multiplies nothing (x * 1.0 is x exactly, in value and gradient): on a model
    # this small every operation on the step's graph is a measurable share of the step
    loss = recon + (kl_penalised if beta == 1.0 else beta * kl_penalised)
    # a figure to report, off the gradient's graph (a detach costs less than a no_grad block)
    kl = kl_per_dim.detach().sum(dim=-1).mean(dim=-1)
    return ElboTerms(loss=loss, recon=recon, kl=kl)


def kl_weight(beta: float, epoch: int, warmup_epochs: int) -> float:
    """Linear KL warm-up: beta grows from 0 to its value over ``warmup_epochs`` epochs."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, (epoch + 1) / warmup_epochs)
