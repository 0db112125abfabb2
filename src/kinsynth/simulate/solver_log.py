"""The ODE solver's own messages, counted instead of printed.

libroadrunner's CVODE (SUNDIALS) prints ``[ERROR]`` and ``[WARNING]`` lines for every draw it
cannot integrate, straight from C to the terminal: 200 such lines for a space without a steady
state, and inside every job of an Optuna sweep. libroadrunner's own logger does not reach them;
SUNDIALS reads where to write them from ``SUNLOGGER_*_FILENAME`` when a solver is created. Each
process points them at a private file before its first model is compiled, and the runner turns
what was written into one count on kinsynth's console (the failed draws already say why they
failed in their ``reason``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import tempfile
from dataclasses import dataclass

#: the SUNDIALS streams sent to the private file (info and debug are off in release builds)
_STREAMS = ("SUNLOGGER_ERROR_FILENAME", "SUNLOGGER_WARNING_FILENAME",
            "SUNLOGGER_INFO_FILENAME", "SUNLOGGER_DEBUG_FILENAME")


@dataclass
class SolverMessages:
    """Counts of the solver's lines since the last look."""

    errors: int = 0
    warnings: int = 0

    def __add__(self, other: SolverMessages) -> SolverMessages:
        return SolverMessages(self.errors + other.errors, self.warnings + other.warnings)

    def __bool__(self) -> bool:
        return bool(self.errors or self.warnings)


#: the folder of the files, inherited by worker processes: the process that made it removes it
#: at exit with its workers' files (a pool's workers end without running atexit handlers)
_FOLDER = "KINSYNTH_SOLVER_LOG_DIR"
_FILE: dict[int, tuple[str, list[int]]] = {}  # pid -> (path, [bytes already counted])


def route_solver_log() -> None:
    """Send this process's solver messages to its own file (idempotent; a forked worker gets a
    file of its own, as the parent's would be written by two processes)."""
    pid = os.getpid()
    if pid in _FILE:
        return
    folder = os.environ.get(_FOLDER)
    # an inherited folder this process cannot write (its parent ran as another user): its own
    if not folder or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        folder = tempfile.mkdtemp(prefix="kinsynth-solver-")
        os.environ[_FOLDER] = folder
        atexit.register(shutil.rmtree, folder, True)
    handle, path = tempfile.mkstemp(dir=folder, suffix=".log")
    os.close(handle)
    for name in _STREAMS:
        os.environ[name] = path
    _FILE[pid] = (path, [0])


def _flush_c_streams() -> None:
    """SUNDIALS writes through C's buffered stdio: flush it before the file is read."""
    # without a C library to call, a count may miss the last lines
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def take_solver_messages() -> SolverMessages:
    """The ``[ERROR]`` and ``[WARNING]`` lines written since the last call in this process."""
    entry = _FILE.get(os.getpid())
    if entry is None:
        return SolverMessages()
    path, seen = entry
    _flush_c_streams()
    try:
        with open(path, "rb") as file:
            file.seek(seen[0])
            new = file.read()
    except OSError:
        return SolverMessages()
    seen[0] += len(new)
    lines = new.splitlines()
    return SolverMessages(sum(line.startswith(b"[ERROR]") for line in lines),
                          sum(line.startswith(b"[WARNING]") for line in lines))
