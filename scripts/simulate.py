"""Simulate a pathway data set (Hydra app, config conf/simulate.yaml); see docs/simulator.md."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from kinsynth.simulate import SimulationError
from kinsynth.simulate.cli import check_overrides, run


@hydra.main(config_path="../conf", config_name="simulate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        print(run(cfg))
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    try:
        check_overrides(sys.argv[1:])
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    main()
