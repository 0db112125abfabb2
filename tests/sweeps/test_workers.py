"""A sweep worker knows whether the command that started it still runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kinsynth.sweeps import workers


def _ended_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(("recorded", "gone"), [
    (lambda: os.getppid(), False),  # the worker's parent: it runs
    (lambda: os.getpid(), False),  # another running process: an ancestor a launcher put between
    (_ended_pid, True),  # the command ended before the worker looked
    (lambda: "", False),  # not started by a kinsynth command: nothing recorded
])
def test_a_worker_tells_whether_its_command_still_runs(recorded, gone, monkeypatch) -> None:
    monkeypatch.setenv(workers.PARENT_VARIABLE, str(recorded()))
    assert workers._recorded_parent_gone() is gone


def test_a_command_records_its_own_pid_for_its_workers(monkeypatch) -> None:
    monkeypatch.delenv(workers.PARENT_VARIABLE, raising=False)
    workers.mark_parent()
    assert os.environ[workers.PARENT_VARIABLE] == str(os.getpid())
