"""Streaming generation: the same seed gives the same rows whatever the chunk size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data import ColumnTransform
from kinsynth.models import LatentVariableModel, PPCAModel
from kinsynth.models.base import SAMPLE_BLOCK_ROWS

N = 2 * SAMPLE_BLOCK_ROWS + 1234  # three blocks of randomness, the last one partial


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, ColumnTransform]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(0.5, 2, size=(400, 3)), columns=["a", "b", "y"])
    return frame, ColumnTransform("quantile", n_quantiles=100).fit(frame)


def conditional_vae(data) -> LatentVariableModel:
    frame, transform = data
    torch.manual_seed(0)
    model = LatentVariableModel(["a", "b"], "y", latent_dim=2, hidden=[8], conditional=True,
                                likelihood="learned")
    model.attach_data(transform, frame["y"].to_numpy())
    return model


@pytest.mark.parametrize("target", [None, "0.8:1.6", 1.1])
def test_chunked_sampling_equals_one_shot(data, target) -> None:
    model = conditional_vae(data)
    whole = model.sample(N, target=target, seed=7, chunk_size=N)
    for chunk_size in (1000, SAMPLE_BLOCK_ROWS, 50_000):
        chunks = list(model.iter_sample(N, target=target, seed=7, chunk_size=chunk_size))
        assert [len(c) for c in chunks[:-1]] == [chunk_size] * (len(chunks) - 1)
        assert sum(len(c) for c in chunks) == N
        pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole, check_exact=True)
    assert not whole.equals(model.sample(N, target=target, seed=8))


def test_per_row_targets_and_ppca_chunk_the_same(data) -> None:
    frame, transform = data
    model = conditional_vae(data)
    targets = np.linspace(0.7, 1.7, N)
    a = model.sample(N, target=targets, seed=1, chunk_size=777)
    b = model.sample(N, target=targets, seed=1)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert np.array_equal(a["y"].to_numpy(), targets)

    ppca = PPCAModel(["a", "b"], "y", latent_dim=1, conditional=False, joint=True)
    ppca.fit_arrays(transform.transform(frame))
    ppca.attach_data(transform, frame["y"].to_numpy())
    pd.testing.assert_frame_equal(
        ppca.sample(N, seed=2, chunk_size=4096), ppca.sample(N, seed=2), check_exact=True
    )


def test_bad_chunk_size_and_non_finite_targets_are_refused(data) -> None:
    model = conditional_vae(data)
    with pytest.raises(KinsynthError, match="chunk_size=0"):
        model.sample(10, chunk_size=0)
    for bad in ("nan", "inf", float("-inf"), "1:inf"):
        with pytest.raises(KinsynthError, match="finite"):
            model.sample(10, target=bad)


def test_a_target_for_an_unconditional_model_suggests_the_conditional_ones(data) -> None:
    frame, transform = data
    ppca = PPCAModel(["a", "b"], "y", latent_dim=1, conditional=False, joint=True)
    ppca.fit_arrays(transform.transform(frame))
    ppca.attach_data(transform, frame["y"].to_numpy())
    with pytest.raises(KinsynthError, match="model=cppca"):
        ppca.sample(5, target=1.0)
