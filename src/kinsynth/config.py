"""OmegaConf resolvers the Hydra configs use; importing this module registers them."""

from __future__ import annotations

from datetime import datetime

from omegaconf import OmegaConf


def run_dir(resume: str | None, fresh: str) -> str:
    """The run directory: the resumed run's own directory, else a fresh timestamped one."""
    return str(resume) if resume not in (None, "", "None", "null") else fresh


def hydra_subdir(resume: str | None) -> str:
    """Where Hydra records a run's config: a resumed run keeps the original ``.hydra`` intact."""
    if resume in (None, "", "None", "null"):
        return ".hydra"
    return f".hydra/resume-{datetime.now():%Y-%m-%d_%H-%M-%S-%f}"


if not OmegaConf.has_resolver("kinsynth_run_dir"):
    OmegaConf.register_new_resolver("kinsynth_run_dir", run_dir)
if not OmegaConf.has_resolver("kinsynth_hydra_subdir"):
    OmegaConf.register_new_resolver("kinsynth_hydra_subdir", hydra_subdir, use_cache=True)
