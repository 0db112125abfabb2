"""Installing kinsynth: the Makefile installs the CPU torch where no GPU is found (``make -n``
shows the plan), and a built wheel installs into a fresh venv and trains from an empty folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from support import CONSOLE_NOISE, REPO_ROOT, build_wheel

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


@pytest.mark.slow(seconds=13)  # builds a wheel and a venv, then trains in it
def test_a_built_wheel_installs_and_trains_from_an_empty_directory(tmp_path: Path) -> None:
    """The wheel carries the configs and the console scripts; outputs/ lands in the cwd; the
    console of this first run shows progress and none of Lightning's noise."""
    import sys
    import sysconfig

    wheel = build_wheel(tmp_path)
    # Hydra instantiates launchers only from its plugin namespace: hydra/launcher=vectorized's
    assert "hydra_plugins/kinsynth_vectorized/launcher.py" in zipfile.ZipFile(wheel).namelist()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # no checkout in sight
    env.update(OMP_NUM_THREADS="1", CI="true")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True,
                   env=env)
    # then the dependencies, from this interpreter's site-packages, after the venv's own (written
    # after the install: pip would otherwise see this checkout's kinsynth as already installed)
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "empty"
    work.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import kinsynth; print(kinsynth.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(site))  # the installed wheel, not a checkout
    result = subprocess.run(
        [str(venv / "bin" / "kinsynth-train"), "model=cvae", "latent_dim=3",
         "trainer.max_epochs=1", "logger=csv", "callbacks.evaluation.baselines=false",
         "callbacks.evaluation.figures=false", "callbacks.evaluation.n_conditional=20",
         "generate.n=200"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # a user's first run, in a fresh interpreter: no noise from torch's or Lightning's imports
    console = result.stdout + result.stderr
    for noise in CONSOLE_NOISE:
        assert noise not in console, noise
    progress = [line for line in console.splitlines() if "kinsynth.progress" in line]
    assert len(progress) == 1 and "epoch 1/1" in progress[0] and "train loss" in progress[0]
    assert "evaluating on 500 test rows" in console and "test split:" in console
    (run,) = (work / "outputs" / "train" / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.4 < metrics["c2st_auc_joint"] <= 1.0
    assert (run / "checkpoints" / "last.ckpt").is_file()
