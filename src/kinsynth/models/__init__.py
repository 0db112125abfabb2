"""Generative models of kinetic parameter tables, all speaking the API of ``GenerativeModule``."""

from kinsynth.models.base import GenerativeModule, parse_target
from kinsynth.models.latent import LatentVariableModel, NonFiniteLossError
from kinsynth.models.loading import find_checkpoint, load
from kinsynth.models.ppca import PPCAModel

__all__ = [
    "GenerativeModule",
    "LatentVariableModel",
    "NonFiniteLossError",
    "PPCAModel",
    "find_checkpoint",
    "load",
    "parse_target",
]
