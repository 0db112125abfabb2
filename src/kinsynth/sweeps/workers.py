"""Sweep worker processes end with the sweep that started them.

joblib's loky workers run a job to its end even when their parent is gone (a killed sweep left
workers holding 1.2 GB for over half an hour). A job running in a child process therefore starts a
daemon thread that watches the parent: once the parent dies (the worker is re-parented), the
worker exits at once. The run directory's lock dies with it; ``resume=`` or a rerun with
``skip_finished=true`` continues the sweep.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
_watching = False


def end_with_parent() -> bool:
    """In a child worker process, exit when the parent dies; True when a watch was started.

    Idempotent (one watcher per process) and a no-op in the main process: a sweep run from a
    shell must not end when that shell does.
    """
    global _watching
    if _watching or multiprocessing.parent_process() is None:
        return False
    parent = os.getppid()

    def watch() -> None:
        while True:
            threading.Event().wait(POLL_SECONDS)
            if os.getppid() != parent:
                log.error("the sweep's parent process %d ended; this worker exits", parent)
                os._exit(1)

    threading.Thread(target=watch, name="kinsynth-parent-watch", daemon=True).start()
    _watching = True
    return True
