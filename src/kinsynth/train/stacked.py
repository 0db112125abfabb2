"""Train several runs' models as one stack, recording each model's epochs for its own run.

Each model is built exactly as its run builds it (same seeding, same initial weights, its own
data split and batches), draws its reparameterisation noise from its own generator started where
its run's would start, and so follows its run's training up to float rounding
(``kinsynth.models.stacked``). The result per model is a :class:`TrainedElsewhere`: the weights,
optimiser state and figures after every epoch, which the run's own Trainer then replays.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from kinsynth.core.threads import use_threads
from kinsynth.models.elbo import kl_weight
from kinsynth.models.latent import LatentVariableModel
from kinsynth.models.stacked import StackedLatentModels, stack_problem
from kinsynth.models.trained_elsewhere import TrainedElsewhere
from kinsynth.train.run import build_data_and_model

log = logging.getLogger(__name__)

#: the most memory a stack's per-epoch record may take; bigger models train one by one (they
#: keep a core busy by themselves, so stacking them would gain little anyway)
MAX_RECORD_BYTES = 256 * 2**20
#: the optimizers whose step is linear in the learning rate (``_MemberRates``)
_LINEAR_IN_LR = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)


class StackRefused(Exception):
    """These runs cannot train as one stack; the message says why. They train one by one."""


def fit_stack(cfgs: Sequence[DictConfig]) -> list[TrainedElsewhere]:
    """Train the runs of ``cfgs`` (equal ``kinsynth.train.stackable.stack_key``) as one stack,
    on the CPU.

    Raises :class:`StackRefused` when the built models or their data cannot stack, or their
    record would not fit :data:`MAX_RECORD_BYTES`.
    """
    started = time.perf_counter()
    use_threads(cfgs[0].get("threads"))
    models: list[LatentVariableModel] = []
    datamodules = []
    generators = []
    for cfg in cfgs:
        pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
        datamodule, model = build_data_and_model(cfg, "cpu")
        # where the run's own training draws its noise from: the global generator as it is now
        generators.append(torch.Generator().set_state(torch.get_rng_state()))
        models.append(model)  # type: ignore[arg-type]  # stack_problem checks the class
        datamodules.append(datamodule)
    problem = stack_problem(models) or _data_problem(datamodules)
    if problem:
        raise StackRefused(problem)
    stack = StackedLatentModels(models)
    epochs = int(cfgs[0].trainer.max_epochs)
    parameters = stack.named_stacked()
    optimizer = models[0].build_optimizer(parameters.values())
    rates = _MemberRates.of(cfgs, optimizer, parameters.values())
    # before any work, as if the optimizer kept two tensors per weight (Adam's moments); exactly
    # once its state exists, after the first epoch
    _check_record_size(parameters.values(), epochs, lambda _: 2)
    snapshots: dict[str, list[torch.Tensor]] = defaultdict(list)
    states: dict[str, dict[str, list[torch.Tensor]]] = defaultdict(lambda: defaultdict(list))
    figures = []
    rng_states: list[torch.Tensor] = []  # (M, n) per epoch: each model's noise generator
    first = models[0]
    # runs of one seed draw the same split and batches: one data module serves them all
    sources = datamodules[:1] if len({int(c.data.seed) for c in cfgs}) == 1 else datamodules
    for epoch in range(epochs):
        beta = kl_weight(first.beta, epoch, first.warmup_epochs)
        figures.append(_train_epoch(stack, optimizer, sources, generators, beta, rates))
        rng_states.append(torch.stack([g.get_state() for g in generators]))
        if epoch == 0:
            _check_record_size(parameters.values(), epochs, lambda p: optimizer.state[p])
        for name, parameter in parameters.items():
            snapshots[name].append(parameter.detach().clone())
            for key, value in optimizer.state[parameter].items():
                states[key][name].append(value.detach().clone())
    seconds = time.perf_counter() - started
    log.info("%d models (latent sizes %s) trained as one stack: %d epochs in %.1f s",
             len(models), ", ".join(str(m.latent_dim) for m in models), epochs, seconds)
    return _records(stack, snapshots, states, torch.stack(figures), torch.stack(rng_states),
                    seconds)


def _records(stack: StackedLatentModels, snapshots: dict[str, list[torch.Tensor]],
             states: dict[str, dict[str, list[torch.Tensor]]], figures: torch.Tensor,
             rng_states: torch.Tensor, seconds: float) -> list[TrainedElsewhere]:
    """Each model's own record out of the stack's per-epoch snapshots.

    ``figures``: (epochs, M, 4); ``rng_states``: (epochs, M, n); ``seconds``: the stack's fit.
    """
    members = len(stack.models)
    by_epoch = {name: torch.stack(values) for name, values in snapshots.items()}
    state_by_epoch = {key: {name: torch.stack(v) for name, v in per_name.items()}
                      for key, per_name in states.items()}
    records = []
    for i in range(members):
        state = {}
        for key, per_name in state_by_epoch.items():
            one = next(iter(per_name.values()))  # per-element state, or a scalar (the step)
            state[key] = stack.member_parameters(i, per_name) if one.dim() > 1 else one
        records.append(TrainedElsewhere(
            parameters=stack.member_parameters(i, by_epoch), optimizer_state=state,
            figures=figures[:, i].clone(), seconds=seconds / members, members=members,
            rng_states=rng_states[:, i].clone()))
    return records


class _MemberRates:
    """Each model's own learning rate, for optimizers whose step is linear in it.

    The stack's optimizer steps at rate 1, and each model's part of the step is then scaled to
    its rate: w = w0 + lr (w1 - w0). For Adam, AdamW and SGD the step at rate 1 is exactly the
    rate's factor away from the step at lr, and their state (moments, momentum) does not depend
    on the rate, so each model's weights and state are its run's up to float rounding.
    """

    def __init__(self, parameters: list[torch.Tensor], rates: list[float]) -> None:
        self.parameters = parameters
        self.scales = [torch.tensor(rates, dtype=p.dtype).view(-1, *[1] * (p.dim() - 1))
                       for p in parameters]

    @classmethod
    def of(cls, cfgs: Sequence[DictConfig], optimizer: torch.optim.Optimizer,
           parameters: Iterable[torch.Tensor]) -> _MemberRates | None:
        """None when the models share one rate (the optimizer then steps at it)."""
        rates = [float(c.optimizer.get("lr", optimizer.defaults["lr"])) for c in cfgs]
        if len(set(rates)) == 1:
            return None
        if not isinstance(optimizer, _LINEAR_IN_LR):
            raise StackRefused(f"{type(optimizer).__name__}'s step is not known to be linear in "
                               "its learning rate, and the runs' rates differ")
        for group in optimizer.param_groups:
            group["lr"] = 1.0
        return cls(list(parameters), rates)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        before = [p.detach().clone() for p in self.parameters]
        optimizer.step()
        with torch.no_grad():
            for parameter, start, scale in zip(self.parameters, before, self.scales, strict=True):
                parameter.sub_(start).mul_(scale).add_(start)


def _check_record_size(parameters: Iterable[torch.Tensor], epochs: int,
                       state: Callable[[torch.Tensor], Any]) -> None:
    """Refuse the stack when its per-epoch record would pass :data:`MAX_RECORD_BYTES`.

    ``state(parameter)``: the optimizer's state of it, or how many tensors of its size it has.
    """
    per_epoch = 0
    for parameter in parameters:
        kept = state(parameter)
        size = parameter.numel() * parameter.element_size()
        if isinstance(kept, int):
            per_epoch += (1 + kept) * size
        else:
            per_epoch += size + sum(t.numel() * t.element_size() for t in kept.values())
    if epochs * per_epoch > MAX_RECORD_BYTES:
        raise StackRefused(f"its record would take {epochs * per_epoch / 2**20:.0f} MiB, more "
                           f"than {MAX_RECORD_BYTES / 2**20:.0f}")


def _data_problem(datamodules: Sequence[object]) -> str | None:
    sizes = {(len(dm.train_x), dm.batch_size) for dm in datamodules}  # type: ignore[attr-defined]
    if len(sizes) > 1:
        return "the runs' training splits or batch sizes differ"
    return None


def _train_epoch(stack: StackedLatentModels, optimizer: torch.optim.Optimizer,
                 sources: Sequence[object], generators: Sequence[torch.Generator],
                 beta: float, rates: _MemberRates | None = None) -> torch.Tensor:
    """One epoch of every model's mini-batch updates; (M, 4) figures as each run reports them.

    ``sources``: each model's data module, or one whose batches all the models share.
    """
    epochs = [next(iter(dm.train_dataloader())) for dm in sources]  # type: ignore[attr-defined]
    parameters = list(stack.parameters())
    dims = [m.latent_dim for m in stack.models]
    members = len(dims)
    losses, recons, kls = [], [], []
    for step in range(len(epochs[0])):
        if len(epochs) == 1:
            data, condition = stack.models[0].split_batch(*epochs[0][step])
            data = data.expand(members, *data.shape)
            condition = None if condition is None else condition.expand(members, *condition.shape)
        else:
            x = torch.stack([batches[step][0] for batches in epochs])
            ys = [batches[step][1] for batches in epochs]
            y = None if ys[0] is None else torch.stack(ys)
            data, condition = stack.split_batch(x, y)
        rows = data.shape[1]
        noise = data.new_zeros(members, rows, stack.latent)
        for i, (k, generator) in enumerate(zip(dims, generators, strict=True)):
            noise[i, :, :k] = torch.randn(rows, k, generator=generator)
        terms = stack.elbo(data, condition, noise, beta)
        for parameter in parameters:
            parameter.grad = None
        terms.loss.sum().backward()
        if rates is None:
            optimizer.step()
        else:
            rates.step(optimizer)
        losses.append(terms.loss.detach())
        recons.append(terms.recon.detach())
        kls.append(terms.kl)
    with torch.no_grad():
        totals = torch.stack([torch.stack(f).mean(dim=0) for f in (losses, recons, kls)])
    return torch.cat([totals.T, totals.new_full((len(dims), 1), beta)], dim=1)
