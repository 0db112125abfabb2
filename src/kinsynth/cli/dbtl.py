"""``kinsynth-dbtl`` (and ``python dbtl.py``): a design-build-test-learn campaign, see README."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from kinsynth.cli import resolvers  # noqa: F401  (registers the config resolvers)
from kinsynth.cli.guard import exit_on_bad_command_line, guarded, run_app
from kinsynth.conf.schemas import register_configs
from kinsynth.runs.lock import release_command_locks

register_configs()  # the YAMLs name their schemas (conf/schemas.py) in their defaults lists


@hydra.main(version_base="1.3", config_path="../conf", config_name="dbtl")
@guarded
def app(cfg: DictConfig) -> float | None:
    from kinsynth.campaign import propose_from_table, run_campaign

    if cfg.step == "propose":
        designs = propose_from_table(cfg)
        print(f"wrote {len(designs)} proposed designs to {cfg.out}")
        return None
    output_dir = HydraConfig.get().runtime.output_dir
    try:
        table = run_campaign(cfg, output_dir)
    finally:
        release_command_locks()  # the lock taken before Hydra wrote the run's record
    print(f"campaign directory {output_dir} (cycles.csv, built.csv, campaign.json)")
    return float(table["cumulative_top"].iloc[-1])


def main() -> None:
    exit_on_bad_command_line(sys.argv[1:])
    run_app(app)
