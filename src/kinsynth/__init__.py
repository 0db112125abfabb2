"""kinsynth: generative latent-variable models of kinetic-model parameter sets.

In a notebook::

    model = kinsynth.fit(frame, model="bcvae", trainer__max_epochs=300)
    designs = model.sample(500, target=1.4)          # a DataFrame in original units
    model.save("bcvae.ckpt"); model = kinsynth.load("bcvae.ckpt")
    plate = kinsynth.propose(built, n=96, strategy="generative")

Everything is imported lazily: ``import kinsynth`` loads neither torch nor Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from kinsynth.fitted import Model


def load(run: str | Path, map_location: str = "cpu") -> Model:
    """Load a trained model from a run directory or checkpoint file: see :class:`Model`."""
    from kinsynth.api import load as _load

    return _load(run, map_location=map_location)


def fit(frame: pd.DataFrame, model: str = "bcvae", **overrides: Any) -> Model:
    """Train a model on a DataFrame: see :func:`kinsynth.api.fit`."""
    from kinsynth.api import fit as _fit

    return _fit(frame, model, **overrides)


def propose(built: pd.DataFrame, n: int = 96, strategy: str = "generative",
            **settings: Any) -> pd.DataFrame:
    """The next plate from the strains built so far: see :func:`kinsynth.api.propose`."""
    from kinsynth.api import propose as _propose

    return _propose(built, n, strategy, **settings)


__all__ = ["Model", "__version__", "fit", "load", "propose"]


def __getattr__(name: str) -> Any:
    if name == "Model":  # the class loads on first use, without torch
        from kinsynth.fitted import Model

        return Model
    raise AttributeError(f"module 'kinsynth' has no attribute {name!r}")
