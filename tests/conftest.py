"""Shared fixtures: a small kinetic-like table with known structure, and Hydra composition."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_CSV = REPO_ROOT.parent / "shared" / "data" / "pathway_I_5000.csv"
CONF_DIR = REPO_ROOT / "conf"

# one thread per test process: the machine is small and shared
os.environ.setdefault("OMP_NUM_THREADS", "1")


def make_toy_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Uniform fold changes and a saturating, multiplicative flux, like a small pathway."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(n, 5))
    flux = x[:, 0] / (0.5 + x[:, 0]) * x[:, 1] ** 0.5 / (1.0 + 0.5 * x[:, 2])
    flux *= np.exp(rng.normal(0, 0.03, size=n))
    frame = pd.DataFrame(x, columns=[f"vmax_forward_Enz_{c}" for c in "ABCDE"])
    frame["Product_I"] = flux / np.median(flux)
    frame.index = np.arange(2, n + 2)
    return frame


@pytest.fixture(scope="session")
def toy_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "toy.csv"
    make_toy_table().to_csv(path)
    return path


@pytest.fixture
def compose_train(tmp_path: Path, toy_csv: Path) -> Callable[..., object]:
    """Compose conf/train.yaml like ``python train.py`` would, writing into ``tmp_path``."""
    from hydra import compose, initialize_config_dir

    def _compose(*overrides: str, output_dir: Path | None = None) -> object:
        out = output_dir or tmp_path
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(
                "train",
                overrides=[
                    f"data.path={toy_csv}",
                    f"paths.output_dir={out}",
                    "progress_bar=false",
                    "callbacks.evaluation.baselines=false",
                    "callbacks.evaluation.n_conditional=100",
                    *overrides,
                ],
            )

    return _compose


def run_cli(*args: str, cwd: Path = REPO_ROOT, check: bool = True) -> subprocess.CompletedProcess:
    """Run an entry point the way a user does, in a subprocess."""
    script = args[0]
    if script.endswith(".py") and not Path(script).is_absolute():
        args = (str(REPO_ROOT / script), *args[1:])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CI": "true", "HYDRA_FULL_ERROR": "0"}
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def needs_reference() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not REFERENCE_CSV.is_file(), reason=f"reference data set {REFERENCE_CSV} is absent"
    )
