"""What a notebook gets back from a model: counts checked as generate.py checks them, frames that
keep the input's index, and one line for a row without a value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinsynth.core.errors import KinsynthError
from kinsynth.data import ColumnTransform
from kinsynth.models import PPCAModel


@pytest.fixture(scope="module")
def model() -> PPCAModel:
    rng = np.random.default_rng(0)
    values = np.abs(rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4))) + 1.0
    frame = pd.DataFrame(values, columns=["a", "b", "c", "y"])
    fitted = PPCAModel(feature_columns=["a", "b", "c"], target="y", latent_dim=2)
    transform = ColumnTransform("standard").fit(frame)
    fitted.attach_data(transform, frame["y"].to_numpy())
    fitted.fit_arrays(transform.transform(frame))
    return fitted


@pytest.mark.parametrize("n", [-1, 2.5, "10", True, "abc", None])
def test_sample_refuses_what_generate_py_refuses(model, n):
    with pytest.raises(KinsynthError, match=r"^n="):
        model.sample(n, seed=0)


def test_sample_takes_whole_numbers_and_zero(model):
    assert len(model.sample(3.0, seed=0)) == 3
    assert len(model.sample(np.int64(4), seed=0)) == 4
    assert list(model.sample(0, seed=0).columns) == ["a", "b", "c", "y"]


def _rows(model) -> pd.DataFrame:
    designs = model.sample(6, seed=1)
    designs.index = [f"strain_{i}" for i in range(10, 16)]
    return designs


def test_encode_and_kl_return_frames_with_the_input_index(model):
    frame = _rows(model)
    mu, log_var = model.encode(frame)
    assert isinstance(mu, pd.DataFrame) and isinstance(log_var, pd.DataFrame)
    assert list(mu.index) == list(frame.index) == list(log_var.index)
    assert list(mu.columns) == ["z0", "z1"]
    kl = model.kl(frame)
    assert isinstance(kl, pd.Series) and list(kl.index) == list(frame.index)
    assert (kl.to_numpy() >= 0).all() and np.isfinite(kl.to_numpy()).all()
    # the same numbers as the scaled call, row for row
    import torch

    data = torch.as_tensor(model.transform.transform(frame[model.data_columns].to_numpy(),
                                                     columns=model.data_columns),
                           dtype=torch.float32)
    expected_mu, _ = model.encode_scaled(data, None)
    assert np.allclose(mu.to_numpy(), expected_mu.numpy(), atol=1e-6)
    assert list(model.reconstruct(frame).index) == list(frame.index)


@pytest.mark.parametrize("method", ["encode", "kl", "reconstruct"])
def test_a_row_without_a_value_is_one_line_naming_column_and_row(model, method):
    frame = _rows(model)
    frame.loc["strain_12", "b"] = np.nan
    with pytest.raises(KinsynthError, match=r"column 'b': row 'strain_12' has no number"):
        getattr(model, method)(frame)
