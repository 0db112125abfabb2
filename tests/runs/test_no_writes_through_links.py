"""Nothing is written, appended or truncated through a link or into a special file.

Every name a run directory holds is replaced, one at a time, by a link to a file outside the run
and by a FIFO; a command into that directory must leave the outside file as it was, say one line
and return (a FIFO would block a plain ``open`` for ever: each command runs under an alarm).
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from support import FAST_CVAE, run_cli

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import open_regular
from kinsynth.runs.contract import LOCK
from kinsynth.runs.lock import (
    RunDirectoryLock,
    RunDirectoryRefused,
    check_fresh_start,
    lock_for_command,
    release_command_locks,
)

OUTSIDE = "a user's thesis\n"

#: every file a training run directory holds (extend with a campaign's: cycles.csv, built.csv)
TRAIN_RUN_FILES = (
    LOCK,
    "train.log",
    "metrics.json",
    "synthetic.csv",
    "checkpoints/last.ckpt",
    ".hydra/config.yaml",
    ".hydra/hydra.yaml",
    ".hydra/overrides.yaml",
    "csv/metrics.csv",
    "csv/hparams.yaml",
    "error.txt",
)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail the test instead of hanging: SIGALRM interrupts a blocked ``open``."""
    def _hung(*_: object) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _replace(path: Path, how: str, outside: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "link":
        path.symlink_to(outside)
    elif how == "dangling":
        path.symlink_to(outside.parent / "missing" / "target")
    else:
        os.mkfifo(path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, toy_csv: Path) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST_CVAE)
    (run / "error.txt").write_text("an earlier attempt failed\n")
    return run


@pytest.mark.slow(seconds=20)
@pytest.mark.parametrize("how", ["link", "fifo"])
@pytest.mark.parametrize("name", TRAIN_RUN_FILES)
def test_a_run_never_writes_through_a_link_or_into_a_fifo(
        finished: Path, tmp_path: Path, toy_csv: Path, name: str, how: str):
    run = tmp_path / "run"
    shutil.copytree(finished, run, symlinks=True)
    outside = tmp_path / "thesis.tex"
    outside.write_text(OUTSIDE)
    _replace(run / name, how, outside)
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    with within(60):
        result = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST_CVAE,
                         "overwrite=true", check=False)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert name.split("/")[-1] in line or name.split("/")[0] in line, line
    assert "link" in line or "FIFO" in line, line
    assert outside.read_text() == OUTSIDE
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # nothing removed


#: every file a campaign directory holds
CAMPAIGN_RUN_FILES = (
    LOCK,
    "dbtl.log",
    "campaign.json",
    "cycles.csv",
    "built.csv",
    "campaign_state.npz",
    "flux_per_cycle.png",
    ".hydra/config.yaml",
)
CAMPAIGN_ARGS = ("strategy=random", "initial_designs=6", "cycles=1", "designs_per_cycle=4",
                 "pool.n=200")


@pytest.fixture(scope="module")
def finished_campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("campaign")
    run_cli("dbtl.py", *CAMPAIGN_ARGS, f"pool.cache_dir={root / 'pool'}",
            f"hydra.run.dir={root / 'run'}", cwd=root)
    return root / "run"


@pytest.mark.parametrize("how", ["link", "fifo"])
@pytest.mark.parametrize("name", CAMPAIGN_RUN_FILES)
def test_a_campaign_never_writes_through_a_link_or_into_a_fifo(
        finished_campaign: Path, tmp_path: Path, name: str, how: str):
    run = tmp_path / "run"
    shutil.copytree(finished_campaign, run, symlinks=True)
    outside = tmp_path / "thesis.tex"
    outside.write_text(OUTSIDE)
    _replace(run / name, how, outside)
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    for extra in ("overwrite=true", f"resume={run}"):
        with within(60):
            result = run_cli("dbtl.py", *CAMPAIGN_ARGS, "cycles=2", extra,
                             f"pool.cache_dir={finished_campaign.parent / 'pool'}",
                             f"hydra.run.dir={run}", cwd=tmp_path, check=False)
        assert result.returncode == 1, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        line = result.stderr.strip().splitlines()[-1]
        assert name.split("/")[-1] in line and ("link" in line or "FIFO" in line), line
        assert outside.read_text() == OUTSIDE
        assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # nothing removed


@pytest.mark.parametrize("how", ["link", "dangling", "fifo"])
def test_the_lock_never_opens_a_link_or_a_special_file(tmp_path: Path, how: str):
    run = tmp_path / "run"
    run.mkdir()
    outside = tmp_path / "thesis.tex"
    outside.write_text(OUTSIDE)
    _replace(run / LOCK, how, outside)
    with within(10), pytest.raises(RunDirectoryRefused) as refused:
        RunDirectoryLock(run)
    assert str(refused.value).startswith(f"'{run / LOCK}': is ")
    assert "\n" not in str(refused.value)
    assert outside.read_text() == OUTSIDE
    assert not (tmp_path / "missing").exists()  # a dangling link's target is never created


def test_the_lock_refuses_a_link_among_the_names_a_run_writes(tmp_path: Path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (run / "checkpoints" / "last.ckpt").symlink_to(outside / "model.ckpt")
    with pytest.raises(RunDirectoryRefused, match="last.ckpt': is a symbolic link"):
        RunDirectoryLock(run)
    RunDirectoryLock(tmp_path / "other").release()  # a refusal leaves no lock held


def test_open_regular_refuses_a_fifo_without_blocking(tmp_path: Path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with within(5), pytest.raises(KinsynthError, match="FIFO"):
        open_regular(fifo, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with within(5), pytest.raises(KinsynthError, match="FIFO"):
        open_regular(fifo, os.O_RDWR | os.O_CREAT)


def test_a_command_lock_is_adopted_by_its_run_and_refuses_another(tmp_path: Path):
    run = tmp_path / "run"
    assert lock_for_command(run)
    try:
        lock = RunDirectoryLock(run)  # the run adopts the command's lock
        lock.release()
        assert lock_for_command(run)
    finally:
        release_command_locks()
    with RunDirectoryLock(run):  # another holder: the command is refused, its run says why
        assert not lock_for_command(run)
        with pytest.raises(RunDirectoryRefused, match="another kinsynth process"):
            RunDirectoryLock(run)


def _finished_run(run: Path) -> None:
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"weights")
    (run / "csv").mkdir()
    (run / "csv" / "metrics.csv").write_text("epoch\n0\n")
    (run / "tensorboard" / "cvae").mkdir(parents=True)
    (run / "tensorboard" / "cvae" / "events.out.tfevents.1.host.2.0").write_bytes(b"e")
    (run / "metrics.json").write_text('{"kl": 1.0}')
    (run / "synthetic.csv").write_text("a\n1\n")


def test_overwrite_removes_only_what_a_run_wrote(tmp_path: Path):
    run = tmp_path / "P"
    _finished_run(run)
    (run / "csv" / "raw_measurements.csv").write_text("the user's data\n")
    with pytest.raises(RunDirectoryRefused, match="raw_measurements.csv': no kinsynth run"):
        check_fresh_start(run, True)
    assert (run / "csv" / "raw_measurements.csv").read_text() == "the user's data\n"
    assert (run / "metrics.json").exists() and (run / "checkpoints" / "last.ckpt").exists()

    (run / "csv" / "raw_measurements.csv").unlink()
    check_fresh_start(run, "true")
    assert sorted(p.name for p in run.iterdir()) == []


def test_overwrite_refuses_a_linked_folder_before_removing_anything(tmp_path: Path):
    run = tmp_path / "run"
    _finished_run(run)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run / "checkpoints", elsewhere)
    (run / "checkpoints").symlink_to(elsewhere)
    with pytest.raises(RunDirectoryRefused, match="checkpoints': is a symbolic link"):
        check_fresh_start(run, True)
    assert (run / "metrics.json").exists() and (run / "synthetic.csv").exists()
    assert (elsewhere / "last.ckpt").read_bytes() == b"weights"


@pytest.mark.parametrize("value", ["false", "False", False, None])
def test_overwrite_false_as_text_never_removes_a_run(tmp_path: Path, value: object):
    _finished_run(tmp_path)
    with pytest.raises(RunDirectoryRefused, match="already holds a finished run"):
        check_fresh_start(tmp_path, value)
    assert (tmp_path / "metrics.json").exists()


def test_overwrite_of_another_value_is_one_line(tmp_path: Path):
    _finished_run(tmp_path)
    with pytest.raises(KinsynthError, match=r"^overwrite='yes': expected true or false$"):
        check_fresh_start(tmp_path, "yes")
    assert (tmp_path / "metrics.json").exists()


@pytest.mark.slow(seconds=25)
def test_a_command_started_beside_a_running_one_writes_nothing_there(
        tmp_path: Path, toy_csv: Path, monkeypatch: pytest.MonkeyPatch):
    """The second command starts while the first is between Hydra's record of its config and
    its training: the lock, taken before that record, refuses it and it writes no config."""
    import kinsynth.train.run as training

    run = tmp_path / "run"
    real = training.run_training
    seen: dict[str, object] = {}

    def with_a_second_command(cfg, output_dir, frame=None, sweeping=False):
        seen["second"] = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}",
                                 *FAST_CVAE, "latent_dim=3", check=False, subprocess_=True)
        seen["config"] = (run / ".hydra" / "config.yaml").read_text()
        return real(cfg, output_dir, frame, sweeping=sweeping)

    monkeypatch.setattr(training, "run_training", with_a_second_command)
    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST_CVAE,
            "latent_dim=7")
    second = seen["second"]
    assert second.returncode == 1, second.stderr[-2000:]
    assert "another kinsynth process is writing to this run directory" in second.stderr
    assert "latent_dim: 7" in seen["config"]
    assert "latent_dim: 7" in (run / ".hydra" / "config.yaml").read_text()
    assert sorted(p.name for p in (run / ".hydra").iterdir()) == [
        "config.yaml", "hydra.yaml", "overrides.yaml"]


@pytest.mark.parametrize("how", ["link", "fifo"])
def test_a_proposed_plate_is_never_written_through_a_link(tmp_path: Path, how: str):
    """``dbtl.py step=propose out=<link> overwrite=true``: the plate replaces the link, or the
    FIFO is refused; the file the link points at is untouched."""
    import numpy as np
    from support import compose_dbtl

    from kinsynth.campaign import propose_from_table
    from kinsynth.campaign.space import DesignSpace
    from kinsynth.simulate.model import load_model

    rng = np.random.default_rng(3)
    built = DesignSpace.from_spec(load_model()).sample(30, rng)
    built["Product_I"] = rng.uniform(0.2, 1.5, 30)
    built.to_csv(tmp_path / "lab.csv", index=False)
    outside = tmp_path / "thesis.tex"
    outside.write_text(OUTSIDE)
    plate = tmp_path / "plate.csv"
    _replace(plate, how, outside)
    cfg = compose_dbtl(tmp_path, "step=propose", "strategy=random",
                       f"data.path={tmp_path / 'lab.csv'}", "designs_per_cycle=6", f"out={plate}",
                       "overwrite=true")
    with within(30):
        if how == "fifo":
            with pytest.raises(KinsynthError, match="is a FIFO"):
                propose_from_table(cfg)
        else:
            assert len(propose_from_table(cfg)) == 6
            assert not plate.is_symlink() and len(pd.read_csv(plate)) == 6
    assert outside.read_text() == OUTSIDE
