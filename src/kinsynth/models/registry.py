"""The only model classes a checkpoint may name.

A checkpoint records its model class by a short registry name, never by an import path: loading a
file from someone else must not import (and so run) whatever module the file names.
"""

from __future__ import annotations

from kinsynth.errors import KinsynthError
from kinsynth.models.base import GenerativeModule


def model_classes() -> dict[str, type[GenerativeModule]]:
    """Registry name -> class, for every model kinsynth trains (imported here, not at load)."""
    from kinsynth.models.latent import LatentVariableModel
    from kinsynth.models.ppca import PPCAModel

    return {cls.__name__: cls for cls in (LatentVariableModel, PPCAModel)}


def registry_name(model: GenerativeModule) -> str:
    """The name a checkpoint records for ``model``'s class."""
    name = type(model).__name__
    if model_classes().get(name) is not type(model):
        raise KinsynthError(f"model class {type(model).__qualname__} is not a registered model")
    return name


def resolve_model_class(name: object, source: str) -> type[GenerativeModule]:
    """The registered class called ``name``; anything else is refused in one line."""
    classes = model_classes()
    if not isinstance(name, str) or name not in classes:
        raise KinsynthError(
            f"{source}: model class {name!r} is not one of kinsynth's models "
            f"({', '.join(sorted(classes))}); refusing to load it"
        )
    return classes[name]
