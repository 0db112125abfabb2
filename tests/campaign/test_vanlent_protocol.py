"""van Lent et al.'s protocol around any strategy: their noise (absolute sd, clipped at 0), their
unequal batch schedules, and their figure of merit (a judge model's predicted top 100)."""

from __future__ import annotations

import numpy as np
import pytest

from kinsynth.campaign.build import Builder
from kinsynth.core.errors import KinsynthError


def fixed_flux_builder(pathway, flux, **noise) -> Builder:
    builder = Builder(pathway, **noise)
    builder.true_flux = lambda designs: (np.asarray(flux, float), np.isfinite(flux))
    return builder


def test_homoscedastic_noise_has_an_absolute_sd_and_clips_at_the_floor(pathway):
    flux = np.full(20000, 0.1)
    flux[:10] = np.nan  # invalid builds: no measurement, clip or not
    builder = fixed_flux_builder(pathway, flux, noise_kind="homoscedastic", noise_level=0.15,
                                 noise_clip=0.0)
    measured, true, _ = builder.build(None)
    assert np.isnan(measured[:10]).all() and np.isnan(true[:10]).all()
    values = measured[10:]
    assert values.min() == 0.0  # never below the floor
    # N(0.1, 0.15) falls below 0 with probability Phi(-2/3) = 0.2525; those read exactly 0
    assert np.mean(values == 0.0) == pytest.approx(0.2525, abs=0.015)
    above = values[values > 0]
    assert np.std(above) < 0.15  # the sd of the part above 0: truncated, smaller
    # without a floor: the absolute sd whatever the flux
    unclipped = fixed_flux_builder(pathway, np.full(20000, 5.0), noise_kind="homoscedastic",
                                   noise_level=0.15).build(None)[0]
    assert np.std(unclipped) == pytest.approx(0.15, rel=0.03) and unclipped.min() < 5 - 0.3


@pytest.mark.parametrize(("noise", "message"), [
    ({"noise_level": -0.15}, "noise.level=-0.15: expected a non-negative number"),
    ({"noise_clip": "zero"}, "noise.clip='zero': expected a number"),
    ({"noise_clip": float("nan")}, "noise.clip=nan: expected a number"),
])
def test_bad_noise_is_one_line(pathway, noise, message):
    with pytest.raises(KinsynthError, match=message) as caught:
        Builder(pathway, "homoscedastic", **{"noise_level": 0.15, **noise})
    assert "\n" not in str(caught.value)
