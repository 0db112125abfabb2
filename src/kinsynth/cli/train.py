"""``kinsynth-train`` (and ``python train.py``): train a model, see README."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from kinsynth.cli import resolvers  # noqa: F401  (registers the config resolvers)
from kinsynth.cli.guard import exit_on_unparsable_paths, guarded, in_multirun, run_app
from kinsynth.conf.schemas import register_configs
from kinsynth.runs.lock import release_command_locks

register_configs()  # the YAMLs name their schemas (conf/schemas.py) in their defaults lists


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
@guarded
def app(cfg: DictConfig) -> float | None:
    from kinsynth.data.io import check_file

    try:
        check_file(cfg.data.get("path"))  # a wrong data.path in a second, before torch loads
        from kinsynth.train.run import objective, run_training

        sweeping = in_multirun()
        metrics = run_training(cfg, HydraConfig.get().runtime.output_dir, sweeping=sweeping)
    finally:
        release_command_locks()  # the lock taken before Hydra wrote the run's record
    if not metrics or not cfg.get("optimized_metric"):
        return None
    return objective(metrics, cfg.optimized_metric, sweeping=sweeping)


def main() -> None:
    exit_on_unparsable_paths(sys.argv[1:])
    run_app(app)
