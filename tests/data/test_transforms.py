"""ColumnTransform: round trips, train-only fitting, column subsets, agreement with sklearn."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import QuantileTransformer

from kinsynth.core.errors import KinsynthError
from kinsynth.data import TRANSFORMS, ColumnTransform


@pytest.fixture
def frame() -> pd.DataFrame:
    """Skewed, negative and tied columns: the shapes the scalers must survive."""
    rng = np.random.default_rng(1)
    n = 400
    return pd.DataFrame(
        {
            "lognormal": rng.lognormal(0.0, 0.7, n),
            "negative": rng.normal(-5.0, 2.0, n),
            "tied": rng.integers(0, 5, n).astype(float),  # repeated quantiles
            "Product_I": rng.uniform(0.1, 2.0, n),
        }
    )


@pytest.mark.parametrize("kind", TRANSFORMS)
def test_round_trip(frame: pd.DataFrame, kind: str) -> None:
    fitted = ColumnTransform(kind).fit(frame)
    z = fitted.transform(frame)
    assert z.dtype == np.float32 and z.shape == frame.shape
    back = fitted.inverse_transform(z)
    assert back.dtype == np.float64
    # float32 model space limits the precision of the round trip.
    np.testing.assert_allclose(back, frame.to_numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_scalers_equal_sklearn(frame: pd.DataFrame, kind: str) -> None:
    fitted = ColumnTransform(kind).fit(frame)
    expected = np.column_stack(
        [fitted.transformers_[c].transform(frame[[c]].to_numpy())[:, 0] for c in frame]
    )
    np.testing.assert_allclose(fitted.transform(frame), expected, rtol=1e-6, atol=1e-6)
    z = np.random.default_rng(0).normal(size=(100, 4))
    expected_inverse = np.column_stack(
        [fitted.transformers_[c].inverse_transform(z[:, [j]])[:, 0] for j, c in enumerate(frame)]
    )
    np.testing.assert_allclose(fitted.inverse_transform(z), expected_inverse, rtol=1e-12)


def test_quantile_fast_path_equals_sklearn(frame: pd.DataFrame) -> None:
    fitted = ColumnTransform("quantile", n_quantiles=100, seed=3).fit(frame)
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(size=(500, 4)) * 3, [[-40.0] * 4, [40.0] * 4]])
    x = np.concatenate([frame.to_numpy(), rng.normal(size=(50, 4)) * 10])
    for j, column in enumerate(frame):
        sk = fitted.transformers_[column]
        assert isinstance(sk, QuantileTransformer)
        assert sk.output_distribution == "normal"
        np.testing.assert_allclose(
            fitted.inverse_transform(z[:, [j]], [column])[:, 0],
            sk.inverse_transform(z[:, [j]])[:, 0],
            rtol=1e-12,
            atol=1e-12,
        )
        np.testing.assert_allclose(
            fitted.transform(x[:, [j]], [column])[:, 0],
            sk.transform(x[:, [j]])[:, 0].astype(np.float32),
            rtol=1e-6,
            atol=1e-6,
        )


def test_fit_on_train_only_outside_range(frame: pd.DataFrame) -> None:
    train = frame.iloc[:300]
    high = pd.DataFrame([train.max() + 10.0])
    standard = ColumnTransform("standard").fit(train)
    assert (standard.transform(high) > standard.transform(train).max(axis=0)).all()
    minmax = ColumnTransform("minmax").fit(train)
    assert (minmax.transform(high) > 1.0).all()
    quantile = ColumnTransform("quantile").fit(train)
    z = quantile.transform(high)
    np.testing.assert_allclose(z, quantile.transform(pd.DataFrame([train.max()])))
    assert np.isfinite(z).all()


def test_quantile_inverse_stays_in_train_range(frame: pd.DataFrame) -> None:
    train = frame.iloc[:300]
    fitted = ColumnTransform("quantile").fit(train)
    z = np.random.default_rng(0).normal(scale=10.0, size=(10_000, 4)).astype(np.float32)
    back = fitted.inverse_transform(z)
    assert (back >= train.min().to_numpy()).all()
    assert (back <= train.max().to_numpy()).all()
    assert back.min(axis=0) == pytest.approx(train.min().to_numpy())
    assert back.max(axis=0) == pytest.approx(train.max().to_numpy())


@pytest.mark.parametrize("kind", TRANSFORMS)
def test_column_subsets_match_full(frame: pd.DataFrame, kind: str) -> None:
    fitted = ColumnTransform(kind).fit(frame)
    full = fitted.transform(frame)
    features = ["lognormal", "negative", "tied"]
    np.testing.assert_array_equal(
        fitted.transform(frame[features].to_numpy(), features), full[:, :3]
    )
    np.testing.assert_array_equal(fitted.transform(frame[["Product_I"]]), full[:, 3:])
    reordered = ["tied", "lognormal"]
    np.testing.assert_array_equal(fitted.transform(frame[reordered]), full[:, [2, 0]])
    np.testing.assert_array_equal(
        fitted.inverse_transform(full[:, 3:], ["Product_I"]), fitted.inverse_transform(full)[:, 3:]
    )


def test_tensor_input_and_pickle(frame: pd.DataFrame) -> None:
    fitted = ColumnTransform("quantile").fit(frame)
    z = fitted.transform(frame)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.columns_ == list(frame.columns)
    np.testing.assert_array_equal(
        restored.inverse_transform(torch.from_numpy(z)), fitted.inverse_transform(z)
    )


def test_none_is_identity_and_copies(frame: pd.DataFrame) -> None:
    fitted = ColumnTransform("none").fit(frame)
    values = frame.to_numpy()
    back = fitted.inverse_transform(values)
    np.testing.assert_array_equal(back, values)
    assert back is not values and not np.shares_memory(back, values)


def test_unknown_kind_lists_choices() -> None:
    with pytest.raises(KinsynthError) as error:
        ColumnTransform("log")
    message = str(error.value)
    assert "'log'" in message and all(kind in message for kind in TRANSFORMS)


def test_misuse_is_reported(frame: pd.DataFrame) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        ColumnTransform("standard").transform(frame)
    fitted = ColumnTransform("standard").fit(frame)
    with pytest.raises(ValueError, match="not fitted"):
        fitted.transform(np.zeros((2, 1)), ["flux"])
    with pytest.raises(ValueError, match="3 columns"):
        fitted.transform(np.zeros((2, 3)))


def test_quantile_inverse_handles_inf_and_nan(frame: pd.DataFrame) -> None:
    fitted = ColumnTransform("quantile").fit(frame)
    back = fitted.inverse_transform(np.array([[-np.inf] * 4, [np.inf] * 4, [np.nan] * 4]))
    np.testing.assert_array_equal(back[0], frame.min().to_numpy())
    np.testing.assert_array_equal(back[1], frame.max().to_numpy())
    assert np.isnan(back[2]).all()


@pytest.mark.parametrize("kind", TRANSFORMS)
def test_plain_data_state_rebuilds_an_identical_transform(frame: pd.DataFrame, kind: str) -> None:
    fitted = ColumnTransform(kind).fit(frame)
    state = fitted.to_state()
    # what a checkpoint holds: torch.load(weights_only=True) reads it back
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    rebuilt = ColumnTransform.from_state(torch.load(buffer, weights_only=True))
    z = fitted.transform(frame)
    np.testing.assert_array_equal(rebuilt.transform(frame), z)
    np.testing.assert_array_equal(rebuilt.inverse_transform(z), fitted.inverse_transform(z))
    subset = ["Product_I"]
    np.testing.assert_array_equal(
        rebuilt.transform(frame[subset]), fitted.transform(frame[subset])
    )


def test_state_with_a_wrong_field_is_a_one_line_error(frame: pd.DataFrame) -> None:
    state = ColumnTransform("standard").fit(frame).to_state()
    with pytest.raises(KinsynthError, match="'offset' is not a float tensor"):
        ColumnTransform.from_state({**state, "offset": b"\x80\x04"})
    with pytest.raises(KinsynthError, match="unknown kind"):
        ColumnTransform.from_state({**state, "kind": "pickle"})
