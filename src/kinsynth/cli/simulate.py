"""``kinsynth-simulate`` (and ``python scripts/simulate.py``): simulate a pathway data set.

The logic is :mod:`kinsynth.simulate.cli`; see docs/simulator.md.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from kinsynth.cli.guard import guarded, run_app
from kinsynth.conf.schemas import register_configs
from kinsynth.simulate import SimulationError
from kinsynth.simulate.cli import check_overrides, run

register_configs()  # the YAMLs name their schemas (conf/schemas.py) in their defaults lists


@hydra.main(version_base="1.3", config_path="../conf", config_name="simulate")
@guarded
def app(cfg: DictConfig) -> None:
    print(run(cfg))  # a KinsynthError (a full disk too) is one line, exit 1


def main() -> None:
    try:
        check_overrides(sys.argv[1:])
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    run_app(app)
