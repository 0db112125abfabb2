"""Generative models of kinetic parameter tables, all speaking the API of ``GenerativeModule``.

Names load on first use (:mod:`kinsynth.core.lazy`): the size bounds in ``kinsynth.models.limits``
are read without importing torch and Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinsynth.core.lazy import lazy_exports

if TYPE_CHECKING:
    from kinsynth.models.base import GenerativeModule, parse_target
    from kinsynth.models.latent import LatentVariableModel, NonFiniteLossError
    from kinsynth.models.loading import find_checkpoint, load
    from kinsynth.models.ppca import PPCAModel

_HOMES = {
    "GenerativeModule": "base",
    "LatentVariableModel": "latent",
    "NonFiniteLossError": "latent",
    "PPCAModel": "ppca",
    "find_checkpoint": "loading",
    "load": "loading",
    "parse_target": "base",
}
__all__ = [
    "GenerativeModule",
    "LatentVariableModel",
    "NonFiniteLossError",
    "PPCAModel",
    "find_checkpoint",
    "load",
    "parse_target",
]
__getattr__ = lazy_exports(__name__, _HOMES)
