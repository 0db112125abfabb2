import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.decomposition import PCA

from kinsynth.core.errors import KinsynthError
from kinsynth.data import ColumnTransform
from kinsynth.models import PPCAModel


def _correlated(n: int = 4000, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ mixing.T + rng.normal(size=d)


def _model(d: int, k: int, **kw) -> PPCAModel:
    columns = [f"c{i}" for i in range(d - 1)]
    return PPCAModel(feature_columns=columns, target=f"c{d - 1}", latent_dim=k, **kw)


def test_covariance_equals_sklearn_get_covariance():
    values = _correlated()
    model = _model(6, 3).fit_arrays(values)
    expected = PCA(n_components=3, svd_solver="full").fit(values).get_covariance()
    assert np.allclose(model.covariance().double().numpy(), expected, rtol=1e-4, atol=1e-4)


def test_samples_reproduce_the_data_covariance_at_full_rank():
    values = _correlated()
    model = _model(6, 5).fit_arrays(values)
    draws = model.sample_scaled(200_000, None, torch.Generator().manual_seed(0)).numpy()
    assert np.allclose(
        np.cov(draws.T), np.cov(values.T), atol=0.05 * np.abs(np.cov(values.T)).max()
    )
    assert np.allclose(draws.mean(0), values.mean(0), atol=0.05)


def test_conditional_sampling_follows_the_gaussian_regression():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5000, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=5000)
    model = _model(4, 3, conditional=True).fit_arrays(np.column_stack([x, y]))
    cond = torch.full((20_000, 1), 3.0)
    draws = model.sample_scaled(20_000, cond, torch.Generator().manual_seed(0)).numpy()
    cov = np.cov(np.column_stack([x, y]).T)
    expected = x.mean(0) + cov[:3, 3] / cov[3, 3] * (3.0 - y.mean())
    assert np.allclose(draws.mean(0), expected, atol=0.05)


def test_latent_dim_must_be_smaller_than_the_number_of_columns():
    with pytest.raises(KinsynthError, match="latent_dim=6"):
        _model(6, 6)


def test_public_api_in_original_units_and_unconditional_target_is_an_error():
    values = np.abs(_correlated(d=4)) + 1.0
    frame = pd.DataFrame(values, columns=["a", "b", "c", "y"])
    model = PPCAModel(feature_columns=["a", "b", "c"], target="y", latent_dim=2)
    transform = ColumnTransform("standard").fit(frame)
    model.attach_data(transform, frame["y"].to_numpy())
    model.fit_arrays(transform.transform(frame))
    synth = model.sample(50_000, seed=0)
    assert list(synth.columns) == ["a", "b", "c", "y"]
    assert np.allclose(synth.mean(), frame.mean(), atol=0.05 * frame.std().max())
    mu, log_var = model.encode(frame.iloc[:10])
    assert mu.shape == (10, 2) and log_var.shape == (10, 2)
    assert model.kl(frame.iloc[:10]).shape == (10,)
    assert model.reconstruct(frame.iloc[:10]).shape == (10, 4)
    with pytest.raises(KinsynthError, match="unconditional"):
        model.sample(5, target=1.0)
