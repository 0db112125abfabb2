"""Sweep worker processes end with the sweep that started them.

joblib's loky workers run a job to its end even when their parent is gone (a killed sweep left
workers holding 1.2 GB for over half an hour). A job running in a child process therefore asks to
die with its parent, twice over:

- on Linux, the kernel sends the worker SIGKILL when its parent ends (``PR_SET_PDEATHSIG``). This
  needs no Python code to run in the worker, so it holds however busy or stuck the worker is;
- everywhere, a daemon thread watches the parent: once the parent dies (the worker is
  re-parented), the worker exits.

A worker may start its job after its parent has already died (the job's lock and log come before
the job function); the command's process therefore records its pid in the environment its
workers inherit (:func:`mark_parent`), and a worker whose recorded parent is gone exits at once.

The run directory's lock dies with the worker; ``resume=`` or a rerun with ``skip_finished=true``
continues the sweep.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
#: the pid of the kinsynth command whose workers inherit it
PARENT_VARIABLE = "KINSYNTH_SWEEP_PARENT"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_watching = False


def _kill_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent ends; True when it took."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def mark_parent() -> None:
    """In a command's own process: let the workers it starts know who started them."""
    os.environ[PARENT_VARIABLE] = str(os.getpid())


def _recorded_parent_gone() -> bool:
    """The command that started this worker has ended (its pid, recorded before the worker was
    started, no longer runs). A recorded pid that is not the worker's parent but still runs is
    an ancestor: a launcher put a process between them."""
    recorded = os.environ.get(PARENT_VARIABLE, "")
    if not recorded.isdigit() or int(recorded) == os.getppid():
        return False
    pid = int(recorded)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed parent nobody has reaped yet is a zombie: ended all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except (OSError, IndexError):
        return False


def end_with_parent() -> bool:
    """In a child worker process, exit when the parent dies; True when a watch was started.

    Idempotent (one watch per process) and a no-op in the main process: a sweep run from a
    shell must not end when that shell does.
    """
    global _watching
    if _watching or multiprocessing.parent_process() is None:
        return False
    parent = os.getppid()
    _kill_with_parent()
    if os.getppid() != parent or _recorded_parent_gone():  # it ended before the watch began
        log.error("the sweep's parent process ended before this job began; this worker exits")
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(POLL_SECONDS)
            if os.getppid() != parent:
                log.error("the sweep's parent process %d ended; this worker exits", parent)
                os._exit(1)

    threading.Thread(target=watch, name="kinsynth-parent-watch", daemon=True).start()
    _watching = True
    return True
