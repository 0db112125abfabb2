"""Probabilistic PCA (Tipping & Bishop 1999) as a non-gradient LightningModule.

It plugs into the same Trainer, DataModule and callbacks as the neural models: its single training
step fits the maximum-likelihood solution in closed form from sklearn's PCA and then asks the
trainer
to stop. Samples come from the model itself, x = mu + W z + sigma * eps, never from noisy copies of
real rows. In conditional mode the model is fitted on [features, target] and the features are drawn
from the exact Gaussian conditional given the requested target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.decomposition import PCA

from kinsynth.core.errors import KinsynthError
from kinsynth.models.base import GenerativeModule
from kinsynth.models.elbo import kl_full_covariance

Batch = tuple[torch.Tensor, torch.Tensor | None]


class PPCAModel(GenerativeModule):
    """Maximum-likelihood PPCA with ``latent_dim`` components.

    A categorical column is modelled as its one-hot columns, as if they were Gaussian; a sample
    decodes each block to its largest coordinate, the most likely level of that draw. It ignores
    that a block sums to one and holds only 0 and 1: a baseline for the VAE's softmax heads, not
    a model of part names.
    """

    checkpoint_name = "PPCAModel"  # what 0.1.0 checkpoints record: never change it
    # buffers (registered in __init__): the fitted model travels with the checkpoint
    mean: torch.Tensor
    weights: torch.Tensor
    noise_variance: torch.Tensor
    fitted: torch.Tensor

    def __init__(
        self,
        feature_columns: Sequence[str],
        target: str | None,
        latent_dim: int = 11,
        conditional: bool = False,
        joint: bool = True,
        optimizer: object | None = None,
        levels: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(feature_columns, target, latent_dim, conditional, joint, levels)
        self.save_hyperparameters(ignore=["optimizer"])
        self.automatic_optimization = False
        n_columns = self.data_width + len(self.condition_columns)
        if self.latent_dim >= n_columns:
            raise KinsynthError(
                f"latent_dim={self.latent_dim}: PPCA needs fewer latent dimensions than the "
                f"{n_columns} modelled columns (use at most {n_columns - 1})"
            )
        self.register_buffer("mean", torch.zeros(n_columns))
        self.register_buffer("weights", torch.zeros(n_columns, self.latent_dim))
        self.register_buffer("noise_variance", torch.ones(()))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    # ---- fitting --------------------------------------------------------------------------------
    def _stack(self, data: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        return data if condition is None else torch.cat([data, condition], dim=1)

    def fit_arrays(self, values: np.ndarray) -> PPCAModel:
        """Closed-form ML fit: W = U_k (L_k - s2 I)^(1/2), s2 = mean discarded eigenvalue."""
        pca = PCA(n_components=self.latent_dim, svd_solver="full").fit(values)
        scale = np.sqrt(np.maximum(pca.explained_variance_ - pca.noise_variance_, 0.0))
        weights = pca.components_.T * scale
        self.mean = torch.as_tensor(pca.mean_, dtype=torch.float32, device=self.mean.device)
        self.weights = torch.as_tensor(weights, dtype=torch.float32, device=self.mean.device)
        self.noise_variance = torch.tensor(
            float(max(pca.noise_variance_, 1e-8)), device=self.mean.device
        )
        self.fitted = torch.tensor(True, device=self.mean.device)
        return self

    def covariance(self) -> torch.Tensor:
        """Model covariance W W^T + sigma^2 I of all modelled columns."""
        eye = torch.eye(self.weights.shape[0], device=self.weights.device)
        return self.weights @ self.weights.T + self.noise_variance * eye

    def configure_optimizers(self) -> None:
        return None

    def training_step(self, batches: list[Batch], batch_idx: int) -> None:
        if not bool(self.fitted):
            rows = [self._stack(*self.split_batch(x, y)) for x, y in batches]
            self.fit_arrays(torch.cat(rows).double().cpu().numpy())
        # no train/nll scalar: the fit stops after this one step, before Lightning would write
        # the epoch's value, which left an empty chart in TensorBoard (val/loss has the NLL)
        self.trainer.should_stop = True

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        if bool(self.fitted):
            self.log("val/loss", self._nll([batch]), on_step=False, on_epoch=True, batch_size=1)

    def _nll(self, batches: list[Batch]) -> torch.Tensor:
        """Mean per-row negative log-likelihood under the fitted Gaussian."""
        rows = torch.cat([self._stack(*self.split_batch(x, y)) for x, y in batches])
        dist = torch.distributions.MultivariateNormal(
            self.mean, covariance_matrix=self.covariance()
        )
        return -dist.log_prob(rows).mean()

    # ---- the model API on scaled tensors ---------------------------------------------------
    def _posterior(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and shared covariance of z given all modelled columns."""
        k = self.latent_dim
        m = self.weights.T @ self.weights + self.noise_variance * torch.eye(k, device=values.device)
        m_inv = torch.linalg.inv(m)
        mean = (values - self.mean) @ self.weights @ m_inv.T
        return mean, self.noise_variance * m_inv

    def encode_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mean, cov = self._posterior(self._stack(data, condition))
        return mean, torch.log(torch.diagonal(cov)).expand_as(mean)

    def kl_scaled(self, data: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        mean, cov = self._posterior(self._stack(data, condition))
        return kl_full_covariance(mean, cov)

    def reconstruct_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> torch.Tensor:
        mean, _ = self._posterior(self._stack(data, condition))
        recon = mean @ self.weights.T + self.mean
        return recon[:, : data.shape[1]]

    def sample_scaled(
        self, n: int, condition: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        d = self.weights.shape[0]
        if condition is None:
            z = torch.randn(n, self.latent_dim, generator=generator, device=self.device)
            eps = torch.randn(n, d, generator=generator, device=self.device)
            return self.mean + z @ self.weights.T + math.sqrt(float(self.noise_variance)) * eps
        return self._sample_conditional(condition, generator)

    def _sample_conditional(
        self, condition: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Exact Gaussian conditional of the data columns given the condition columns."""
        cov = self.covariance().double()
        p = cov.shape[0] - condition.shape[1]
        gain = torch.linalg.solve(cov[p:, p:], cov[p:, :p]).T
        cond_cov = cov[:p, :p] - gain @ cov[p:, :p]
        chol = torch.linalg.cholesky(0.5 * (cond_cov + cond_cov.T))
        shift = (condition.double() - self.mean[p:].double()) @ gain.T
        eps = torch.randn(condition.shape[0], p, generator=generator, device=self.device).double()
        return (self.mean[:p].double() + shift + eps @ chol.T).float()
