"""Where a notebook's results go and how they look in TensorBoard: kinsynth.fit prints its run
directory and headline figures, and names its TensorBoard run after the model."""

from __future__ import annotations

import re

from support import make_toy_table

import kinsynth

FAST = {"trainer__max_epochs": 3, "latent_dim": 2,
        "callbacks.evaluation.baselines": False, "callbacks.evaluation.figures": False,
        "callbacks.evaluation.n_conditional": 20}


def test_fit_prints_its_run_directory_and_figures_and_names_the_run_by_model(tmp_path, capsys):
    kinsynth.fit(make_toy_table(200), "cvae", output_dir=tmp_path / "run", **FAST)
    printed = capsys.readouterr().out
    assert f"run directory {tmp_path / 'run'}" in printed
    assert re.search(r"test split: c2st_auc_joint=\d", printed)
    (version,) = (tmp_path / "run" / "tensorboard").iterdir()
    assert version.name == "cvae,trainer.max_epochs=3,latent_dim=2"  # not latentvariablemodel
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(version)).Reload()
    content = events.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["model"].string_value == "cvae"
    assert hparams["trainer.max_epochs"].number_value == 3

