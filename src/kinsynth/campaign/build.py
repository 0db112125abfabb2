"""Build and test: simulate a batch, optionally with measurement noise as in van Lent et al.

Their noise (``functions/noise.py`` of AbeelLab/simulated-dbtl) is a normal draw around the true
flux, sd absolute (homoscedastic) or a fraction of the flux (heteroscedastic), and a measurement
below 0 reads 0: ``noise.clip`` is that floor (null: none). A floor keeps a measured flux in the
range an assay reports; it is applied to noisy measurements only, never to the true flux.

A design without a stable steady state counts as built, with no flux: in a lab it is a strain
that was made and did not produce, and it costs as much as one that did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.simulate.model import ModelSpec
from kinsynth.simulate.runner import Outcome, evaluate

NOISE_KINDS = ("none", "homoscedastic", "heteroscedastic")


class Builder:
    """Simulates designs; ``noise.level`` is the noise sd (absolute, or relative to the flux)."""

    def __init__(self, spec: ModelSpec, noise_kind: str = "none", noise_level: float = 0.0,
                 seed: int = 0, noise_clip: object = None) -> None:
        if noise_kind not in NOISE_KINDS:
            raise KinsynthError(f"noise.kind={noise_kind!r}: expected one of {list(NOISE_KINDS)}")
        try:
            level = float(noise_level)
        except (TypeError, ValueError):
            level = float("nan")
        if isinstance(noise_level, bool) or not np.isfinite(level) or level < 0:
            raise KinsynthError(f"noise.level={noise_level!r}: expected a non-negative number")
        self.noise_clip = _clip(noise_clip)
        self.spec = spec
        self.noise_kind = noise_kind
        self.noise_level = level
        self.rng = np.random.default_rng([seed, 7])

    def true_flux(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Noise-free flux (NaN when invalid) and the valid flag of each design."""
        values, outcome = evaluate(self.spec, designs[self.spec.columns].to_numpy(float), workers=1)
        return values, outcome == Outcome.ok

    def build(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(measured flux, true flux, valid) for each design."""
        flux, valid = self.true_flux(designs)
        measured = flux.copy()
        if self.noise_kind != "none" and self.noise_level > 0:
            scale = self.noise_level * (np.abs(flux) if self.noise_kind == "heteroscedastic"
                                        else 1.0)
            measured = flux + self.rng.normal(size=len(flux)) * scale
            if self.noise_clip is not None:
                measured = np.maximum(measured, self.noise_clip)  # NaN (invalid) stays NaN
        return measured, flux, valid


def _clip(value: object) -> float | None:
    """``noise.clip``: null, or the lowest measurement a build reports (a finite number)."""
    if value is None:
        return None
    try:
        clip = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        clip = float("nan")
    if not np.isfinite(clip) or isinstance(value, bool):
        raise KinsynthError(f"noise.clip={value!r}: expected a number (the lowest measurement "
                            "a build reports, e.g. 0) or null")
    return clip
