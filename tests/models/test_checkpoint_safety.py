"""A checkpoint never runs code: crafted files are refused in one line on every load path.

Each crafted checkpoint carries a ``__reduce__`` payload that would create a marker file if it
were ever unpickled; every test asserts the marker does not exist afterwards.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from support import FAST_CVAE, run_cli

from kinsynth.core.errors import KinsynthError
from kinsynth.models import load

FAST = FAST_CVAE


class Payload:
    """Creates ``marker`` when unpickled: the attack a checkpoint must never carry out."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, toy_csv: Path) -> Path:
    run = tmp_path_factory.mktemp("safety") / "run"
    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST)
    return run


def _craft(trained: Path, tmp_path: Path, how: str) -> tuple[Path, Path]:
    """A copy of the trained run whose last.ckpt is crafted ``how``; returns (run, marker)."""
    marker = tmp_path / f"marker-{how}"
    run = tmp_path / f"run-{how}"
    shutil.copytree(trained, run)
    path = run / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(path, weights_only=True)
    if how == "old_format_pickled_transform":
        checkpoint["kinsynth"] = {"class": "kinsynth.models.latent.LatentVariableModel",
                                  "transform": pickle.dumps(Payload(marker))}
    elif how == "object_in_hyperparameters":
        checkpoint["hyper_parameters"]["hidden"] = Payload(marker)
    elif how == "pickle_bytes_in_a_field":
        checkpoint["callbacks"]["extra"] = pickle.dumps(Payload(marker))
    elif how == "foreign_model_class":
        checkpoint["kinsynth"]["class"] = "os.system"
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
        return run, marker
    torch.save(checkpoint, path)
    return run, marker


KINDS = ["old_format_pickled_transform", "object_in_hyperparameters", "pickle_bytes_in_a_field",
         "foreign_model_class", "truncated"]


@pytest.mark.parametrize("how", KINDS)
def test_kinsynth_load_refuses_a_crafted_checkpoint(trained, tmp_path, how):
    run, marker = _craft(trained, tmp_path, how)
    with pytest.raises(KinsynthError) as caught:
        load(run)
    assert not marker.exists()
    message = str(caught.value)
    assert "\n" not in message and "last.ckpt" in message
    if how == "old_format_pickled_transform":
        assert "retrain" in message
    if how == "foreign_model_class":
        assert "'os.system' is not one of kinsynth's models" in message


def _one_line_error(result) -> str:
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("how", ["old_format_pickled_transform", "object_in_hyperparameters"])
def test_generate_refuses_a_crafted_checkpoint(trained, tmp_path, how):
    run, marker = _craft(trained, tmp_path, how)
    out = tmp_path / "designs.csv"
    result = run_cli("generate.py", f"run={run}", "n=5", f"out={out}", cwd=tmp_path, check=False)
    assert _one_line_error(result).startswith("error: ")
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize("how", ["old_format_pickled_transform", "pickle_bytes_in_a_field",
                                 "truncated"])
def test_resume_refuses_a_crafted_or_truncated_checkpoint(trained, tmp_path, toy_csv, how):
    run, marker = _craft(trained, tmp_path, how)
    before = (run / "metrics.json").read_text()
    result = run_cli("train.py", f"data.path={toy_csv}", f"resume={run}", *FAST[:1],
                     "trainer.max_epochs=3", *FAST[2:], check=False)
    last = _one_line_error(result)
    assert last.startswith("error: ") and "last.ckpt" in last
    assert not marker.exists()
    assert (run / "metrics.json").read_text() == before


def test_a_new_checkpoint_holds_only_plain_data(trained):
    checkpoint = torch.load(trained / "checkpoints" / "last.ckpt", weights_only=True)
    section = checkpoint["kinsynth"]
    assert section["class"] == "LatentVariableModel" and section["format"] == 2
    assert section["transform"]["kind"] == "quantile"
    assert all(isinstance(q, torch.Tensor) for q in section["transform"]["quantiles"])


@pytest.mark.parametrize("model", ["ppca", "vae"])
def test_plain_data_checkpoint_round_trips_to_the_same_samples(compose_train, tmp_path, model):
    import pandas as pd

    from kinsynth.train.run import run_training

    run_training(compose_train(f"model={model}", "latent_dim=2", "trainer.max_epochs=2",
                               "callbacks.evaluation.figures=false"), tmp_path)
    written = pd.read_csv(tmp_path / "synthetic.csv")
    loaded = load(tmp_path)
    pd.testing.assert_frame_equal(loaded.sample(len(written), seed=0), written, check_exact=False,
                                  rtol=1e-5)  # synthetic.csv holds 6 significant digits
