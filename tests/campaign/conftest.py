"""Campaign test fixtures: dbtl.yaml composed as ``python dbtl.py`` would, and a lab table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf
from support import CONF_DIR

from kinsynth.campaign.space import DesignSpace
from kinsynth.simulate.model import ModelSpec, load_model


@pytest.fixture(scope="session")
def pathway() -> ModelSpec:
    """The embedded pathway model (its 19 columns and ranges)."""
    return load_model()


@pytest.fixture
def compose_dbtl(tmp_path: Path) -> Callable[..., DictConfig]:
    """conf/dbtl.yaml with ``overrides``, the pool cached under ``tmp_path``, no Hydra node."""
    from hydra import compose, initialize_config_dir

    from kinsynth.conf.schemas import register_configs

    register_configs()

    def _compose(*overrides: str) -> DictConfig:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("dbtl", overrides=list(overrides))
        plain = OmegaConf.to_container(cfg, resolve=False)
        assert isinstance(plain, dict)
        plain["pool"]["cache_dir"] = str(tmp_path / "pool_cache")
        plain.pop("hydra", None)
        return OmegaConf.create(plain)

    return _compose


@pytest.fixture
def lab_table(pathway: ModelSpec) -> Callable[..., pd.DataFrame]:
    """``n`` built strains drawn inside the space, with a measured flux (the first 5 empty)."""

    def _table(n: int = 40, seed: int = 3) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        table = DesignSpace.from_spec(pathway).sample(n, rng)
        table["Product_I"] = rng.uniform(0.2, 1.5, n)
        table.loc[: min(4, n - 1), "Product_I"] = np.nan  # strains that did not produce
        return table

    return _table
