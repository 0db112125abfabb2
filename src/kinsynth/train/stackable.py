"""Which runs of a sweep can train as one stack: a key computed from their configs alone.

Kept free of torch and Lightning so a sweep's launching process decides before any worker starts
(the stacking itself: ``kinsynth.train.stacked``).
"""

from __future__ import annotations

import json

from omegaconf import DictConfig

from kinsynth.runs.contract import plain_mapping

#: the names a config gives the stackable class (the built models are checked again)
_MODELS = ("kinsynth.models.LatentVariableModel", "kinsynth.models.latent.LatentVariableModel")


#: optimizers whose step moves each weight by the learning rate times an amount that does not
#: depend on it: stacked models may then each have their own rate (kinsynth.train.stacked)
LINEAR_IN_LR = ("torch.optim.Adam", "torch.optim.AdamW", "torch.optim.SGD")


def stack_key(cfg: DictConfig) -> str | None:
    """What runs must share to train as one stack, or None when this run trains alone.

    Runs with equal keys differ at most in their latent size, seed, data seed and (for the
    optimizers of :data:`LINEAR_IN_LR`) learning rate. A resumed run,
    one whose training ends on steps or time rather than epochs, or one in reduced precision
    trains alone.
    """
    model_node, trainer = cfg.get("model"), cfg.get("trainer")
    if not model_node or not trainer or cfg.get("resume"):  # not a training run, or resumed
        return None
    if model_node.get("_target_") not in _MODELS:
        return None
    if (trainer.get("max_steps") not in (None, -1) or trainer.get("max_time") is not None
            or str(trainer.get("precision", "32-true")) not in ("32", "32-true")
            or not isinstance(trainer.get("max_epochs"), int) or trainer.max_epochs <= 0):
        return None
    if trainer.get("devices") not in (None, 1, "1", "auto") or trainer.get("num_nodes", 1) != 1:
        return None
    model = {k: v for k, v in plain_mapping(cfg.model).items() if k != "latent_dim"}
    data = {k: v for k, v in plain_mapping(cfg.data).items() if k != "seed"}
    optimizer = plain_mapping(cfg.optimizer)
    if optimizer.get("_target_") in LINEAR_IN_LR:
        optimizer.pop("lr", None)
    return json.dumps({"model": model, "data": data, "optimizer": optimizer,
                       "max_epochs": trainer.max_epochs, "threads": cfg.get("threads")},
                      sort_keys=True, default=str)
