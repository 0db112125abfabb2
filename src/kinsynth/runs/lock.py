"""Who may write into a run directory: one process at a time, and never over a finished run.

The lock is an OS file lock (``fcntl.flock``) on ``.kinsynth.lock`` in the run directory. The
kernel releases it when its process ends, however it ends (even ``kill -9``), so a killed run never
leaves a stale lock behind, while a second ``train.py`` into a busy directory is refused at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from pathlib import Path

from kinsynth.core.errors import KinsynthError
from kinsynth.runs.contract import LOCK, RUN_OUTPUTS, holds_a_run, is_finished

log = logging.getLogger(__name__)


class RunDirectoryRefused(KinsynthError):
    """The directory belongs to another run: nothing may be written into it (not even error.txt)."""


class RunDirectoryLock:
    """An exclusive lock on a run directory for as long as this object is open."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK
        directory.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = None
            detach_log_files(directory)
            raise RunDirectoryRefused(
                f"{directory}: another kinsynth process is writing to this run directory; "
                "wait for it to finish or choose another hydra.run.dir"
            ) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunDirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(directory: Path) -> bool:
    """Whether another process holds ``directory``'s lock now (probed, never created)."""
    try:
        fd = os.open(Path(directory) / LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing the descriptor also drops a lock the probe took
    return False


def detach_log_files(directory: Path) -> None:
    """Close the log files a refused process holds in another run's directory.

    Hydra opens the job's log (``train.log``, ``dbtl.log``) in the run directory before the task
    starts; the refusal must not append its ERROR line to the running job's log.
    """
    inside = Path(directory).resolve()
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in list(getattr(logger, "handlers", [])):
            if isinstance(handler, logging.FileHandler) and \
                    inside in Path(handler.baseFilename).resolve().parents:
                logger.removeHandler(handler)
                handler.close()


def check_fresh_start(directory: Path, overwrite: bool) -> None:
    """A new (not resumed) run may only start in a directory holding no other run's outputs.

    ``overwrite=true`` is the user saying the old run may go: its outputs are removed first, so no
    stale checkpoint or figure mixes with the new run's.
    """
    if not holds_a_run(directory):
        return
    if not overwrite:
        what = "a finished run" if is_finished(directory) else "an interrupted run's checkpoints"
        raise RunDirectoryRefused(
            f"{directory}: already holds {what}; pass resume={directory} to continue it, "
            "overwrite=true to replace it, or choose another hydra.run.dir"
        )
    for name in RUN_OUTPUTS:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    log.warning("overwrite=true: removed the earlier run's outputs from %s", directory)
