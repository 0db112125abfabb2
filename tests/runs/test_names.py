"""Runs a person can tell apart: directory names, TensorBoard versions, and the HParams columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import hydra_parses, run_cli

from kinsynth.runs import names
from kinsynth.runs.names import HEADLINE_METRICS, job_dir_name, ordered_metrics, safe_name


def test_job_folders_are_named_after_their_overrides():
    assert job_dir_name("latent_dim=3,model=cvae", 3) == "3_latent_dim-3_model-cvae"
    assert job_dir_name("", 0) == "0"
    assert job_dir_name("callbacks.evaluation.baselines=False,latent_dim=5,model=vae", 2) == \
        "2_latent_dim-5_model-vae"  # how a job is evaluated is not what it is
    long = safe_name("data.path=/a/b/" + "x" * 300)
    assert "/" not in long and len(long) <= 120
    assert safe_name("a=" + "x" * 300) != safe_name("a=" + "x" * 299 + "y")  # stays distinct
    # a long list value is hashed, so the key that sorts after it still names the job
    columns = ",".join(f"vmax_forward_Enz_{c}" for c in "ABCDEF")
    name = job_dir_name(f"seed=0,space.levels=[0.5,1,2],space.vary=[{columns}],strategy=random", 6)
    assert name.startswith("6_seed-0_space.levels-0.5-1-2_space.vary-hash-")
    assert name.endswith("_strategy-random") and len(name) <= 120
    other = job_dir_name(f"seed=0,space.levels=[0.5,1,2],space.vary=[{columns},x],strategy=random",
                         6)
    assert other != name


@pytest.mark.parametrize("overrides", [
    "experiment=thesis,latent_dim=3,model=cvae",
    "model.hidden=[64,64],seed=1",
    "space.levels=[0.5,1,2],space.vary=[" + ",".join(f"vmax_forward_Enz_{c}" for c in "ABCDEF")
    + "],strategy=random",
])
def test_a_printed_job_folder_can_be_pasted_into_run_and_resume(overrides: str) -> None:
    folder = f"outputs/train/multirun/2026-12-02_00-25-17/{job_dir_name(overrides, 14)}"
    for key in ("run", "resume"):
        assert hydra_parses(f"{key}={folder}"), folder


def test_a_run_directory_is_named_to_the_second_with_a_suffix_only_on_collision(tmp_path):
    path = str(tmp_path / "runs" / "2026-11-28_17-17-25")
    assert names.claim_fresh_dir(path) == path
    assert names.claim_fresh_dir(path) == path  # the same config resolved twice: same directory
    names._CLAIMED.clear()  # as another process starting in the same second
    assert names.claim_fresh_dir(path) == path + "-2"


def test_metrics_are_ordered_headline_first_and_bookkeeping_last():
    results = {"n_train": 1, "wasserstein": 0.1, "kl": 2.0, "fit_seconds": 3.0,
               "c2st_auc_joint": 0.6, "hit_rate": 0.4, "alpha": 0.0}
    assert list(ordered_metrics(results)) == [
        "c2st_auc_joint", "hit_rate", "kl", "alpha", "wasserstein", "fit_seconds", "n_train"
    ]
    assert HEADLINE_METRICS[0] == "c2st_auc_joint"


def _hparams(event_dir: Path) -> tuple[dict[str, object], list[str]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(event_dir))
    events.Reload()
    content = events.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    values = {k: v.string_value or v.number_value
              for k, v in start.session_start_info.hparams.items()}
    # no experiment summary: TensorBoard builds the table from every run's session, settings
    # that differ first (one run's summary would list them by name for all runs)
    assert "_hparams_/experiment" not in content
    metrics = [t for t in events.Tags()["scalars"] if t.startswith("final/")]
    return values, metrics


def test_a_single_run_is_named_and_logs_the_composed_settings(toy_csv, tmp_path):
    run_cli("train.py", "model=cvae", "latent_dim=3", f"data.path={toy_csv}",
            "trainer.max_epochs=3", "callbacks.evaluation.figures=false",
            "callbacks.evaluation.baselines=false", cwd=tmp_path)
    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", run.name)  # no microseconds
    (version,) = (run / "tensorboard").iterdir()
    assert version.name == "cvae,latent_dim=3,data.path=toy.csv,trainer.max_epochs=3"
    values, metrics = _hparams(version)
    for key in ("model", "latent_dim", "optimizer.lr", "optimizer.weight_decay", "data.transform",
                "data.batch_size", "data.path", "trainer.max_epochs", "seed"):
        assert key in values, key
    assert values["model"] == "cvae" and values["latent_dim"] == 3
    assert values["data.path"].endswith("toy.csv")
    # the headline figures only: each is a one-point chart in Scalars too (metrics.json has all)
    assert {"final/c2st_auc_joint", "final/cond_spearman", "final/recon_mse"} <= set(metrics)
    assert set(metrics) <= {f"final/{k}" for k in HEADLINE_METRICS}


def test_sweep_jobs_are_named_after_their_overrides_and_summarised(toy_csv, tmp_path):
    sweep = tmp_path / "sweep"
    # PPCA with latent_dim=9 on the toy table's 6 columns fails: the summary must say so
    result = run_cli("train.py", "-m", "model=ppca", "latent_dim=2,9", f"data.path={toy_csv}",
                     "trainer.max_epochs=2", "callbacks.evaluation.figures=false",
                     "callbacks.evaluation.baselines=false", f"hydra.sweep.dir={sweep}",
                     cwd=tmp_path)
    names = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert [n.split("_")[0] for n in names] == ["0", "1"]
    assert "latent_dim-2_model-ppca" in names[0] and "latent_dim-9_model-ppca" in names[1]
    assert "data.path" not in names[0]  # where the data lives is no part of a job's name
    console = result.stdout + result.stderr
    table = console[console.index("job  overrides"):].splitlines()
    assert table[1].split()[:2] == ["0", "latent_dim=2"] and table[1].endswith("ok")
    assert table[2].split()[:2] == ["1", "latent_dim=9"] and "FAILED: " in table[2]
