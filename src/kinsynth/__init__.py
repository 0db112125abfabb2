"""kinsynth: generative latent-variable models of kinetic-model parameter sets.

``kinsynth.load(run_dir).sample(n, target=1.4)`` returns new designs as a DataFrame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kinsynth.models.base import GenerativeModule


def load(run: Any, map_location: str = "cpu") -> GenerativeModule:
    """Load a trained model from a run directory or checkpoint (imports torch lazily)."""
    from kinsynth.models.loading import load as _load

    return _load(run, map_location=map_location)


__all__ = ["__version__", "load"]
