import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.data import ColumnTransform
from kinsynth.errors import KinsynthError
from kinsynth.models import LatentVariableModel, parse_target


def test_parse_target_number_range_and_errors():
    assert parse_target(None) is None
    assert parse_target(1.4) == 1.4
    assert parse_target("1.4") == 1.4
    assert parse_target("1.2:1.5") == (1.2, 1.5)
    assert parse_target((1.0, 2.0)) == (1.0, 2.0)
    with pytest.raises(KinsynthError, match="target='abc'"):
        parse_target("abc")
    with pytest.raises(KinsynthError, match="lo <= hi"):
        parse_target("2:1")


@pytest.fixture
def fitted_pair():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(0.5, 2, size=(300, 3)), columns=["a", "b", "y"])
    transform = ColumnTransform("standard").fit(frame)
    return frame, transform


@pytest.mark.parametrize(
    "conditional,joint,columns",
    [
        (True, True, ["a", "b", "y"]),
        (False, True, ["a", "b", "y"]),
        (False, False, ["a", "b"]),
    ],
)
def test_sample_columns_follow_the_model_kind(fitted_pair, conditional, joint, columns):
    frame, transform = fitted_pair
    model = LatentVariableModel(
        ["a", "b"], "y", latent_dim=2, hidden=[8], conditional=conditional, joint=joint
    )
    model.attach_data(transform, frame["y"].to_numpy())
    synth = model.sample(7, seed=0)
    assert list(synth.columns) == columns and len(synth) == 7


def test_conditional_targets_number_range_and_bank(fitted_pair):
    frame, transform = fitted_pair
    model = LatentVariableModel(["a", "b"], "y", latent_dim=2, hidden=[8], conditional=True)
    model.attach_data(transform, frame["y"].to_numpy())
    assert (model.sample(5, target=1.4)["y"] == 1.4).all()
    ranged = model.sample(500, target="1.0:1.5", seed=1)["y"]
    assert ranged.between(1.0, 1.5).all() and ranged.std() > 0.1
    drawn = model.sample(200, seed=2)["y"]
    assert set(np.round(drawn, 12)) <= set(np.round(frame["y"], 12))


def test_same_seed_same_samples(fitted_pair):
    frame, transform = fitted_pair
    torch.manual_seed(0)
    model = LatentVariableModel(["a", "b"], "y", latent_dim=2, hidden=[8])
    model.attach_data(transform, frame["y"].to_numpy())
    pd.testing.assert_frame_equal(model.sample(20, seed=3), model.sample(20, seed=3))
    assert not model.sample(20, seed=3).equals(model.sample(20, seed=4))


def test_bad_options_are_one_line_errors():
    with pytest.raises(KinsynthError, match="model.likelihood='bad'"):
        LatentVariableModel(["a"], "y", likelihood="bad")
    with pytest.raises(KinsynthError, match="needs a target"):
        LatentVariableModel(["a"], None, conditional=True)
