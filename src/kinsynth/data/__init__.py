"""Data layer: read and validate kinetic tables, scale them, serve them to Lightning."""

from kinsynth.data.datamodule import EpochBatches, KineticDataModule, SingleBatch
from kinsynth.data.default import DEFAULT_DATA_PATH
from kinsynth.data.io import KineticTable, read_table
from kinsynth.data.transforms import TRANSFORMS, ColumnTransform

__all__ = [
    "DEFAULT_DATA_PATH",
    "TRANSFORMS",
    "ColumnTransform",
    "EpochBatches",
    "KineticDataModule",
    "KineticTable",
    "SingleBatch",
    "read_table",
]
