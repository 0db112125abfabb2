"""Model size settings checked before anything is allocated: a typo never asks for terabytes.

The bounds are far above anything useful for tables of tens of columns, and low enough that
the largest model they allow still fits in a few GB.
"""

from __future__ import annotations

MAX_LATENT_DIM = 1024
MAX_HIDDEN_UNITS = 16384
MAX_HIDDEN_LAYERS = 32
