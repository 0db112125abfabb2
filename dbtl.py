"""Run a design-build-test-learn campaign: ``python dbtl.py strategy=recommender`` (see README)."""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import kinsynth.cli.resolvers  # noqa: F401  (registers the config resolvers)
from kinsynth.cli.guard import guarded


@hydra.main(version_base="1.3", config_path="conf", config_name="dbtl")
@guarded
def main(cfg: DictConfig) -> float | None:
    from kinsynth.campaign import propose_from_table, run_campaign

    if cfg.step == "propose":
        designs = propose_from_table(cfg)
        print(f"wrote {len(designs)} proposed designs to {cfg.out}")
        return None
    table = run_campaign(cfg, HydraConfig.get().runtime.output_dir)
    return float(table["cumulative_top"].iloc[-1])


if __name__ == "__main__":
    main()
