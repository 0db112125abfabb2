"""Third-party noise silenced where it arises: Lightning prints lines on every fit that tell a
user nothing they can act on (a cloud-logging advert, a deprecation inside Lightning's own pytree
helper, PPCA's deliberate lack of an optimiser, the models' own batch transfer). Each is filtered
by its own text at its own source, so every other warning, a user's own included, still shows.

It lives with the models, below every package that fits one (training, campaigns).
"""

from __future__ import annotations

import logging
import warnings

#: (logger name, message start) of INFO lines Lightning emits on every fit
_NOISY_LOG_LINES = (
    ("pytorch_lightning.utilities.rank_zero", "💡 Tip: For seamless cloud logging"),
    ("lightning.pytorch.utilities.rank_zero", "💡 Tip: For seamless cloud logging"),
)
#: warning texts (regular expressions) raised inside Lightning, never by a user's code
_NOISY_WARNINGS = (
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # PPCA is fitted in closed form: no optimiser is its design, not a mistake
    r"`LightningModule.configure_optimizers` returned `None`, this fit will run with no optimizer",
    # the models' transfer_batch_to_device (models/base.py) is meant to be the one used
    r"You have overridden `transfer_batch_to_device` in `LightningModule` but have passed in a "
    r"`LightningDataModule`",
)


class _DropMessages(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def quiet_third_party() -> None:
    """Install the filters once per process (idempotent: a sweep calls it once per job)."""
    for name, prefix in _NOISY_LOG_LINES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessages) and f.prefix == prefix for f in logger.filters):
            logger.addFilter(_DropMessages(prefix))
    for message in _NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
