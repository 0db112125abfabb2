"""Several latent-variable models of one shape trained as one: batched matrix products.

A thesis-sized model (19 features, a hidden layer of 15) spends most of an optimiser step in
Python and in the dispatch of some thirty small tensor operations, not in arithmetic. Stacking
M such models along a leading dimension runs the same thirty operations once for all of them
(``torch.baddbmm``), about four times the throughput for seven models on one core
(docs/performance.md). Models may differ in their latent size: each is laid into the stack's
largest latent space with its unused dimensions held at exactly zero (zero weights, masked codes,
so they get no gradient and weight decay leaves them at zero), which makes each model's arithmetic
that of the model alone up to float rounding. Their seeds, data splits and batches may differ too:
each model brings its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from kinsynth.models.elbo import ElboTerms, elbo_loss, kl_to_standard_normal, reconstruction_nll
from kinsynth.models.latent import LOG_VAR_BOUNDS, LatentVariableModel

#: hyperparameters the models of one stack may differ in: each is laid into the stack's largest
VARYING = ("latent_dim",)


def stack_problem(models: Sequence[nn.Module]) -> str | None:
    """Why these models cannot train as one stack, or None when they can."""
    if len(models) < 2:
        return "a stack needs at least two models"
    for model in models:
        if type(model) is not LatentVariableModel:
            return f"{type(model).__name__} is not a LatentVariableModel"
        problem = _own_problem(model)
        if problem:
            return problem
    first = _shape_settings(models[0])  # type: ignore[arg-type]  # checked above
    for model in models[1:]:
        if _shape_settings(model) != first:  # type: ignore[arg-type]
            return "the models differ in more than their latent size"
    return None


def _own_problem(model: LatentVariableModel) -> str | None:
    if model.blocks:
        return "models with part-name columns are trained one by one"
    if model.prior != "standard":
        return f"prior={model.prior} refits each model's prior every epoch"
    if model.lr_schedule != "constant":
        return f"lr_schedule={model.lr_schedule} steps a scheduler per model"
    if model.training_replay is not None:
        return "the model was trained already"
    return None


def _shape_settings(model: LatentVariableModel) -> dict[str, object]:
    return {k: v for k, v in model.hparams.items() if k not in VARYING}


class StackedLatentModels(nn.Module):
    """M ``LatentVariableModel``s of one shape as stacked parameters, each model's own values.

    ``parameters()`` are the stack's (``(M, ...)`` each); :meth:`member_parameters` reads one
    model's back out of any tensors laid out like them (a snapshot of the parameters or of the
    optimiser's per-element state).
    """

    #: (M, 1, latent): 1 where a model has the latent dimension (a buffer, set in __init__)
    latent_mask: torch.Tensor

    def __init__(self, models: Sequence[LatentVariableModel]) -> None:
        super().__init__()
        problem = stack_problem(models)
        if problem:
            raise ValueError(f"cannot stack these models: {problem}")
        self.models = list(models)
        first = self.models[0]
        self.latent = max(m.latent_dim for m in self.models)
        self.n_condition = len(first.condition_columns)
        self.output_relu = first.output_relu
        self.free_bits = first.free_bits
        self.encoder_layers = list(first.encoder)
        self.decoder_layers = list(first.decoder)
        self.head = f"encoder.{len(self.encoder_layers) - 1}"  # its rows are (mu, log-variance)
        # per model and parameter, where its entries sit in the stack: one index per dimension
        self.placement: list[dict[str, tuple[torch.Tensor | None, ...]]] = [
            {name: self._place(name, p, m.latent_dim) for name, p in m.named_parameters()}
            for m in self.models
        ]
        self.stacked = nn.ParameterDict()
        own = [dict(m.named_parameters()) for m in self.models]
        for name, parameter in first.named_parameters():
            shape = self._stacked_shape(name, parameter)
            values = torch.zeros((len(self.models), *shape), dtype=parameter.dtype)
            for i in range(len(self.models)):
                values[i][self._index(i, name)] = own[i][name].detach()
            self.stacked[name.replace(".", "_")] = nn.Parameter(values)
        self._by_name = {name: self.stacked[name.replace(".", "_")] for name in self.placement[0]}
        mask = torch.zeros(len(self.models), 1, self.latent)
        for i, model in enumerate(self.models):
            mask[i, 0, :model.latent_dim] = 1.0
        self.register_buffer("latent_mask", mask)

    # ---- layout ---------------------------------------------------------------------------------
    def _stacked_shape(self, name: str, parameter: torch.Tensor) -> tuple[int, ...]:
        shape = list(parameter.shape)
        if name.startswith(self.head + "."):
            shape[0] = 2 * self.latent
        elif name == "decoder.0.weight":
            shape[1] = self.latent + self.n_condition
        return tuple(shape)

    def _place(self, name: str, parameter: torch.Tensor,
               k: int) -> tuple[torch.Tensor | None, ...]:
        """Indices of a model's entries in the stack: the latent rows and columns move."""
        index: list[torch.Tensor | None] = [None] * parameter.dim()
        if name.startswith(self.head + "."):  # rows mu_1..mu_k, then log-variances 1..k
            index[0] = torch.cat([torch.arange(k), self.latent + torch.arange(k)])
        elif name == "decoder.0.weight":  # columns z_1..z_k, then the condition
            index[1] = torch.cat([torch.arange(k), self.latent + torch.arange(self.n_condition)])
        return tuple(index)

    def _index(self, member: int, name: str) -> tuple[torch.Tensor | slice, ...]:
        # at most one dimension moves per parameter, so one index tensor among full slices
        return tuple(slice(None) if i is None else i for i in self.placement[member][name])

    def member_parameters(self, member: int, stacked: dict[str, torch.Tensor]) -> torch.Tensor:
        """One model's entries of tensors laid out like the stack's parameters, flattened.

        ``stacked`` maps each parameter's name to a tensor of shape (..., M, *stacked shape):
        leading dimensions (epochs) are kept, and the result is (..., P) in the model's
        ``named_parameters()`` order.
        """
        parts = []
        for name in self.placement[member]:
            values = stacked[name]
            lead = values.dim() - self._by_name[name].dim()
            values = values.select(lead, member)
            for dim, index in enumerate(self.placement[member][name]):
                if index is not None:
                    values = values.index_select(lead + dim, index)
            parts.append(values.reshape(*values.shape[:lead], -1))
        return torch.cat(parts, dim=-1)

    def named_stacked(self) -> dict[str, nn.Parameter]:
        """The stack's parameters under the models' own parameter names."""
        return dict(self._by_name)

    # ---- the ELBO -------------------------------------------------------------------------------
    def split_batch(self, x: torch.Tensor,
                    y: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each model's (data, condition) from stacked (M, B, ...) batches, as the model splits."""
        members, rows = x.shape[:2]
        data, condition = self.models[0].split_batch(
            x.reshape(members * rows, -1), None if y is None else y.reshape(members * rows, -1))
        return (data.reshape(members, rows, -1),
                None if condition is None else condition.reshape(members, rows, -1))

    def _run(self, prefix: str, layers: list[nn.Module], h: torch.Tensor) -> torch.Tensor:
        params = self._by_name
        for i, layer in enumerate(layers):
            if isinstance(layer, nn.Linear):
                weight, bias = params[f"{prefix}.{i}.weight"], params[f"{prefix}.{i}.bias"]
                h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
            else:  # an activation, elementwise
                h = layer(h)
        return h

    def elbo(self, data: torch.Tensor, condition: torch.Tensor | None, noise: torch.Tensor,
             beta: float) -> ElboTerms:
        """Each model's ELBO terms, shape (M,): the model's own ``elbo`` with given noise.

        ``noise``: (M, B, latent) standard normal draws, each model's in its first
        ``latent_dim`` columns (the rest is masked away).
        """
        join = (lambda a: a) if condition is None else (lambda a: torch.cat([a, condition], -1))
        mu, log_var = self._run("encoder", self.encoder_layers, join(data)).chunk(2, dim=-1)
        z = (mu + noise * torch.exp(0.5 * log_var)) * self.latent_mask
        mean = self._run("decoder", self.decoder_layers, join(z))
        if self.output_relu:
            mean = torch.relu(mean)
        log_var_x = self._by_name.get("log_var")
        decoder_log_var = None if log_var_x is None else log_var_x.clamp(
            *LOG_VAR_BOUNDS).unsqueeze(1)
        recon = reconstruction_nll(data, mean, decoder_log_var)
        kl = kl_to_standard_normal(mu, log_var) * self.latent_mask
        return elbo_loss(recon, kl, beta, self.free_bits, self.latent_mask.squeeze(1))
