"""Checkpoints written by kinsynth 0.1.0 (commit e40b224, before the package layout moved) load.

The files in fixtures/ were saved by that version's ``train.py`` (a 2-latent CVAE and PPCA, one
epoch on the toy table); the CSVs beside them are what those models sampled then. A checkpoint
names its model by registry name, so moving or renaming a class must not orphan it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kinsynth

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["cvae", "ppca"])
def test_a_checkpoint_saved_before_the_move_loads_and_samples_the_same(name: str) -> None:
    model = kinsynth.load(FIXTURES / f"{name}_v0.1.0.ckpt")
    sample = model.sample(5, target=1.0, seed=0) if model.conditional else model.sample(5, seed=0)
    expected = pd.read_csv(FIXTURES / f"{name}_v0.1.0_sample.csv")
    pd.testing.assert_frame_equal(sample.reset_index(drop=True), expected, rtol=1e-5, atol=1e-6)
