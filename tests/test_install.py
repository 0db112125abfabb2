"""The Makefile installs the CPU torch where no GPU is found (``make -n`` shows the plan)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support import REPO_ROOT

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _planned_install(tmp_path: Path, path: str) -> str:
    """What ``make`` would run to set up a fresh venv, with ``path`` as the PATH make sees."""
    venv = tmp_path / "venv"
    env = {**os.environ, "PATH": path}
    env.pop("TORCH_INDEX", None)
    result = subprocess.run(
        ["make", "-n", f"VENV={venv}", f"{venv}/.installed"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return result.stdout


@pytest.fixture
def make_path(tmp_path: Path) -> str:
    """A PATH that holds make, a shell and python but certainly no nvidia-smi."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "bash", "python3"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_no_gpu_installs_torch_from_the_cpu_index(tmp_path, make_path):
    plan = _planned_install(tmp_path, make_path)
    assert f"--index-url {CPU_INDEX}" in plan
    assert "--timeout 5 --retries 0" in plan  # an unreachable index fails fast, then the fallback


def test_a_gpu_machine_gets_the_default_index(tmp_path, make_path):
    fake = Path(make_path) / "nvidia-smi"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    plan = _planned_install(tmp_path, make_path)
    assert CPU_INDEX not in plan
    assert "torch==2.13.0" in plan
