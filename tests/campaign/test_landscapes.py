"""The burden landscape kinsynth ships for the DBTL benchmark: what it promises in its header."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from kinsynth.campaign.build import Builder
from kinsynth.campaign.space import DesignSpace
from kinsynth.simulate.model import load_model


def test_the_burden_landscape_has_failures_and_an_interior_optimum():
    models = resources.files("kinsynth.simulate").joinpath("models")
    spec = load_model(str(models / "burden.ant"), str(models / "burden_ranges.yaml"))
    assert spec.target == "Product" and spec.flux == "Enz_5"
    assert list(spec.lows) == [0.25] * 6 and list(spec.highs) == [4.0] * 6
    builder = Builder(spec)
    reference, ok = builder.true_flux(pd.DataFrame([[1.0] * 6], columns=spec.columns))
    assert ok[0] and abs(reference[0] - 1.0) < 1e-9  # relative to a stable reference steady state
    draws = DesignSpace.from_spec(spec).sample(600, np.random.default_rng(0))
    flux, valid = builder.true_flux(draws)
    assert 0.04 < 1 - valid.mean() < 0.16  # about one build in ten fails
    top = draws[flux > np.nanquantile(flux, 0.95)]
    means = top.mean().to_numpy()
    # the top designs' mean expression of Enz_1-5 lies inside the range, away from both bounds
    assert (means[:5] > 1.0).all() and (means[:5] < 3.3).all()
    assert means[5] < 1.0  # the by-product branch: less is better
