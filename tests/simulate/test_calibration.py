"""The embedded model reproduces the reference data set's qualitative behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from kinsynth.simulate import read_dataset
from kinsynth.simulate.calibration import profile, reference_draws

STRONGEST = {
    "vmax_forward_Enz_A": 1,
    "km_substrate1_Enz_A": -1,
    "vmax_forward_TKT2": -1,
    "vmax_forward_Enz_I": -1,
}
NEUTRAL = [f"vmax_forward_Enz_{e}" for e in "BCDEFGHL"]


def test_failure_rate_in_band(sample):
    assert 0.15 <= sample.failure_rate <= 0.40


def test_failures_at_low_rpi_and_high_tkt2(spec, sample):
    failed, draws = sample.failed, len(sample.frame) + sample.n_failed
    assert failed.reason.isin(["no_steady_state", "negative_concentration", "unstable"]).all()

    def failure_rate(column, top):
        r = next(r for r in spec.ranges if r.name == column)
        cut = r.low + (0.8 if top else 0.2) * (r.high - r.low)
        n_fail = (failed[column] >= cut).sum() if top else (failed[column] < cut).sum()
        return n_fail / (0.2 * draws)

    assert failure_rate("vmax_forward_RPI", top=False) > 2 * sample.failure_rate
    assert failure_rate("vmax_forward_TKT2", top=True) > failure_rate(
        "vmax_forward_TKT2", top=False
    )


def test_correlation_signs_and_neutral_enzymes(sample):
    r = sample.frame.corr()["Product_I"]
    for column, sign in STRONGEST.items():
        assert np.sign(r[column]) == sign and abs(r[column]) > 0.1, column
    assert (r[NEUTRAL].abs() < 0.1).all(), r[NEUTRAL]
    # the four named effects are the four strongest, as in the reference data
    strongest = r.drop("Product_I").abs().sort_values(ascending=False).index[:4]
    assert set(strongest) == set(STRONGEST), r.abs().sort_values(ascending=False).head(6)


def test_flux_saturates_within_reference_like_range(sample):
    target = sample.frame["Product_I"]
    assert target.min() > 0 and target.max() < 3
    assert 0.6 < target.median() < 1.2


@pytest.mark.reference
def test_close_to_reference_profile(spec, sample, reference_path):
    reference = read_dataset(reference_path)
    ours = profile(sample.frame, sample.n_draws, spec)
    theirs = profile(reference, reference_draws(reference), spec)
    assert abs(ours["failure rate"] - theirs["failure rate"]) < 0.1
    for column in STRONGEST:
        assert np.sign(ours[f"r({column})"]) == np.sign(theirs[f"r({column})"])
