"""The Python API for notebooks: fit a model on a DataFrame, propose the next plate from one.

Both compose the packaged Hydra configs exactly as the console scripts do and run the same code
(``kinsynth.train.run.run_training``, ``kinsynth.campaign.propose.propose_plate``); the frame goes
to the data module as it is, never through a temporary file.

Overrides are the command line's ``key=value`` settings as keyword arguments; a dot in a key is
written ``__`` (``trainer__max_epochs=50``), or pass a dict: ``**{"trainer.max_epochs": 50}``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from kinsynth.core.errors import KinsynthError

if TYPE_CHECKING:
    import pandas as pd

    from kinsynth.fitted import Model

CONF_DIR = Path(__file__).resolve().parent / "conf"


def config_groups() -> frozenset[str]:
    """The config groups (conf/'s folders but Hydra's own): a string value chooses a member
    (``model="cvae"``), as on the command line."""
    return frozenset(path.name for path in CONF_DIR.iterdir()
                     if path.is_dir() and path.name != "hydra" and path.name[0] not in "_.")


def compose(config_name: str, settings: dict[str, Any]) -> DictConfig:
    """The packaged config ``config_name`` with ``settings`` applied (groups first).

    A key the config lacks, or a value of the wrong type, is one line (the schemas in
    conf/schemas.py say which keys and types each config holds).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf.errors import OmegaConfBaseException

    from kinsynth.conf.schemas import register_configs

    register_configs()
    groups = config_groups()
    settings = {key.replace("__", "."): value for key, value in settings.items()}
    choices = [f"{k}={v}" for k, v in settings.items() if k in groups and isinstance(v, str)]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name, overrides=choices)
    for key, value in settings.items():
        if key in groups and isinstance(value, str):
            continue
        if OmegaConf.select(cfg, key, default="\0missing") == "\0missing":
            raise KinsynthError(f"{key}: not a setting of {config_name}.yaml")
        try:
            OmegaConf.update(cfg, key, value, merge=isinstance(value, dict))
        except OmegaConfBaseException as error:
            what = str(error).splitlines()[0]
            raise KinsynthError(f"{key}={value!r}: {what}") from None
    return cfg


def check_group_choices(settings: dict[str, Any]) -> None:
    """A config group's choice (``model="cvae"``) must name one of its packaged files: Hydra's
    own refusal is a many-line ``MissingConfigException``."""
    for key, value in settings.items():
        group = key.replace("__", ".")
        if group not in config_groups() or isinstance(value, dict):
            continue
        available = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
        if not isinstance(value, str) or value not in available:
            raise KinsynthError(f"{group}={value!r}: expected one of {', '.join(available)}")


def fit(
    frame: pd.DataFrame,
    model: str = "bcvae",
    *,
    target: str | None = "Product_I",
    output_dir: str | Path | None = None,
    **overrides: Any,
) -> Model:
    """Train ``model`` (vae, cvae, bcvae, ppca, cppca) on ``frame``; returns the trained model
    (a :class:`kinsynth.Model`: ``sample``, ``encode``, ``metrics``, ``run_dir``, ...).

    The run is evaluated and written as ``train.py`` writes one (metrics.json, checkpoints, ...)
    into ``output_dir`` (default: ``outputs/fit/<time>`` in the working directory), and the run
    directory and headline figures are printed; TensorBoard names the run after ``model`` and
    the settings given (``cvae,latent_dim=8``). The model
    answers ``sample``, ``encode``, ``reconstruct`` and ``kl`` in original units, and
    ``save(path)``; ``kinsynth.load(path)`` reads it back.
    """
    from kinsynth.runs.names import claim_fresh_dir, composed_run
    from kinsynth.train.run import run_training, summary_line

    settings = {"model": model, "data.path": None, "data.target": target, "progress_bar": False,
                **overrides}
    check_group_choices(settings)
    cfg = compose("train", settings)
    if output_dir is None:
        output_dir = claim_fresh_dir(f"outputs/fit/{datetime.now():%Y-%m-%d_%H-%M-%S}")
    OmegaConf.update(cfg, "paths.output_dir", str(output_dir))
    given = [f"{key.replace('__', '.')}={value}" for key, value in overrides.items()]
    with composed_run(model, given):  # TensorBoard names the run "cvae,latent_dim=2"
        metrics = run_training(cfg, output_dir, frame=frame)
    # a notebook shows no log lines: say where the run went and how it did
    print(f"kinsynth.fit: run directory {output_dir}\n{summary_line(metrics)}")
    return load(output_dir)


def load(run: str | Path, map_location: str = "cpu") -> Model:
    """A trained model from a run directory or a checkpoint file, as a :class:`kinsynth.Model`
    (its ``run_dir`` set when ``run`` is a run directory, so ``metrics`` reads its figures)."""
    from kinsynth.fitted import Model
    from kinsynth.models.loading import load as load_module

    module = load_module(run, map_location=map_location)
    folder = Path(run).expanduser()
    return Model(module, folder if folder.is_dir() else None)


def propose(
    built: pd.DataFrame,
    n: int = 96,
    strategy: str = "generative",
    space: dict[str, Any] | None = None,
    seed: int = 0,
    target: str | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The next ``n`` designs from the strains built so far (``built.csv``'s columns: the design
    columns and the measured response; an empty response is a strain that did not produce).

    ``space`` is dbtl.yaml's ``space`` block: a kinetic model's (``levels``, ``vary``,
    ``model_file``, ...) or a lab's library (``factors``, ``sets``, ``exclude``, ``candidates``,
    or ``landscape``, a measured table whose designs are the space); ``target`` names the
    response column (``data.target``; a library of parts has no model to name it);
    ``options`` set the strategy's own settings (``strategy.<key>`` in dbtl.yaml).

    The plate holds the design columns, ``predicted_<target>``, ``uncertainty_<target>`` (NaN
    where the strategy has no such figure) and ``rank`` (1 = best), best first.
    """
    import pandas as pd

    from kinsynth.campaign.propose import propose_plate
    from kinsynth.campaign.strategies import strategy_class

    if not isinstance(built, pd.DataFrame):
        raise KinsynthError(f"built: expected a pandas DataFrame of the strains built so far "
                            f"(built.csv's columns), got {type(built).__name__}")
    strategy_class(strategy)  # an unknown name is one line listing the registered ones
    if space is not None and not isinstance(space, dict | DictConfig):
        raise KinsynthError(f"space={space!r}: expected a mapping of dbtl.yaml's space keys, "
                            "e.g. {'levels': [0.5, 1, 2]}")
    settings: dict[str, Any] = {"seed": seed, "designs_per_cycle": n, "step": "propose",
                                "data.target": target}
    # one setting per key: an unknown key is compose's one line naming it
    settings.update({f"space.{key}": value for key, value in (space or {}).items()})
    if (CONF_DIR / "strategy" / f"{strategy}.yaml").is_file():
        settings["strategy"] = strategy
        settings.update({f"strategy.{key}": value for key, value in options.items()})
        return propose_plate(compose("dbtl", settings), built)
    # a strategy registered from Python, without a YAML: its typed options hold its defaults
    cfg = compose("dbtl", settings)
    cfg.strategy = OmegaConf.create({"name": strategy, **options})
    return propose_plate(cfg, built)
