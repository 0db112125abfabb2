"""OmegaConf resolvers the Hydra configs use; importing this module registers them."""

from __future__ import annotations

from omegaconf import OmegaConf


def run_dir(resume: str | None, fresh: str) -> str:
    """The run directory: the resumed run's own directory, else a fresh timestamped one."""
    return str(resume) if resume not in (None, "", "None", "null") else fresh


if not OmegaConf.has_resolver("kinsynth_run_dir"):
    OmegaConf.register_new_resolver("kinsynth_run_dir", run_dir)
