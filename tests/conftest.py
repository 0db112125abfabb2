"""Shared fixtures: a small kinetic-like table with known structure, and Hydra composition."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support import CONF_DIR, make_toy_table


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` tests first: with one worker per core, a long end-to-end test that starts last
    keeps one core busy after the other has run out of work (fresh clones: the last sixth of the
    suite took 2.5 of its 5 minutes). The sort is stable, so file order holds within each part."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
