"""Data layer: read and validate kinetic tables, scale them, serve them to Lightning.

Names load on first use (:mod:`kinsynth.core.lazy`): the simulator and the sweep report import
``kinsynth.core.writing`` and ``.default`` without torch and Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinsynth.core.lazy import lazy_exports

if TYPE_CHECKING:
    from kinsynth.data.datamodule import EpochBatches, KineticDataModule, SingleBatch
    from kinsynth.data.default import DEFAULT_DATA_PATH
    from kinsynth.data.io import KineticTable, read_table
    from kinsynth.data.transforms import TRANSFORMS, ColumnTransform

_HOMES = {
    "DEFAULT_DATA_PATH": "default",
    "TRANSFORMS": "transforms",
    "ColumnTransform": "transforms",
    "EpochBatches": "datamodule",
    "KineticDataModule": "datamodule",
    "KineticTable": "io",
    "SingleBatch": "datamodule",
    "read_table": "io",
}
__all__ = [
    "ColumnTransform",
    "DEFAULT_DATA_PATH",
    "EpochBatches",
    "KineticDataModule",
    "KineticTable",
    "SingleBatch",
    "TRANSFORMS",
    "read_table",
]
__getattr__ = lazy_exports(__name__, _HOMES)
