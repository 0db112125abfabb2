"""Every config file under conf/ composes against its schema, and what it describes instantiates.

As the Lightning-Hydra template's tests/test_configs.py: each group member, experiment and search
is composed into the config it belongs to (train.yaml or dbtl.yaml), and the optimizer (a
partial), the model, the data module on the embedded data, the trainer, the loggers and the
callbacks are built from it. An unknown key or a wrong type is refused in one line by each
command's entry point.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from support import CONF_DIR, run_cli

from kinsynth.conf.schemas import (
    DbtlConfig,
    GenerateConfig,
    LatentModelConfig,
    PPCAModelConfig,
    SimulateConfig,
    SpaceConfig,
    TrainConfig,
)

#: the groups train.yaml composes, and dbtl.yaml's
TRAIN_GROUPS = ("data", "model", "optimizer", "trainer", "logger", "callbacks", "paths",
                "experiment", "hparams_search")
DBTL_GROUPS = ("space", "strategy")
#: the Hydra plugin each launcher config needs
LAUNCHER_PLUGINS = {"local_parallel": "hydra_plugins.hydra_joblib_launcher",
                    "slurm": "hydra_plugins.hydra_submitit_launcher",
                    "vectorized": "hydra_plugins.kinsynth_vectorized"}


def members(group: str) -> list[str]:
    """The YAML files of a config group (the schemas in the ConfigStore are no files)."""
    return sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))


def _compose(name: str, *overrides: str, hydra_node: bool = False) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(name, overrides=list(overrides), return_hydra_config=hydra_node)


def compose_train(tmp_path: Path, *overrides: str) -> DictConfig:
    return _compose("train", f"paths.output_dir={tmp_path}", *overrides)


def test_every_yaml_under_conf_is_one_of_the_composed_files() -> None:
    """A new config file is composed below without touching this test: the lists are the
    folders, and nothing lies outside them but the four primary configs."""
    top = sorted(path.stem for path in CONF_DIR.glob("*.yaml"))
    assert top == ["dbtl", "generate", "simulate", "train"]
    groups = {path.parent.relative_to(CONF_DIR).as_posix() for path in CONF_DIR.rglob("*.yaml")}
    assert groups - {"."} == {*TRAIN_GROUPS, *DBTL_GROUPS, "hydra", "hydra/launcher"}


@pytest.mark.parametrize("name,schema", [("train", TrainConfig), ("dbtl", DbtlConfig),
                                         ("generate", GenerateConfig),
                                         ("simulate", SimulateConfig)])
def test_each_command_config_is_typed_by_its_schema(name: str, schema: type) -> None:
    cfg = _compose(name)
    assert OmegaConf.get_type(cfg) is schema
    # the YAML gives every value the schema leaves "???" (generate.py's run= is the user's)
    assert _missing(OmegaConf.to_container(cfg, resolve=False)) == (
        ["run"] if name == "generate" else [])


def _missing(node: object, key: str = "") -> list[str]:
    if isinstance(node, dict):
        return [k for name, v in node.items() for k in _missing(v, f"{key}.{name}".lstrip("."))]
    return [key] if node == "???" else []


@pytest.mark.parametrize("group,member", [(g, m) for g in TRAIN_GROUPS for m in members(g)])
def test_every_train_group_member_composes_and_instantiates(
    tmp_path: Path, group: str, member: str
) -> None:
    cfg = compose_train(tmp_path, f"{group}={member}")
    if group == "hparams_search":  # the sweeper lives in the Hydra node
        with_hydra = _compose("train", f"paths.output_dir={tmp_path}", f"{group}={member}",
                              hydra_node=True)
        assert with_hydra.hydra.sweeper.params
    _instantiate_training(cfg, tmp_path, trainer=group != "trainer" or member == "default")
    if group == "trainer" and member != "default":
        accelerator = cfg.trainer.accelerator
        if accelerator == "gpu" and not torch.cuda.is_available():
            pytest.skip(f"trainer={member} needs a GPU; composed, not instantiated")
        trainer = instantiate(cfg.trainer, logger=False, enable_progress_bar=False)
        assert trainer.max_epochs == cfg.trainer.max_epochs


def _instantiate_training(cfg: DictConfig, tmp_path: Path, trainer: bool = True) -> None:
    """Build what train.py builds from ``cfg`` (as kinsynth.train.run does), without fitting."""
    from kinsynth.train.run import build_model

    optimizer = instantiate(cfg.optimizer)
    assert isinstance(optimizer, functools.partial)
    assert isinstance(optimizer([torch.nn.Parameter(torch.zeros(1))]), torch.optim.Optimizer)
    data_cfg = OmegaConf.merge(cfg.data, {"path": None})  # the embedded data set
    datamodule = instantiate(data_cfg, device="cpu", _convert_="all")
    datamodule.setup("fit")
    assert len(datamodule.features) == 19 and datamodule.target == "Product_I"
    model = build_model(cfg, datamodule.features, datamodule.target)
    assert model.latent_dim == cfg.latent_dim
    assert type(model).__name__ == cfg.model._target_.rsplit(".", 1)[1]
    schema = OmegaConf.get_type(cfg.model)
    assert schema is (LatentModelConfig if model.has_network else PPCAModelConfig)
    if model.has_network:  # the nested network node reaches the constructor
        assert list(model.hparams.hidden) == list(cfg.model.network.hidden)
        assert model.hparams.likelihood == cfg.model.network.likelihood
    for node in (cfg.get("logger") or {}).values():
        assert instantiate(node) is not None
    callbacks = [instantiate(node) for node in cfg.callbacks.values()]
    assert [type(c).__name__ for c in callbacks] == ["ModelCheckpoint", "EvaluationCallback"]
    if trainer:
        built = instantiate(cfg.trainer, logger=False, enable_progress_bar=False)
        assert built.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("group,member", [(g, m) for g in DBTL_GROUPS for m in members(g)])
def test_every_dbtl_group_member_composes_and_builds(group: str, member: str) -> None:
    import numpy as np

    from kinsynth.campaign.landscape import make_landscape
    from kinsynth.campaign.strategies import strategy_class

    cfg = _compose("dbtl", f"{group}={member}")
    assert OmegaConf.get_type(cfg.space) is SpaceConfig
    landscape = make_landscape(cfg)
    space = landscape.space
    assert len(space.sample(3, np.random.default_rng(0))) == 3
    strategy = strategy_class(cfg.strategy.name)
    options = {k: v for k, v in OmegaConf.to_container(cfg.strategy).items() if k != "name"}
    built = strategy(space, landscape.target, seed=0, options=options)
    assert isinstance(built.options, strategy.Options)  # its typed options parse


@pytest.mark.parametrize("launcher", members("hydra/launcher"))
def test_every_launcher_composes_where_its_plugin_is_installed(launcher: str) -> None:
    if importlib.util.find_spec(LAUNCHER_PLUGINS[launcher]) is None:
        pytest.skip(f"{LAUNCHER_PLUGINS[launcher]} is not installed")
    cfg = _compose("train", f"hydra/launcher={launcher}", hydra_node=True)
    assert cfg.hydra.launcher._target_.startswith("hydra_plugins.")


def test_the_network_node_is_unused_by_ppca_and_the_checkpoint_keeps_its_format(
    tmp_path: Path,
) -> None:
    """experiment=thesis sets one network for every model of its sweep; PPCA takes none, and a
    latent model stores the network settings as its own hyperparameters, as checkpoints saved
    before the nested node did (tests/models/test_saved_checkpoints.py loads those)."""
    from kinsynth.train.run import build_model

    features = [f"x{i}" for i in range(5)]
    ppca = build_model(compose_train(tmp_path, "experiment=thesis", "model=ppca",
                                     "latent_dim=2"), features, "y")
    assert "hidden" not in ppca.hparams and "network" not in ppca.hparams
    cvae = build_model(compose_train(tmp_path, "experiment=thesis", "model=cvae",
                                     "latent_dim=2"), features, "y")
    assert {k: cvae.hparams[k] for k in ("hidden", "activation", "likelihood",
                                         "output_activation")} == {
        "hidden": [15], "activation": "relu", "likelihood": "fixed", "output_activation": "relu"}
    assert "network" not in cvae.hparams and "optimizer" not in cvae.hparams


@pytest.mark.parametrize("script,args,expected", [
    ("train.py", ["latent_dimm=3"], "error: latent_dimm: Key 'latent_dimm' not in 'TrainConfig'"),
    ("train.py", ["model.network.hiden=[8]"],
     "error: model.network.hiden: Key 'hiden' not in 'NetworkConfig'"),
    ("train.py", ["data.batch_size=abc"],
     "error: data.batch_size=abc: Value 'abc' of type 'str' could not be converted to Integer"),
    ("generate.py", ["run=x", "chunk_sise=5"],
     "error: chunk_sise: Key 'chunk_sise' not in 'GenerateConfig'"),
    ("generate.py", ["run=x", "n=abc"],
     "error: n=abc: Value 'abc' of type 'str' could not be converted to Integer"),
    ("dbtl.py", ["space.levls=[1,2]"], "error: space.levls: Key 'levls' not in 'SpaceConfig'"),
    ("dbtl.py", ["cycles=two"],
     "error: cycles=two: Value 'two' of type 'str' could not be converted to Integer"),
    ("scripts/simulate.py", ["nn=5"], "error: nn: Key 'nn' not in 'SimulateConfig'"),
    ("train.py", ["model=vea"],
     "error: In 'train': Could not find 'model/vea' (options: bcvae, cppca, cvae, ppca, vae)"),
])
def test_an_unknown_key_or_a_wrong_type_is_one_line(tmp_path: Path, script: str, args: list[str],
                                                     expected: str) -> None:
    result = run_cli(script, *args, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path,
                     check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and lines == [expected], result.stderr
    assert not (tmp_path / "run").exists()  # refused before any run directory is made
