"""OmegaConf resolvers the Hydra configs use; importing this module registers them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf


def run_dir(resume: str | None, fresh: str) -> str:
    """The run directory: the resumed run's own directory, else a fresh timestamped one."""
    return str(resume) if resume not in (None, "", "None", "null") else fresh


def hydra_subdir(
    resume: str | None, output_dir: str | None = None, overwrite: bool | str = False
) -> str:
    """Where Hydra records a run's config: an earlier run's ``.hydra`` is never overwritten.

    A resumed run writes ``.hydra/resume-<time>``; a new run into a directory that already holds
    a run (its outputs, see ``kinsynth.run_directory.holds_a_run``) writes ``.hydra/rerun-<time>``
    (the run itself is then refused or, with ``skip_finished``, skipped), unless
    ``overwrite=true`` says the old run may go. A directory holding only a failed attempt's
    config gets the new run's config in ``.hydra`` itself.
    """
    from kinsynth.run_directory import holds_a_run

    stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S-%f}"
    if resume not in (None, "", "None", "null"):
        return f".hydra/resume-{stamp}"
    replace = str(overwrite).lower() == "true"
    if output_dir and not replace and holds_a_run(Path(output_dir)):
        return f".hydra/rerun-{stamp}"
    return ".hydra"


if not OmegaConf.has_resolver("kinsynth_run_dir"):
    OmegaConf.register_new_resolver("kinsynth_run_dir", run_dir)
if not OmegaConf.has_resolver("kinsynth_hydra_subdir"):
    OmegaConf.register_new_resolver("kinsynth_hydra_subdir", hydra_subdir, use_cache=True)
