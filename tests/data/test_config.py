"""The Hydra config group conf/data instantiates the data module."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from kinsynth.data import KineticDataModule

CONF = Path(__file__).resolve().parents[2] / "conf"


def test_default_yaml_instantiates(kinetic_csv: Path) -> None:
    cfg = OmegaConf.create({"seed": 7, "data": OmegaConf.load(CONF / "data/default.yaml")})
    assert cfg.data.path is None and cfg.data.target == "Product_I"
    dm = instantiate(cfg.data, path=str(kinetic_csv))
    assert isinstance(dm, KineticDataModule)
    assert dm.seed == 7 and dm.batch_size == 256 and dm.transform_kind == "quantile"
    assert dm.split == (0.8, 0.1, 0.1) and dm.n_quantiles == 1000


def test_thesis_reference_extends_default() -> None:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(overrides=["+data=thesis_reference", "+seed=0"])
    assert cfg.data._target_ == "kinsynth.data.KineticDataModule"
    assert cfg.data.batch_size == 256
    raw = OmegaConf.to_container(cfg.data, resolve=False)
    assert raw["path"] == "${hydra:runtime.cwd}/../shared/data/pathway_I_5000.csv"
