"""``kinsynth-generate`` (and ``python generate.py``): designs from a trained run, see README."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from kinsynth.cli.guard import exit_on_unparsable_paths, guarded, run_app
from kinsynth.conf.schemas import register_configs
from kinsynth.generate.designs import generate_from_settings, register_resolvers
from kinsynth.runs.contract import plain_mapping

register_resolvers()  # conf/generate.yaml: no Hydra output directory when out= is given
register_configs()  # the YAMLs name their schemas (conf/schemas.py) in their defaults lists


@hydra.main(version_base="1.3", config_path="../conf", config_name="generate")
@guarded
def app(cfg: DictConfig) -> None:
    # unresolved, so a missing run= stays "???": one line, no traceback
    settings = plain_mapping(cfg, resolve=False)
    default_out = Path(HydraConfig.get().runtime.output_dir) / "designs.csv"
    result = generate_from_settings(settings, default_out)
    print("\n".join([f"wrote {result.rows} designs to {result.path}", *result.messages]))


def main() -> None:
    exit_on_unparsable_paths(sys.argv[1:])
    run_app(app)
