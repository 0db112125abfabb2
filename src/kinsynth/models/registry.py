"""The only model classes a checkpoint may name, and the names it records for them.

A checkpoint records its model class by a registry name, never by an import path: loading a file
from someone else must not import (and so run) whatever module the file names. Each class declares
its name (``checkpoint_name``); the names are part of the checkpoint format, not the class names,
so a class can be renamed or moved without orphaning a saved model.
"""

from __future__ import annotations

from kinsynth.core.errors import KinsynthError
from kinsynth.models.base import GenerativeModule
from kinsynth.models.latent import LatentVariableModel
from kinsynth.models.ppca import PPCAModel

#: registry name -> class, for every model kinsynth trains
MODELS: dict[str, type[GenerativeModule]] = {
    cls.checkpoint_name: cls for cls in (LatentVariableModel, PPCAModel)
}


def resolve_model_class(name: object, source: str) -> type[GenerativeModule]:
    """The registered class called ``name``; anything else is refused in one line."""
    if not isinstance(name, str) or name not in MODELS:
        raise KinsynthError(
            f"{source}: model class {name!r} is not one of kinsynth's models "
            f"({', '.join(sorted(MODELS))}); refusing to load it"
        )
    return MODELS[name]
