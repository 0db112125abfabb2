"""Who may write into a run directory: one process at a time, and never over a finished run.

The lock is an OS file lock (``fcntl.flock``) on ``.kinsynth.lock`` in the run directory. The
kernel releases it when its process ends, however it ends (even ``kill -9``), so a killed run never
leaves a stale lock behind, while a second ``train.py`` into a busy directory is refused at once.

A command started by Hydra takes the lock before Hydra writes the run's ``.hydra`` record
(:func:`lock_for_command`, called by the ``output_subdir`` resolver): two commands started together
into one directory never both write their config there. The run itself then adopts that lock.

Nothing is written through a link or into a special file: the lock file is opened without
following links, and every name a run writes (``kinsynth.runs.contract.WRITTEN``) is checked to be
a regular file or folder before the run writes anything.
"""

from __future__ import annotations

import fcntl
import fnmatch
import logging
import os
from pathlib import Path

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import link_or_special, open_regular, overwrite_flag
from kinsynth.runs.contract import LOCK, OWN_FILES, RUN_OUTPUTS, WRITTEN, holds_a_run, is_finished

log = logging.getLogger(__name__)


class RunDirectoryRefused(KinsynthError):
    """The directory belongs to another run: nothing may be written into it (not even error.txt)."""


#: locks this process took for the Hydra command now running, by directory, until its run adopts
#: them; a refusal is kept instead, so that the run says it in one line
_FOR_COMMAND: dict[str, RunDirectoryLock | RunDirectoryRefused] = {}


def _key(directory: Path) -> str:
    return os.path.realpath(directory)


class RunDirectoryLock:
    """An exclusive lock on a run directory for as long as this object is open.

    A lock this process took for its command (:func:`lock_for_command`) is adopted, not taken
    twice (``flock`` refuses a second descriptor even in the same process).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK
        taken = _FOR_COMMAND.pop(_key(self.directory), None)
        if isinstance(taken, RunDirectoryRefused):
            detach_log_files(self.directory)
            raise taken
        if taken is not None:
            self._fd: int | None = taken._fd
            taken._fd = None
            return
        self._fd = None
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
        except KinsynthError as error:
            detach_log_files(self.directory)
            raise RunDirectoryRefused(f"{error}; this run directory is not kinsynth's to "
                                      "write: choose another hydra.run.dir") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            detach_log_files(self.directory)
            raise RunDirectoryRefused(
                f"{self.directory}: another kinsynth process is writing to this run directory; "
                "wait for it to finish or choose another hydra.run.dir"
            ) from None
        self._fd = fd
        try:
            check_written_names(self.directory)
        except RunDirectoryRefused:
            self.release()
            detach_log_files(self.directory)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunDirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_for_command(directory: Path) -> bool:
    """Take ``directory``'s lock now, for the command about to run there; False when refused.

    Called before Hydra writes anything of the job's but its log (which is opened without
    following links, see ``kinsynth.core.writing.NoLinkFileHandler``). The refusal is kept and
    raised, in one line, when the run asks for the lock.
    """
    key = _key(directory)
    if isinstance(_FOR_COMMAND.get(key), RunDirectoryLock):
        return True
    release_command_locks()  # the job before this one (a sequential sweep) ended
    try:
        _FOR_COMMAND[key] = RunDirectoryLock(Path(directory))
    except RunDirectoryRefused as refused:
        _FOR_COMMAND[key] = refused
        return False
    return True


def release_command_locks() -> None:
    """Release the locks taken for a command whose run never adopted them (it failed early)."""
    for key in list(_FOR_COMMAND):
        taken = _FOR_COMMAND.pop(key)
        if isinstance(taken, RunDirectoryLock):
            taken.release()


def check_written_names(directory: Path) -> None:
    """Refuse a run directory in which a name the run writes is a link or a special file.

    Checked while the lock is held and before anything is written, so the outside file a link
    points at, or a FIFO a write would block on, is never touched.
    """
    directory = Path(directory)
    for pattern in WRITTEN:
        for path in sorted(directory.glob(pattern)) if "*" in pattern else [directory / pattern]:
            _refuse(path)
            if path.is_dir() and not path.is_symlink():
                for root, folders, files in os.walk(path):
                    for name in [*folders, *files]:
                        _refuse(Path(root) / name)


def _refuse(path: Path) -> None:
    kind = link_or_special(path)
    if kind is not None:
        raise RunDirectoryRefused(
            f"'{path}': is {kind}; kinsynth never writes through a link or into a special file "
            "and this run would write there: remove it or choose another hydra.run.dir"
        )


def is_locked(directory: Path) -> bool:
    """Whether another process holds ``directory``'s lock now (probed, never created)."""
    try:
        fd = os.open(Path(directory) / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
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
    named = logging.Logger.manager.loggerDict.values()  # PlaceHolders hold no handlers
    for logger in [logging.getLogger(), *(n for n in named if isinstance(n, logging.Logger))]:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.FileHandler) and \
                    inside in Path(handler.baseFilename).resolve().parents:
                logger.removeHandler(handler)
                handler.close()


def check_fresh_start(directory: Path, overwrite: object) -> None:
    """A new (not resumed) run may only start in a directory holding no other run's outputs.

    ``overwrite=true`` is the user saying the old run may go: its outputs are removed first, so no
    stale checkpoint or figure mixes with the new run's. Only what a run writes goes
    (``kinsynth.runs.contract.OWN_FILES``); any other file there, or a link, refuses the
    overwrite before anything is removed, so nothing is ever left half-removed.
    """
    overwrite = overwrite_flag(overwrite)  # "false" as a string must not delete a run
    if not holds_a_run(directory):
        return
    if not overwrite:
        what = "a finished run" if is_finished(directory) else "an interrupted run's checkpoints"
        raise RunDirectoryRefused(
            f"{directory}: already holds {what}; pass resume={directory} to continue it, "
            "overwrite=true to replace it, or choose another hydra.run.dir"
        )
    files, folders = run_outputs(Path(directory))
    for path in files:
        path.unlink()
    for folder in folders:  # deepest first: each is empty once its own files are gone
        folder.rmdir()
    log.warning("overwrite=true: removed the earlier run's outputs from %s", directory)


def run_outputs(directory: Path) -> tuple[list[Path], list[Path]]:
    """The files and folders a run wrote in ``directory`` (folders deepest first).

    Raises, before anything is removed, on a link, a special file, or a file no run writes.
    """
    files: list[Path] = []
    folders: list[Path] = []
    for name in RUN_OUTPUTS:
        top = directory / name
        _refuse(top)
        if not top.exists():
            continue
        if not top.is_dir():
            files.append(top)
            continue
        patterns = OWN_FILES.get(name, ())
        for root, subfolders, names in os.walk(top):
            folders.append(Path(root))
            for entry in [*subfolders, *names]:
                _refuse(Path(root) / entry)
            for entry in names:
                if not any(fnmatch.fnmatchcase(entry, p) for p in patterns):
                    raise RunDirectoryRefused(
                        f"'{Path(root) / entry}': no kinsynth run writes this file; "
                        "overwrite=true removes only a run's own outputs and removed nothing: "
                        "move it away or choose another hydra.run.dir"
                    )
                files.append(Path(root) / entry)
    folders.sort(key=lambda p: len(p.parts), reverse=True)
    return files, folders
