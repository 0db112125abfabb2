"""Shared fixtures: a small kinetic-like table with known structure, and Hydra composition."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import CONF_DIR, make_toy_table

# the evaluation's baseline cache goes to a folder of this test session, never the user's
# ~/.cache; set before the xdist workers start, so they share it (its files are written atomically)
os.environ.setdefault("KINSYNTH_CACHE_DIR", tempfile.mkdtemp(prefix="kinsynth-test-cache-"))


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


@pytest.fixture(autouse=True)
def one_compute_thread() -> Iterator[None]:
    """Each test leaves one compute thread per worker, as it found it: generate.py's default is
    every core (``kinsynth.core.threads.use_threads``), and a later test's gradient boosting
    on two OpenMP threads beside the other worker runs many times slower."""
    yield
    import torch

    if torch.get_num_threads() != 1:
        from kinsynth.core.threads import use_threads

        use_threads(1)


def expected_seconds(item: pytest.Item) -> float | None:
    """How long a ``slow`` test takes (``@pytest.mark.slow(seconds=...)``, measured on 2 cores
    under ``make test``; 0 when not given), or None for a test that is not slow."""
    marker = item.get_closest_marker("slow")
    return None if marker is None else float(marker.kwargs.get("seconds", 0))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` tests first, the longest first; then the rest in file order.

    With one worker per core, a long test that starts late keeps one core busy after the other
    has run out of work: worksteal cannot take a running test. Longest first, the last tests are
    short ones on either worker (in file order, the 35 s reference run started at 150 s of a
    200 s suite and the other core idled for its last 20 s). The sort is stable.
    """
    def order(item: pytest.Item) -> tuple[bool, float]:
        seconds = expected_seconds(item)
        return (seconds is None, -(seconds or 0.0))

    items.sort(key=order)
