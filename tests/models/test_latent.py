import math

import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data import ColumnTransform
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


def test_unknown_prior_is_a_one_line_error():
    with pytest.raises(KinsynthError, match="model.prior='flat'"):
        LatentVariableModel(["a"], "y", prior="flat")


def test_standard_prior_keeps_the_checkpoint_layout():
    model = LatentVariableModel(["a", "b"], "y", latent_dim=2, hidden=[8])
    assert not any(k.startswith("prior_") for k in model.state_dict())


def test_aggregate_prior_matches_the_codes_and_their_dependence_on_the_target():
    """The fitted prior is the moment-matched Gaussian of the codes, conditioned on the target."""
    torch.manual_seed(0)
    model = LatentVariableModel(
        ["a", "b"], "y", latent_dim=2, hidden=[8], conditional=True, prior="aggregate"
    )
    n = 20000
    y = torch.randn(n, 1)
    mu = torch.cat([2.0 + 3.0 * y, torch.randn(n, 1) * 0.5], dim=1)
    log_var = torch.full((n, 2), math.log(0.25))
    model.encode_scaled = lambda data, condition: (mu, log_var)  # codes with a known law
    model.fit_aggregate_prior(torch.zeros(n, 2), y)
    assert model.prior_mean.tolist() == pytest.approx([2.0, 0.0], abs=0.05)
    assert model.prior_slope[:, 0].tolist() == pytest.approx([3.0, 0.0], abs=0.05)
    cov = model.prior_scale_tril @ model.prior_scale_tril.T
    # residual variance: z0 is exactly linear in y (0 + 0.25); z1 is 0.5^2 + 0.25
    assert torch.diag(cov).tolist() == pytest.approx([0.25, 0.5], abs=0.03)
    # sampling at a requested target draws codes around m + B (c - m_c)
    z = model.prior_mean + torch.randn(n, 2) @ model.prior_scale_tril.T
    shifted = z + (torch.full((n, 1), 1.0) - model.prior_condition_mean) @ model.prior_slope.T
    assert shifted[:, 0].mean().item() == pytest.approx(5.0, abs=0.05)


def test_aggregate_prior_is_refreshed_by_training_and_saved(compose_train, tmp_path):
    from kinsynth.models import load
    from kinsynth.train.run import run_training

    cfg = compose_train(
        "model=bcvae",
        "latent_dim=3",
        "model.prior=aggregate",
        "trainer.max_epochs=3",
        "callbacks.evaluation.figures=false",
    )
    run_training(cfg, tmp_path)
    model = load(tmp_path)
    assert model.prior == "aggregate"
    assert not torch.equal(model.prior_scale_tril, torch.eye(3))
    assert torch.isfinite(model.prior_slope).all()
    synth = model.sample(50, target=1.0, seed=0)
    assert np.isfinite(synth.to_numpy()).all()


def test_unknown_lr_schedule_is_a_one_line_error():
    with pytest.raises(KinsynthError, match="model.lr_schedule='step'"):
        LatentVariableModel(["a"], "y", lr_schedule="step")


def test_cosine_schedule_decays_the_lr_once_per_epoch(compose_train, tmp_path):
    from kinsynth.train.run import run_training

    cfg = compose_train(
        "model=bcvae",
        "latent_dim=3",
        "model.lr_schedule=cosine",
        "trainer.max_epochs=4",
        "callbacks.evaluation.figures=false",
    )
    run_training(cfg, tmp_path)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    (scheduler,) = checkpoint["lr_schedulers"]
    (optimizer,) = checkpoint["optimizer_states"]
    # stepped once per epoch, following the cosine from 1e-3 (optimizer default) to 0 at epoch 4
    k = scheduler["last_epoch"]
    assert k >= 3
    expected = 1e-3 * 0.5 * (1 + math.cos(math.pi * k / 4))
    assert optimizer["param_groups"][0]["lr"] == pytest.approx(expected, abs=1e-9)


def test_a_batch_already_on_the_device_is_handed_over_as_it_is():
    # the data module keeps its splits on the training device: each epoch's list of batches
    # skips Lightning's generic transfer, and anything else still goes through it
    model = LatentVariableModel(["a", "b"], "y", latent_dim=2, hidden=[4])
    cpu = torch.device("cpu")
    epoch = [(torch.zeros(3, 2), torch.zeros(3, 1)), (torch.ones(2, 2), None)]
    assert model.transfer_batch_to_device(epoch, cpu, 0) is epoch
    mapping = {"x": torch.zeros(3, 2)}
    moved = model.transfer_batch_to_device(mapping, cpu, 0)
    assert moved is not mapping and torch.equal(moved["x"], mapping["x"])
    on_meta = [(torch.zeros(3, 2), None)]
    assert model.transfer_batch_to_device(on_meta, torch.device("meta"), 0)[0][0].is_meta
