"""A model's training, epoch by epoch, done elsewhere: restored into the model one epoch at a time.

A sweep's small models train faster stacked together in one process (``kinsynth.train.stacked``)
than one by one. Each job's run directory must still be what a run of its own writes: validation
and checkpoints at their epochs, the training curves, an optimiser state that ``resume=`` continues
from. So the job's own Trainer runs its epochs as usual, and each epoch's training step restores,
instead of computing, the weights, optimiser state and figures that epoch ended with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from kinsynth.core.writing import atomic_path


@dataclass(frozen=True)
class TrainedElsewhere:
    """Where each epoch of a model's training ended, for the model's own Trainer to replay.

    ``parameters``: (epochs, P), the model's parameters in ``named_parameters()`` order,
    flattened and concatenated, after each epoch's updates. ``optimizer_state``: per state key of
    the optimiser (``exp_avg``, ``step``...), (epochs, P) for per-element state laid out like the
    parameters, (epochs,) for per-parameter scalars. ``figures``: (epochs, 4), the epoch's
    ``TRAIN_FIGURES`` (``kinsynth.models.latent``). ``seconds``: this model's share of the
    stacked fit's wall-clock, so ``fit_seconds`` still says what training it cost.
    ``members``: how many models trained together. ``rng_states``: (epochs, n) ``uint8``, torch's
    global random state as the model's own run would leave it after each epoch (its training
    noise is all it draws), so a checkpoint records it and a resumed run draws what the run would.
    """

    parameters: torch.Tensor
    optimizer_state: dict[str, torch.Tensor]
    figures: torch.Tensor
    seconds: float
    members: int
    rng_states: torch.Tensor

    def save(self, path: str | Path) -> Path:
        """Write the record as tensors only (read back with ``weights_only``: no code runs)."""
        with atomic_path(path) as tmp:
            torch.save({"parameters": self.parameters, "optimizer_state": self.optimizer_state,
                        "figures": self.figures, "seconds": self.seconds,
                        "members": self.members, "rng_states": self.rng_states}, tmp)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> TrainedElsewhere:
        stored = torch.load(path, weights_only=True)
        return cls(parameters=stored["parameters"], optimizer_state=stored["optimizer_state"],
                   figures=stored["figures"], seconds=float(stored["seconds"]),
                   members=int(stored["members"]), rng_states=stored["rng_states"])

    @property
    def epochs(self) -> int:
        return int(self.parameters.shape[0])

    def restore(self, module: nn.Module, optimizer: torch.optim.Optimizer,
                epoch: int) -> torch.Tensor:
        """Put ``module``, ``optimizer`` and torch's random state where training left them after
        ``epoch``; its figures.

        Raises ``IndexError`` past the recorded epochs: a Trainer asked for more epochs than the
        record holds, which the caller refuses before fitting.
        """
        if not 0 <= epoch < self.epochs:
            raise IndexError(f"epoch {epoch}: the record holds epochs 0-{self.epochs - 1}")
        offset = 0
        # fused and capturable optimisers keep their step counts beside the parameters
        on_device = bool(optimizer.defaults.get("fused") or optimizer.defaults.get("capturable"))
        with torch.no_grad():
            for parameter in module.parameters():
                size = parameter.numel()
                parameter.copy_(self.parameters[epoch, offset:offset + size].view_as(parameter))
                state = optimizer.state[parameter]
                for key, values in self.optimizer_state.items():
                    if values.dim() == 2:
                        chunk = values[epoch, offset:offset + size].view_as(parameter)
                        state[key] = chunk.clone().to(parameter.device)
                    else:
                        step = values[epoch].clone()
                        state[key] = step.to(parameter.device) if on_device else step
                offset += size
        torch.set_rng_state(self.rng_states[epoch].clone())  # its own storage: torch reads from 0
        return self.figures[epoch]
