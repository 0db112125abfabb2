"""Plain MLP building blocks for encoders and decoders."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


def mlp(
    in_dim: int, hidden: Sequence[int], out_dim: int, activation: str = "relu"
) -> nn.Sequential:
    """Fully connected stack: Linear + activation per hidden width, then a linear head."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    width = in_dim
    for size in hidden:
        layers += [nn.Linear(width, int(size)), ACTIVATIONS[activation]()]
        width = int(size)
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)
