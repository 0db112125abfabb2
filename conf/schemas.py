"""Schemas of the packaged configs: the keys each YAML may hold and the type of each value.

The YAML files keep the values; these dataclasses say only which keys exist and what they hold
(every field is ``???`` here, so a default lives in one place, its YAML). Hydra validates the
composed config and every command-line override against them, so an unknown key or a wrong type
is refused while the config is composed, before any run directory is made.

Registered in Hydra's ConfigStore by :func:`register_configs`; a YAML names its schema first in
its defaults list (``- dbtl_schema``). Every caller that composes (the commands, ``kinsynth.api``,
the scripts, the tests) calls :func:`register_configs` first.

This module imports nothing of kinsynth and neither torch nor Lightning: the commands register
the schemas and check their arguments before the heavy imports.

Deliberately open (``Any``): a strategy's options (each strategy's ``Options`` dataclass checks
them, ``kinsynth.campaign.strategies.base.parse_options``), the trainer (Lightning's Trainer takes
some fifty arguments, ``+trainer.<argument>=...`` passes any of them, and it refuses an unknown one
itself), the loggers, and the callbacks node (``+callbacks.<name>._target_=...`` adds a callback;
the evaluation callback's own keys are typed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

#: OmegaConf's marker of a value the YAML must give
MISSING: Any = "???"


def _given() -> Any:
    """A field whose value the YAML gives (``???`` until it does)."""
    return field(default=MISSING)


# ---- dbtl.yaml ----------------------------------------------------------------------------------
@dataclass
class SpaceConfig:
    """``space``: the design space of a campaign (conf/space/)."""

    model_file: str | None = _given()
    ranges: str | None = _given()
    flux: str | None = _given()
    output: str | None = _given()
    objective: str | None = _given()
    time: float | None = _given()
    levels: list[float] | None = _given()
    vary: list[str] | None = _given()
    # a lab's space (kinsynth.campaign.parts): slots of named parts, gene sets, exclusions, a list
    factors: Any = _given()
    sets: Any = _given()
    exclude: Any = _given()
    candidates: str | None = _given()
    # a measured landscape: a table of strains replayed, its response column, its design columns
    landscape: str | None = _given()
    target: str | None = _given()
    columns: list[str] | None = _given()
    replicates: str = _given()
    top: int = _given()


@dataclass
class NoiseConfig:
    """``noise``: the measurement noise added to each built design's flux."""

    kind: str = _given()
    level: float = _given()
    clip: float | None = _given()


@dataclass
class MetricsConfig:
    """``metrics``: the judge, van Lent et al.'s figure of merit (kinsynth.campaign.judge)."""

    # auto | true | false: the campaign reads it (a bool from the command line, or "auto")
    judge: Any = _given()
    judge_iterations: int = _given()
    judge_folds: int = _given()


@dataclass
class PoolConfig:
    """``pool``: the random designs that define "top", simulated once and cached."""

    n: int = _given()
    seed: int = _given()
    cache_dir: str = _given()
    max_enumerate: int = _given()


@dataclass
class BuiltDataConfig:
    """``data`` of dbtl.yaml: the built designs ``step=propose`` fits on, and their response."""

    path: str | None = _given()
    target: str | None = _given()


@dataclass
class DbtlConfig:
    """conf/dbtl.yaml (in the order the defaults list composes it)."""

    space: SpaceConfig = field(default_factory=SpaceConfig)
    # each strategy's typed Options check these (conf/strategy/, campaign/strategies/)
    strategy: Any = _given()
    task_name: str = _given()
    seed: int = _given()
    step: str = _given()
    initial_designs: int = _given()
    cycles: int = _given()
    # one size, or one per cycle: kinsynth.campaign.schedule checks it
    designs_per_cycle: Any = _given()
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    data: BuiltDataConfig = field(default_factory=BuiltDataConfig)
    out: str | None = _given()
    overwrite: bool = _given()
    resume: str | None = _given()
    threads: int | None = _given()


# ---- generate.yaml ------------------------------------------------------------------------------
@dataclass
class GenerateConfig:
    """conf/generate.yaml."""

    run: str = _given()
    n: int = _given()
    # a number, a range "lo:hi" or null: kinsynth.generate parses it
    target: Any = _given()
    seed: int = _given()
    out: str | None = _given()
    overwrite: bool = _given()
    chunk_size: int = _given()
    threads: int | None = _given()
    check: bool = _given()
    task_name: str = _given()


# ---- simulate.yaml ------------------------------------------------------------------------------
@dataclass
class SimulateConfig:
    """conf/simulate.yaml."""

    n: int = _given()
    seed: int = _given()
    out: str = _given()
    overwrite: bool = _given()
    workers: int | None = _given()
    shard: int = _given()
    n_shards: int = _given()
    model_file: str | None = _given()
    ranges: str | None = _given()
    flux: str | None = _given()
    output: str | None = _given()
    objective: str | None = _given()
    time: float | None = _given()
    progress: bool | None = _given()
    merge: list[str] | None = _given()
    library: bool = _given()
    levels: list[float] | None = _given()
    cache_dir: str = _given()
    figure: str | None = _given()


# ---- train.yaml and its groups ------------------------------------------------------------------
@dataclass
class DataConfig:
    """conf/data/: ``kinsynth.data.KineticDataModule``'s arguments."""

    _target_: str = _given()
    path: str | None = _given()
    target: str | None = _given()
    features: list[str] | None = _given()
    categorical: list[str] | None = _given()
    split: list[float] = _given()
    seed: int = _given()
    batch_size: int = _given()
    transform: str = _given()
    n_quantiles: int = _given()
    device: str = _given()


@dataclass
class OptimizerConfig:
    """conf/optimizer/: a torch optimizer, built by Hydra as a partial (the model gives it its
    parameters)."""

    _target_: str = _given()
    _partial_: bool = _given()
    lr: float = _given()
    weight_decay: float = _given()
    fused: bool = _given()


@dataclass
class NetworkConfig:
    """``model.network``: the encoder and decoder of a latent variable model.

    A node of its own so that a setting for every model of a sweep (experiment=thesis sets it for
    PPCA too) is one node, which a model without a network leaves unused.
    """

    hidden: list[int] = _given()
    activation: str = _given()
    likelihood: str = _given()
    output_activation: str | None = _given()


@dataclass
class LatentModelConfig:
    """conf/model/vae.yaml, cvae.yaml, bcvae.yaml: ``kinsynth.models.LatentVariableModel``."""

    _target_: str = _given()
    latent_dim: int = _given()
    conditional: bool = _given()
    joint: bool = _given()
    network: NetworkConfig = field(default_factory=NetworkConfig)
    beta: float = _given()
    warmup_epochs: int = _given()
    free_bits: float = _given()
    prior: str = _given()
    lr_schedule: str = _given()


@dataclass
class PPCAModelConfig:
    """conf/model/ppca.yaml, cppca.yaml: ``kinsynth.models.PPCAModel``."""

    _target_: str = _given()
    latent_dim: int = _given()
    conditional: bool = _given()
    joint: bool = _given()
    # PPCA has no network: an experiment's network settings for every model are accepted, unused
    network: NetworkConfig | None = None


@dataclass
class MaxRowsConfig:
    """``callbacks.evaluation.max_rows``: the most rows each costly figure uses."""

    c2st: int | None = _given()
    mmd: int | None = _given()
    memorisation: int | None = _given()
    memorisation_reference: int | None = _given()
    utility: int | None = _given()
    oracle_fit: int | None = _given()
    matrix_columns: int | None = _given()


@dataclass
class CheckpointConfig:
    """``callbacks.model_checkpoint``: Lightning's ModelCheckpoint as conf/callbacks/ sets it."""

    _target_: str = _given()
    dirpath: str = _given()
    filename: str = _given()
    auto_insert_metric_name: bool = _given()
    monitor: str | None = _given()
    mode: str = _given()
    save_last: bool = _given()
    save_top_k: int = _given()
    every_n_epochs: int = _given()


@dataclass
class EvaluationConfig:
    """``callbacks.evaluation``: ``kinsynth.evaluate.callback.EvaluationCallback``'s arguments."""

    _target_: str = _given()
    output_dir: str = _given()
    n_synthetic: int | None = _given()
    oracle: str = _given()
    level: str = _given()
    baselines: bool = _given()
    baseline_cache: bool = _given()
    cache_dir: str | None = _given()
    every_n_epochs: int = _given()
    n_conditional: int = _given()
    figures: bool = _given()
    seed: int = _given()
    max_rows: MaxRowsConfig = field(default_factory=MaxRowsConfig)


@dataclass
class PathsConfig:
    """conf/paths/: where a run writes and reads."""

    output_dir: str = _given()
    root_dir: str = _given()
    reference_data: str = _given()


@dataclass
class TrainGenerateConfig:
    """``generate`` of train.yaml: the rows of the run's synthetic.csv."""

    n: int | None = _given()


@dataclass
class TrainConfig:
    """conf/train.yaml (in the order the defaults list composes it); its groups merge into the
    typed nodes."""

    task_name: str = _given()
    seed: int = _given()
    latent_dim: int = _given()
    threads: int | None = _given()
    # auto | true | false
    progress_bar: Any = _given()
    progress_lines: int = _given()
    resume: str | None = _given()
    overwrite: bool = _given()
    skip_finished: bool = _given()
    generate: TrainGenerateConfig = field(default_factory=TrainGenerateConfig)
    optimized_metric: str | None = _given()
    data: DataConfig = field(default_factory=DataConfig)
    # typed per group member (conf/model/): a latent variable model or PPCA
    model: Any = _given()
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    trainer: Any = _given()
    logger: Any = None
    callbacks: Any = _given()
    paths: PathsConfig = field(default_factory=PathsConfig)


#: the name a YAML's defaults list gives its schema -> (group, schema); group None: a primary config
SCHEMAS: dict[str, tuple[str | None, type]] = {
    "dbtl_schema": (None, DbtlConfig),
    "generate_schema": (None, GenerateConfig),
    "simulate_schema": (None, SimulateConfig),
    "train_schema": (None, TrainConfig),
    "latent_model_schema": ("model", LatentModelConfig),
    "ppca_model_schema": ("model", PPCAModelConfig),
    "checkpoint_schema": ("callbacks", CheckpointConfig),
    "evaluation_schema": ("callbacks", EvaluationConfig),
}


def register_configs() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent). Call it before any compose."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name, (group, node) in SCHEMAS.items():
        store.store(name=name, group=group, node=node)


def keys(schema: type) -> tuple[str, ...]:
    """The keys a schema allows, in its order (a command's settings, read from one place)."""
    return tuple(f.name for f in fields(schema))
