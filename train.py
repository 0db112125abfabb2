"""Train a kinsynth model: ``python train.py model=cvae latent_dim=11`` (see README)."""

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import kinsynth.cli.resolvers  # noqa: F401  (registers the config resolvers)
from kinsynth.cli.guard import exit_on_unparsable_paths, guarded, in_multirun


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
@guarded
def main(cfg: DictConfig) -> float | None:
    from kinsynth.train.run import objective, run_training

    metrics = run_training(cfg, HydraConfig.get().runtime.output_dir)
    if not metrics or not cfg.get("optimized_metric"):
        return None
    return objective(metrics, cfg.optimized_metric, sweeping=in_multirun())


if __name__ == "__main__":
    exit_on_unparsable_paths(sys.argv[1:])
    main()
