"""Evaluation caps: bounded, seeded subsamples, recorded; exact nearest neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinsynth.core.errors import KinsynthError
from kinsynth.evaluate.metrics import evaluate_samples
from kinsynth.evaluate.metrics.caps import RowCaps
from kinsynth.evaluate.metrics.memorisation import memorisation_ratio

FEATURES = ["a", "b", "c", "d"]


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(n, 4))
    out = pd.DataFrame(x, columns=FEATURES)
    out["flux"] = x[:, 0] * x[:, 2] / (1 + x[:, 3]) + 0.01 * rng.normal(size=n)
    return out


def test_caps_are_honoured_and_recorded() -> None:
    train, test, synth = frame(3000, 1), frame(2000, 2), frame(4000, 3)
    caps = RowCaps(c2st=500, mmd=200, memorisation=300, memorisation_reference=1000, utility=800)
    m = evaluate_samples(train, test, synth, FEATURES, "flux", seed=0, caps=caps)
    assert m["n_c2st"] == 1000 and m["n_mmd"] == 400 and m["n_fidelity"] == 4000
    assert m["n_memorisation"] == 600 and m["n_memorisation_reference"] == 1000
    assert m["n_utility"] == 1600
    # same distribution: the capped figures still read "indistinguishable, fresh rows"
    assert m["c2st_auc"] == pytest.approx(0.5, abs=0.08)
    assert 0.85 < m["memorisation_ratio"] < 1.15
    assert m["tstr_r2"] > 0.9
    # seeded: the same caps and seed give the same numbers
    again = evaluate_samples(train, test, synth, FEATURES, "flux", seed=0, caps=caps)
    assert again == m


def test_caps_at_or_above_the_data_sizes_change_nothing() -> None:
    train, test, synth = frame(800, 4), frame(200, 5), frame(900, 6)
    uncapped = RowCaps(c2st=None, mmd=None, memorisation=None, memorisation_reference=None,
                       utility=None)
    wide = RowCaps(c2st=900, mmd=900, memorisation=900, memorisation_reference=800, utility=900)
    a = evaluate_samples(train, test, synth, FEATURES, "flux", seed=1, caps=uncapped)
    b = evaluate_samples(train, test, synth, FEATURES, "flux", seed=1, caps=wide)
    assert a == b


def test_memorisation_ratio_matches_all_pairs_distances() -> None:
    rng = np.random.default_rng(0)
    train, holdout, synth = rng.normal(size=(700, 5)), rng.normal(size=(150, 5)), rng.normal(
        size=(300, 5)) * 1.3
    nearest = lambda q: np.sqrt(((q[:, None, :] - train[None]) ** 2).sum(-1)).min(1)  # noqa: E731
    expected = np.median(nearest(synth)) / np.median(nearest(holdout))
    assert memorisation_ratio(train, holdout, synth) == pytest.approx(expected, rel=1e-12)


def test_bad_cap_keys_are_one_line_errors() -> None:
    with pytest.raises(KinsynthError, match="unknown key.*c2sst"):
        RowCaps.from_mapping({"c2sst": 10})
    with pytest.raises(KinsynthError, match="max_rows.c2st=3"):
        RowCaps.from_mapping({"c2st": 3})
    assert RowCaps.from_mapping({"c2st": None}).c2st is None
