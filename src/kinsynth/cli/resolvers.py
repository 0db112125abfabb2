"""OmegaConf resolvers the Hydra configs use; importing this module registers them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from kinsynth.runs.names import claim_fresh_dir


def run_dir(resume: str | None, fresh: str, step: str | None = None) -> str:
    """The run directory: the resumed run's own directory, else a fresh one named to the second.

    ``dbtl.py step=propose`` writes only its ``out=`` file, so it gets none ("." is not made).
    """
    if step == "propose":
        return "."
    return str(resume) if resume not in (None, "", "None", "null") else claim_fresh_dir(fresh)


def job_dir(override_dirname: str, num: int | str) -> str:
    """A sweep job's folder name: ``3_latent_dim-3_model-cvae`` (see kinsynth.runs.names)."""
    from kinsynth.runs.names import job_dir_name

    return job_dir_name(override_dirname, num)


def hydra_subdir(
    resume: str | None, output_dir: str | None = None, overwrite: bool | str = False,
    step: str | None = None,
) -> str | None:
    """Where Hydra records a run's config: an earlier run's ``.hydra`` is never overwritten.

    Resolved just before Hydra writes the record, so this is where the command takes its run
    directory's lock (``kinsynth.runs.lock.lock_for_command``): a directory another process holds,
    or one whose files are links or special files, gets no record at all (None), and the run is
    refused in one line. Two commands started together into one directory cannot both write.

    A resumed run writes ``.hydra/resume-<time>``; a new run into a directory that already holds
    a run (its outputs, see ``kinsynth.runs.contract.holds_a_run``) writes ``.hydra/rerun-<time>``
    (the run itself is then refused or, with ``skip_finished``, skipped), unless
    ``overwrite=true`` says the old run may go. A directory holding only a failed attempt's
    config gets the new run's config in ``.hydra`` itself. ``dbtl.py step=propose`` writes only
    its ``out=`` file: no record, and no lock in the working directory.
    """
    if step == "propose":
        return None
    from kinsynth.core.errors import KinsynthError
    from kinsynth.core.writing import overwrite_flag
    from kinsynth.runs.contract import holds_a_run
    from kinsynth.runs.lock import lock_for_command

    if output_dir and not lock_for_command(Path(output_dir)):
        return None  # refused: the run says why in one line, Hydra writes nothing there
    stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S-%f}"
    if resume not in (None, "", "None", "null"):
        return f".hydra/resume-{stamp}"
    try:
        replace = overwrite_flag(overwrite)
    except KinsynthError:  # the run refuses the value in one line; keep the old record meanwhile
        replace = False
    if output_dir and not replace and holds_a_run(Path(output_dir)):
        return f".hydra/rerun-{stamp}"
    return ".hydra"


def unless_propose(step: str, own: object, other: object) -> object:
    """``own`` for a campaign, ``other`` for ``step=propose`` (no .hydra record, no log file)."""
    return other if step == "propose" else own


if not OmegaConf.has_resolver("kinsynth_unless_propose"):
    OmegaConf.register_new_resolver("kinsynth_unless_propose", unless_propose)
if not OmegaConf.has_resolver("kinsynth_run_dir"):
    OmegaConf.register_new_resolver("kinsynth_run_dir", run_dir, use_cache=True)
if not OmegaConf.has_resolver("kinsynth_fresh_dir"):
    OmegaConf.register_new_resolver("kinsynth_fresh_dir", claim_fresh_dir, use_cache=True)
if not OmegaConf.has_resolver("kinsynth_job_dir"):
    OmegaConf.register_new_resolver("kinsynth_job_dir", job_dir)
if not OmegaConf.has_resolver("kinsynth_hydra_subdir"):
    OmegaConf.register_new_resolver("kinsynth_hydra_subdir", hydra_subdir, use_cache=True)
