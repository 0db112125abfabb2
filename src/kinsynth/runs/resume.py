"""What a resumed run may change: a run's identity is fixed, its budget and step size are not.

``resume=<run dir>`` is compared with the run's own ``.hydra/config.yaml`` (or, for a run started
without Hydra, the settings its checkpoint records). Settings that define what is trained (data,
features, target, split, transform, model shape, seed) must be the same, or the resumed run would
silently be another one: each difference is refused in one line naming the key, its old value and
its new one. ``trainer.max_epochs`` and ``optimizer.lr`` may change; they are applied and logged.
Any other optimiser setting is refused too: Lightning restores the optimiser's saved state, which
would quietly keep the old weight decay whatever the command line says.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.data.location import data_file
from kinsynth.runs.contract import (
    BUDGET,
    IDENTITY,
    PATH_KEYS,
    PLACEMENT,
    hydra_settings,
    original_cwd,
    plain_mapping,
    read_config,
)
from kinsynth.runs.names import model_choice

log = logging.getLogger(__name__)


def _leaves(cfg: DictConfig, keys: Iterable[str]) -> dict[str, Any]:
    """Flattened values of ``keys`` (subtrees expanded), resolved where they can be."""
    out: dict[str, Any] = {}

    def visit(prefix: str, node: Any) -> None:
        if isinstance(node, DictConfig):
            for key in node:
                name = str(key)  # a YAML mapping's keys are text; OmegaConf types them wider
                try:
                    child = node[key]
                except Exception:  # an interpolation that needs Hydra's runtime
                    child = plain_mapping(node, resolve=False).get(name)
                visit(f"{prefix}.{name}", child)
            return
        if OmegaConf.is_list(node):
            node = OmegaConf.to_container(node, resolve=True)
        out[prefix] = node

    for key in keys:
        try:
            value = OmegaConf.select(cfg, key, throw_on_missing=False)
        except Exception:  # an interpolation that cannot resolve outside its run
            value = None
        visit(key, value)
    return out


def _normalise(key: str, value: Any, cwd: Path) -> Any:
    if key in PATH_KEYS:  # the file it names, as the run that started in ``cwd`` read it
        return os.path.normpath(data_file(value, cwd))
    if value in ("None", "null"):
        return None
    return value


def _from_checkpoint(checkpoint: dict[str, Any]) -> DictConfig:
    """The settings a checkpoint records, shaped like the training config."""
    data = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    data.pop("device", None)
    model = dict(checkpoint.get("hyper_parameters") or {})
    shaped = {"data": data, "latent_dim": model.get("latent_dim")}
    return OmegaConf.create(shaped)


def compare(
    old: DictConfig, new: DictConfig, run_dir: Path, keys: Iterable[str] = IDENTITY,
    skip: tuple[str, ...] = PLACEMENT + BUDGET,
) -> list[tuple[str, Any, Any]]:
    """Differences (key, old, new) between two configs over ``keys``, but for ``skip``."""
    keys = list(keys)
    before, after = _leaves(old, keys), _leaves(new, keys)
    old_cwd = original_cwd(run_dir)
    changes = []
    for key in sorted(set(before) | set(after)):
        if key in skip:
            continue
        a = _normalise(key, before.get(key), old_cwd)
        b = _normalise(key, after.get(key), Path.cwd())
        if a != b:
            changes.append((key, before.get(key), after.get(key)))
    return changes


def check_resumed_config(
    cfg: DictConfig, run_dir: Path, checkpoint: dict[str, Any]
) -> dict[str, Any]:
    """Refuse a changed identity; return the mutable settings that changed (key -> new value)."""
    original = read_config(run_dir)
    from_hydra = original is not None
    if original is None:
        original = _from_checkpoint(checkpoint)
        new = OmegaConf.create({
            "data": {k: v for k, v in plain_mapping(cfg.data).items()
                     if k in original.data},
            "latent_dim": OmegaConf.select(cfg, "model.latent_dim", default=cfg.get("latent_dim")),
        })
        changes = compare(original, new, run_dir)
    else:
        changes = compare(original, cfg, run_dir)
    if changes:
        key, old, new_value = changes[0]
        more = f" (and {len(changes) - 1} more: {', '.join(c[0] for c in changes[1:])})" if (
            len(changes) > 1) else ""
        choices = _choices_to_repeat(cfg, run_dir)
        fix = (f"add {' '.join(choices)} (the original run's choice) or start a new run"
               if choices else "repeat the original setting or start a new run")
        raise KinsynthError(
            f"resume={run_dir}: {key} was {old!r} in the original run, now {new_value!r}; a "
            f"resumed run must keep it{more}: {fix}"
        )
    applied: dict[str, Any] = {}
    if from_hydra:
        for key, old, new_value in compare(original, cfg, run_dir, BUDGET, skip=()):
            log.info("resume: %s changed from %s to %s (applied)", key, old, new_value)
            applied[key] = new_value
    return applied


#: config groups whose choice sets many settings at once: a resume that forgets ``model=cvae``
#: differs in a dozen model.* keys, and naming the group is the one fix
_GROUPS = ("model", "experiment", "data", "optimizer")


def _choices_to_repeat(cfg: DictConfig, run_dir: Path) -> list[str]:
    """``model=cvae``-style choices the original run made and this command does not."""
    runtime = hydra_settings(run_dir).get("runtime") or {}
    original = runtime.get("choices") or {}
    try:
        from hydra.core.hydra_config import HydraConfig

        current = dict(HydraConfig.get().runtime.choices)
    except (ImportError, ValueError):  # composed without Hydra's launcher: only the model known
        current = {"model": model_choice(cfg)}
    return [f"{group}={original[group]}" for group in _GROUPS
            if original.get(group) not in (None, "null")
            and str(original[group]) != str(current.get(group))]


class ApplyResumedSettings(pl.Callback):
    """Applies a changed optimiser lr after Lightning restored the optimiser's saved state."""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = self.lr
                if "initial_lr" in group:
                    group["initial_lr"] = self.lr
        for config in trainer.lr_scheduler_configs:
            config.scheduler.base_lrs = [self.lr for _ in config.scheduler.base_lrs]
