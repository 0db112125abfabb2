"""Where the benchmark finds its configs and data: the checkout's conf/ and ../shared/data."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
#: the thesis data set beside the checkout; never committed, so it may be absent
REFERENCE_CSV = CONF_DIR.parents[1] / "shared" / "data" / "pathway_I_5000.csv"


def compose(overrides: list[str], output_dir: Path) -> DictConfig:
    """conf/train.yaml composed as ``python train.py <overrides>`` would, writing to output_dir."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    import kinsynth.cli.resolvers  # noqa: F401  (resolvers used by the configs)
    from kinsynth.conf.schemas import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(
            "train",
            overrides=[f"paths.output_dir={output_dir}", "progress_bar=false", *overrides],
        )


def default_data_path() -> str | None:
    """The thesis data set where the checkout has it (../shared/data), else the embedded default."""
    return str(REFERENCE_CSV) if REFERENCE_CSV.is_file() else None
