"""The notebook API: kinsynth.fit on a DataFrame, save and load, kinsynth.propose a plate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import make_toy_table

import kinsynth
from kinsynth.campaign.propose import plate_columns
from kinsynth.core.errors import KinsynthError

FAST = {"trainer__max_epochs": 3, "latent_dim": 2, "logger": "csv",
        "callbacks.evaluation.baselines": False, "callbacks.evaluation.figures": False,
        "callbacks.evaluation.n_conditional": 20}


def test_fit_on_a_frame_returns_a_model_that_samples_encodes_and_round_trips(tmp_path):
    frame = make_toy_table(300)
    model = kinsynth.fit(frame, "cvae", output_dir=tmp_path / "run", **FAST)
    assert (tmp_path / "run" / "metrics.json").is_file()  # the run contract, as train.py writes it
    designs = model.sample(50, target=1.2, seed=0)
    assert list(designs.columns) == [*frame.columns[:-1], "Product_I"]
    assert (designs["Product_I"] == 1.2).all() and np.isfinite(designs.to_numpy()).all()
    mu, logvar = model.encode(frame.head(10))
    assert mu.shape == (10, 2) and logvar.shape == (10, 2)
    path = model.save(tmp_path / "cvae.ckpt")
    again = kinsynth.load(path)
    pd.testing.assert_frame_equal(again.sample(20, target=1.2, seed=3),
                                  model.sample(20, target=1.2, seed=3))
    with pytest.raises(KinsynthError, match="file exists"):
        model.save(path)


def test_fit_returns_a_small_model_not_a_lightning_module(tmp_path):
    """What a notebook user sees: a handful of names, the run's figures, the module behind it."""
    import json

    import pytorch_lightning as pl

    frame = make_toy_table(200)
    model = kinsynth.fit(frame, "cvae", output_dir=tmp_path / "run", **FAST)
    assert isinstance(model, kinsynth.Model) and isinstance(model.module, pl.LightningModule)
    public = [name for name in dir(model) if not name.startswith("_")]
    assert len(public) <= 16, public  # a LightningModule shows over a hundred
    assert model.columns == list(frame.columns[:-1]) and model.target == "Product_I"
    assert model.conditional and model.latent_dim == 2
    assert model.run_dir == tmp_path / "run"
    assert model.metrics == json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "kinsynth.Model(conditional LatentVariableModel, 5 columns" in repr(model)
    lone = kinsynth.load(model.save(tmp_path / "m.ckpt"))
    assert lone.run_dir is None and lone.metrics == {}
    assert kinsynth.load(tmp_path / "run").metrics["epochs"] == 3


def test_fit_is_the_cli_run_on_the_same_rows(tmp_path, compose_train):
    """Same seed, same settings: the API's figures are the CLI path's figures on the same table."""
    from kinsynth.train.run import run_training

    frame = make_toy_table()  # the rows of the toy_csv fixture compose_train trains on
    fitted = kinsynth.fit(frame, "ppca", output_dir=tmp_path / "api",
                          **{**FAST, "callbacks.evaluation.n_conditional": 100})
    cfg = compose_train("model=ppca", "latent_dim=2", "trainer.max_epochs=3", "logger=csv",
                        "callbacks.evaluation.figures=false", output_dir=tmp_path / "cli")
    cli = run_training(cfg, tmp_path / "cli")
    api = kinsynth.load(tmp_path / "api")
    assert fitted.latent_dim == api.latent_dim == 2
    import json

    api_metrics = json.loads((tmp_path / "api" / "metrics.json").read_text())
    assert api_metrics["recon_mse"] == pytest.approx(cli["recon_mse"], rel=1e-6)


def test_fit_names_an_unknown_setting_in_one_line():
    with pytest.raises(KinsynthError, match="trainer.max_epoch: not a setting of train.yaml"):
        kinsynth.fit(make_toy_table(50), "cvae", trainer__max_epoch=3)


def test_propose_returns_the_next_plate_as_a_frame():
    from kinsynth.api import compose
    from kinsynth.campaign.landscape import make_landscape

    cfg = compose("dbtl", {"space": {"levels": [0.5, 1, 2]}})
    space = make_landscape(cfg).space
    rng = np.random.default_rng(0)
    built = space.snap(space.sample(30, rng))
    built["Product_I"] = rng.uniform(0.5, 1.5, len(built))
    plate = kinsynth.propose(built, n=12, strategy="recommender", space={"levels": [0.5, 1, 2]},
                             pool_size=500)
    assert len(plate) == 12
    assert list(plate.columns) == [*space.columns, *plate_columns("Product_I")]
    assert plate["rank"].tolist() == list(range(1, 13))
    plate = plate[list(space.columns)]
    assert set(np.unique(plate.to_numpy())) <= {0.5, 1.0, 2.0}
    built_keys = {tuple(r) for r in built[list(space.columns)].to_numpy()}
    assert not any(tuple(r) in built_keys for r in plate.to_numpy())  # nothing built twice
