"""The shipped default data set is what the simulator produces for its seed."""

from __future__ import annotations

from importlib import resources

import numpy as np

from kinsynth.simulate import DEFAULT_ROWS, DEFAULT_SEED, read_dataset, simulate_dataset

PATH = resources.files("kinsynth").joinpath("data/default/pathway_I_sim_5000.csv")


def test_embedded_file_shape(spec):
    frame = read_dataset(PATH)
    assert len(frame) == DEFAULT_ROWS
    assert list(frame.columns) == spec.columns + ["Product_I"]
    assert frame.index.is_monotonic_increasing and frame.notna().all().all()


def test_first_draws_regenerate():
    frame = read_dataset(PATH)
    fresh = simulate_dataset(40, seed=DEFAULT_SEED, workers=1).frame
    stored = frame.loc[frame.index < 40]
    assert list(stored.index) == list(fresh.index)
    assert np.allclose(stored.to_numpy(), fresh.to_numpy(), rtol=1e-6, atol=0)
