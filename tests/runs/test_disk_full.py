"""A full disk: one line naming the file, exit 1, and nothing incomplete under a final name.

The write error is injected (``OSError(ENOSPC)`` after part of the file is written), so the tests
run anywhere; a real full filesystem behaves the same way at the same calls.
"""

from __future__ import annotations

import errno
import io
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.cli.guard import guarded
from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import ChunkWriter
from kinsynth.evaluate import figures
from kinsynth.runs.contract import is_finished, write_marker
from kinsynth.runs.lock import check_fresh_start
from kinsynth.sweeps.jobs import read_job
from kinsynth.train.checks import finished_job_metrics
from kinsynth.train.run import run_training

FULL = OSError(errno.ENOSPC, "No space left on device")


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def test_a_full_disk_at_the_final_checkpoint_leaves_no_truncated_last_ckpt(
    compose_train, tmp_path, monkeypatch
):
    real_save = torch.save

    def half_then_full(obj, target, *args, **kwargs):
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        if isinstance(target, io.IOBase):
            target.write(buffer.getvalue()[:100])
        else:
            with open(target, "wb") as file:
                file.write(buffer.getvalue()[:100])
        raise FULL

    monkeypatch.setattr(torch, "save", half_then_full)
    cfg = compose_train("model=cvae", "trainer.max_epochs=2", "callbacks.evaluation.figures=false",
                        "logger=csv")
    with pytest.raises(KinsynthError, match="no space left") as full:
        run_training(cfg, tmp_path)
    assert "last.ckpt" in str(full.value)
    assert not (tmp_path / "checkpoints" / "last.ckpt").exists()
    assert not (tmp_path / "metrics.json").exists() and not _leftovers(tmp_path)


def test_a_full_disk_leaves_no_metrics_json(tmp_path, monkeypatch):
    def part_then_full(content, file, **kwargs):
        file.write('{"recon')
        raise FULL

    monkeypatch.setattr(json, "dump", part_then_full)
    with pytest.raises(KinsynthError, match="no space left") as full:
        write_marker(tmp_path / "metrics.json", {"recon_mse": 0.1})
    assert str(tmp_path / "metrics.json") in str(full.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer", ["pyarrow", "pandas"])
def test_a_full_disk_leaves_no_partial_csv_and_keeps_the_earlier_file(
    tmp_path, monkeypatch, writer
):
    out = tmp_path / "designs.csv"
    out.write_text("a\n1\n")
    calls = []
    if writer == "pyarrow":
        pytest.importorskip("pyarrow")
        real_append = ChunkWriter._append

        def second_chunk_full(self, text):
            calls.append(text)
            real_append(self, text[: len(text) // 2] if len(calls) == 2 else text)
            if len(calls) == 2:
                raise FULL

        monkeypatch.setattr(ChunkWriter, "_append", second_chunk_full)
    else:
        from kinsynth.core import fast_csv

        monkeypatch.setattr(fast_csv, "available", lambda: False)  # a machine without pyarrow
        real_to_csv = pd.DataFrame.to_csv

        def second_chunk_full(self, path, *args, **kwargs):
            calls.append(path)
            if len(calls) == 2:
                raise FULL
            return real_to_csv(self, path, *args, **kwargs)

        monkeypatch.setattr(pd.DataFrame, "to_csv", second_chunk_full)
    chunk = pd.DataFrame({"a": np.arange(3.0)})
    with pytest.raises(KinsynthError, match="no space left") as full, ChunkWriter(
        out, overwrite=True
    ) as writer:
        writer.write(chunk)
        writer.write(chunk)
    assert str(out) in str(full.value)
    assert out.read_text() == "a\n1\n" and not _leftovers(tmp_path)


def test_a_full_disk_leaves_no_partial_figure(tmp_path, monkeypatch):
    fig = plt.figure()

    def part_then_full(self, target, **kwargs):
        with open(target, "wb") as file:
            file.write(b"\x89PNG")
        raise FULL

    monkeypatch.setattr(type(fig), "savefig", part_then_full)
    with pytest.raises(KinsynthError, match="no space left"):
        figures.save(fig, str(tmp_path / "pca_overlay.png"))
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_anywhere_is_one_line_and_exit_1(capsys):
    @guarded
    def task() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/tensorboard/events")

    with pytest.raises(SystemExit) as stopped:
        task()
    assert stopped.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no space left" in err and "/runs/x/tensorboard/events" in err


@pytest.mark.parametrize("content", ["", '{"recon_mse": 0.', "[1, 2]", "\x00\x00"])
def test_an_empty_or_unreadable_metrics_json_is_an_unfinished_run(
    compose_train, tmp_path, content
):
    (tmp_path / "metrics.json").write_text(content)
    assert not is_finished(tmp_path)
    cfg = compose_train("skip_finished=true")
    assert finished_job_metrics(cfg, tmp_path) is None  # skip_finished does not crash on it
    check_fresh_start(tmp_path, overwrite=False)  # a new run into it is not refused as finished


def test_the_sweep_table_reads_an_empty_metrics_json_as_unfinished(compose_train, tmp_path):
    from omegaconf import OmegaConf

    (tmp_path / ".hydra").mkdir()
    OmegaConf.save(compose_train(), tmp_path / ".hydra" / "config.yaml")
    (tmp_path / "metrics.json").write_text("")
    job = read_job(tmp_path)
    assert not job.ok and "no metrics.json" in job.error


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 256 KiB tmpfs (a real full disk), where this process may mount one; else skip."""
    import shutil
    import subprocess

    mount = tmp_path / "full"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the injected-error tests above cover this")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_real_full_tmpfs_keeps_the_earlier_checkpoint_and_csv(tiny_tmpfs):
    from kinsynth.models.checkpoints import atomic_checkpoint_io

    last = tiny_tmpfs / "checkpoints" / "last.ckpt"
    io_ = atomic_checkpoint_io()
    io_.save_checkpoint({"state_dict": {"w": torch.zeros(10)}}, last)
    before = last.read_bytes()
    with pytest.raises(KinsynthError, match="no space left") as full:
        io_.save_checkpoint({"state_dict": {"w": torch.zeros(200_000)}}, last)  # 800 kB
    assert str(last) in str(full.value)
    assert last.read_bytes() == before and not _leftovers(tiny_tmpfs)

    out = tiny_tmpfs / "designs.csv"
    with pytest.raises(KinsynthError, match="no space left"), ChunkWriter(out) as writer:
        writer.write(pd.DataFrame(np.random.default_rng(0).uniform(size=(20_000, 5))))
    assert not out.exists() and not _leftovers(tiny_tmpfs)
