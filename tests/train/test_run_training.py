"""In-process training runs on a small table: every model config, the run contract, reliability."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.models import LatentVariableModel, NonFiniteLossError, load
from kinsynth.train.run import run_training

FAST = ("trainer.max_epochs=3", "callbacks.evaluation.figures=false")


@pytest.mark.parametrize("model", ["vae", "cvae", "bcvae", "ppca", "cppca"])
def test_every_model_config_trains_and_writes_the_run_contract(compose_train, tmp_path, model):
    cfg = compose_train(f"model={model}", "latent_dim=3", *FAST)
    metrics = run_training(cfg, tmp_path)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert isinstance(on_disk.pop("warnings"), list)  # when figures cannot be trusted
    assert on_disk == pytest.approx(metrics, nan_ok=True)
    for key in ("recon_mse", "kl", "fit_seconds", "wasserstein", "c2st_auc"):
        assert np.isfinite(metrics[key]), key
    assert metrics["kl"] >= 0 and metrics["recon_mse"] > 0
    synth = pd.read_csv(tmp_path / "synthetic.csv")
    assert len(synth) == 600
    assert list(synth.columns) == [f"vmax_forward_Enz_{c}" for c in "ABCDE"] + ["Product_I"]
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    # one version folder per run, named after the model (kinsynth.runs.names)
    assert list((tmp_path / "tensorboard").glob("*/events.out.tfevents.*"))
    if model in ("cvae", "bcvae", "cppca"):
        assert 0 <= metrics["hit_rate"] <= 1 and "oracle_r2" in metrics


@pytest.mark.parametrize("model", ["ppca", "vae", "cvae"])
def test_thesis_experiment_composes_and_trains(compose_train, tmp_path, model):
    cfg = compose_train("experiment=thesis", f"model={model}", "latent_dim=3", *FAST)
    assert cfg.data.transform == "none" and cfg.data.batch_size == 64
    run_training(cfg, tmp_path)
    synth = pd.read_csv(tmp_path / "synthetic.csv")
    columns = [f"vmax_forward_Enz_{c}" for c in "ABCDE"]
    assert list(synth.columns) == (columns + ["Product_I"] if model == "cvae" else columns)
    if model != "ppca":
        loaded = load(tmp_path)
        assert loaded.hparams.hidden == [15] and loaded.output_relu
        assert (synth[columns] >= 0).all().all()


def test_same_seed_same_numbers(compose_train, tmp_path):
    results = []
    for name in ("a", "b"):
        out = tmp_path / name
        cfg = compose_train("model=cvae", *FAST, output_dir=out)
        metrics = run_training(cfg, out)
        # wall-clock timings are the only figures allowed to differ between identical runs
        metrics = {k: v for k, v in metrics.items() if not k.endswith("_seconds")}
        results.append((metrics, pd.read_csv(out / "synthetic.csv")))
    assert results[0][0] == pytest.approx(results[1][0], nan_ok=True)
    pd.testing.assert_frame_equal(results[0][1], results[1][1])


def test_training_skips_the_nan_fill_of_fresh_memory_and_no_number_moves(
    compose_train, tmp_path, monkeypatch
):
    import contextlib

    import pytorch_lightning as pl

    import kinsynth.train.run as run

    seen: list[tuple[bool, bool]] = []
    fit = pl.Trainer.fit

    def observed_fit(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        settings = torch.utils.deterministic.fill_uninitialized_memory
        seen.append((settings, torch.are_deterministic_algorithms_enabled()))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(pl.Trainer, "fit", observed_fit)
    results = []
    for name in ("unfilled", "filled"):
        out = tmp_path / name
        metrics = run_training(compose_train("model=vae", *FAST, output_dir=out), out)
        weights = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
        results.append(({k: v for k, v in metrics.items() if not k.endswith("_seconds")},
                        weights, (out / "synthetic.csv").read_bytes()))
        # the setting is the caller's again once the run ends
        assert torch.utils.deterministic.fill_uninitialized_memory is True
        monkeypatch.setattr(run, "fresh_memory_unfilled", contextlib.nullcontext)
    # deterministic algorithms either way; only the fill differs, and no figure depends on it
    assert seen == [(False, True), (True, True)]
    assert results[0][0] == pytest.approx(results[1][0], nan_ok=True, rel=0, abs=0)
    assert results[0][1].keys() == results[1][1].keys()
    assert all(torch.equal(results[0][1][k], results[1][1][k]) for k in results[0][1])
    assert results[0][2] == results[1][2]


def test_conditional_samples_move_with_the_requested_target(compose_train, tmp_path):
    cfg = compose_train(
        "model=cvae", "trainer.max_epochs=60", "latent_dim=2", "callbacks.evaluation.figures=false"
    )
    run_training(cfg, tmp_path)
    model = load(tmp_path)
    low = model.sample(3000, target=0.6, seed=0)
    high = model.sample(3000, target=1.4, seed=0)
    # the toy flux rises with Enz_A and Enz_B and falls with Enz_C
    assert high["vmax_forward_Enz_A"].mean() > low["vmax_forward_Enz_A"].mean() + 0.1
    assert high["vmax_forward_Enz_B"].mean() > low["vmax_forward_Enz_B"].mean() + 0.1
    assert high["vmax_forward_Enz_C"].mean() < low["vmax_forward_Enz_C"].mean()


def test_non_finite_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(
    compose_train, tmp_path, monkeypatch
):
    original = LatentVariableModel.elbo

    def diverging(self, *args, **kwargs):
        terms = original(self, *args, **kwargs)
        if self.current_epoch >= 2:
            return type(terms)(loss=terms.loss * float("nan"), recon=terms.recon, kl=terms.kl)
        return terms

    monkeypatch.setattr(LatentVariableModel, "elbo", diverging)
    cfg = compose_train("model=vae", "trainer.max_epochs=6",
                        "callbacks.model_checkpoint.every_n_epochs=1",
                        "trainer.check_val_every_n_epoch=1")
    with pytest.raises(NonFiniteLossError, match="epoch 2.*last good checkpoint is kept"):
        run_training(cfg, tmp_path)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["epoch"] == 1
    assert all(
        torch.isfinite(v).all() for v in checkpoint["state_dict"].values() if v.is_floating_point()
    )


def test_divergence_before_any_checkpoint_says_none_was_written(
    compose_train, tmp_path, monkeypatch
):
    original = LatentVariableModel.elbo

    def diverging(self, *args, **kwargs):
        terms = original(self, *args, **kwargs)
        return type(terms)(loss=terms.loss * float("nan"), recon=terms.recon, kl=terms.kl)

    monkeypatch.setattr(LatentVariableModel, "elbo", diverging)
    with pytest.raises(NonFiniteLossError, match="no checkpoint was written") as caught:
        run_training(compose_train("model=vae", "trainer.max_epochs=6"), tmp_path)
    assert "is kept" not in str(caught.value)
    assert not list((tmp_path / "checkpoints").glob("*.ckpt"))


def test_resume_continues_the_same_run_to_the_planned_last_epoch(compose_train, tmp_path):
    run_training(compose_train("model=cvae", "trainer.max_epochs=3", *FAST[1:]), tmp_path)
    first = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["epoch"] == 3  # written after the last epoch: 3 epochs done
    cfg = compose_train("model=cvae", "trainer.max_epochs=7", f"resume={tmp_path}", *FAST[1:])
    metrics = run_training(cfg, tmp_path)
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 7 and metrics["epochs"] == 7
    assert first["global_step"] == 3 and last["global_step"] == 7  # one Lightning step per epoch


def test_resume_without_a_checkpoint_is_a_clear_error(compose_train, tmp_path):
    cfg = compose_train("model=cvae", f"resume={tmp_path / 'nowhere'}")
    with pytest.raises(KinsynthError, match="last.ckpt"):
        run_training(cfg, tmp_path / "nowhere")


def test_unknown_model_option_names_the_key(compose_train, tmp_path):
    from kinsynth.cli.guard import user_error

    with pytest.raises(Exception) as refused:  # the schema (conf/schemas.py), as it composes
        compose_train("model=ppca", "model.widht=3")
    assert user_error(refused.value) == "model.widht: Key 'widht' not in 'PPCAModelConfig'"
    cfg = compose_train("model=ppca", "+model.widht=3")  # Hydra's + adds it past the schema
    with pytest.raises(Exception) as refused:
        run_training(cfg, tmp_path)
    line = user_error(refused.value)
    assert line is not None and line.startswith("model: ") and "'widht'" in line, line


def test_loaded_model_round_trips(compose_train, tmp_path: Path):
    run_training(compose_train("model=cvae", *FAST), tmp_path)
    model = load(tmp_path)
    assert model.conditional and model.transform is not None
    # the run directory's model is the one its synthetic.csv came from
    written = pd.read_csv(tmp_path / "synthetic.csv")
    pd.testing.assert_frame_equal(model.sample(len(written), seed=0), written, check_exact=False)
    designs = model.sample(10, target=1.2, seed=0)
    assert (designs["Product_I"] == 1.2).all() and designs.notna().all().all()


def test_tensorboard_gets_scalars_hparams_and_figures(compose_train, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = compose_train("model=cvae", "trainer.max_epochs=3", "trainer.check_val_every_n_epoch=1")
    run_training(cfg, tmp_path)
    (version,) = (tmp_path / "tensorboard").iterdir()
    events = EventAccumulator(str(version), size_guidance={"images": 0}).Reload()
    tags = events.Tags()
    expected = {"train/loss", "train/recon", "train/kl", "train/beta", "val/loss"}
    assert expected <= set(tags["scalars"])
    assert {"evaluation/pca_overlay", "evaluation/explained_variance",
            "evaluation/histograms"} <= set(tags["images"])
    assert len(events.Scalars("train/loss")) == 3
    # the step axis counts epochs: no duplicate `epoch` chart opens the Scalars tab; the final
    # figures must stay scalar events, which is where TensorBoard's HParams tab reads metrics
    assert "epoch" not in tags["scalars"]
    assert any(t.startswith("final/") for t in tags["scalars"])
    for name in ("pca_overlay", "explained_variance", "histograms"):
        assert (tmp_path / "figures" / f"{name}.png").is_file()


def test_csv_logger_records_epochs_and_final_metrics(compose_train, tmp_path):
    run_training(compose_train("model=vae", "logger=csv", *FAST), tmp_path)
    logged = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    assert logged["train/loss"].notna().sum() == 3
    assert logged["final/recon_mse"].notna().sum() == 1


def test_objective_is_none_with_a_warning_when_the_metric_is_absent(caplog):
    from kinsynth.train.run import objective

    assert objective({"c2st_auc": 0.6}, "c2st_auc") == 0.6
    assert objective({"c2st_auc": 0.6, "x": float("nan")}, "x") is None
    assert objective({"c2st_auc": 0.6}, "c2st_auc_joint") is None
    assert "optimized_metric=c2st_auc_joint is not in metrics.json" in caplog.text


def test_validation_frequency_does_not_change_the_trained_model(compose_train, tmp_path):
    weights = []
    for every in (1, 2):
        out = tmp_path / f"val{every}"
        cfg = compose_train("model=cvae", *FAST, f"trainer.check_val_every_n_epoch={every}",
                            output_dir=out)
        run_training(cfg, out)
        weights.append(torch.load(out / "checkpoints" / "last.ckpt", weights_only=True))
    for key, value in weights[0]["state_dict"].items():
        assert torch.equal(value, weights[1]["state_dict"][key]), key


def test_summary_line_shows_the_headline_figures():
    from kinsynth.train.run import summary_line

    line = summary_line({"c2st_auc_joint": 0.5123, "hit_rate": 0.6, "mmd": 0.01})
    assert line == "test split: c2st_auc_joint=0.512, hit_rate=0.6"
    assert summary_line({}) == "no metrics written"


def test_best_experiments_compose_to_the_documented_settings(compose_train):
    best = compose_train("experiment=best")
    embedded = compose_train("experiment=best_embedded")
    assert best.latent_dim == 18 and embedded.latent_dim == 11
    for cfg in (best, embedded):
        assert cfg.model.conditional and cfg.model.beta == 0.6
        assert list(cfg.model.network.hidden) == [256, 256]
        assert cfg.model.network.activation == "silu"
        assert cfg.data.transform == "quantile" and cfg.trainer.max_epochs == 300


def test_the_run_writes_its_contract_files_without_the_evaluation_callback(compose_train,
                                                                          tmp_path):
    """last.ckpt and metrics.json are the run's files: a config without the evaluation callback
    still gets both, the marker holding what the run knows (its epochs)."""
    import json

    from kinsynth.train.run import run_training

    cfg = compose_train("model=vae", "trainer.max_epochs=2", "~callbacks.evaluation")
    assert "evaluation" not in cfg.callbacks
    metrics = run_training(cfg, tmp_path)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert metrics == {"epochs": 2}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"epochs": 2, "warnings": []}
    assert not (tmp_path / "synthetic.csv").exists()  # no evaluation, no evaluation files
