"""Generate designs from a trained run: ``python generate.py run=<dir> n=1000 target=1.4``."""

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from kinsynth.cli import guarded


@hydra.main(version_base="1.3", config_path="conf", config_name="generate")
@guarded
def main(cfg: DictConfig) -> None:
    from kinsynth.generation import generate_designs

    out = cfg.out or Path(HydraConfig.get().runtime.output_dir) / "designs.csv"
    designs = generate_designs(cfg.run, cfg.n, cfg.target, cfg.seed, out)
    print(f"wrote {len(designs)} designs to {out}")


if __name__ == "__main__":
    main()
