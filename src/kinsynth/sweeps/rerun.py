"""An Optuna search started again into the folder of a finished one.

Its sampler is seeded, so a study kept in memory asks for the same trials again: every job lands
in a finished job's folder and is refused, and Optuna ends on "No trials are completed yet" after
each finished job gained an error in its log. Said here in one line before any job starts, with
what the folder holds and how a search is extended instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.runs.contract import hydra_settings, is_finished
from kinsynth.sweeps.jobs import find_job_dirs

#: what the Optuna sweeper writes into the sweep folder when the search ends
RESULTS = "optimization_results.yaml"


def _is_optuna(sweeper: Any) -> bool:
    return "optuna" in str(OmegaConf.select(sweeper, "_target_", default="") or "").lower()


def _storage(value: Any) -> str | None:
    return None if value in (None, "", "null", "None") else str(value)


def finished_search_problem(sweep_dir: Path, sweeper: DictConfig) -> str | None:
    """The line that refuses an Optuna search into ``sweep_dir``, or None when it may run.

    Refused: the folder holds a finished search or finished trials, unless this search continues
    the same study from the same database (``hydra.sweeper.storage``), whose trial numbers go on
    and so name new folders.
    """
    if not _is_optuna(sweeper) or not sweep_dir.is_dir():
        return None
    try:
        jobs = find_job_dirs(sweep_dir)
    except KinsynthError:
        return None
    finished = [job for job in jobs if is_finished(job)]
    if not finished and not (sweep_dir / RESULTS).is_file():
        return None
    old = None
    if jobs:
        old = _storage((hydra_settings(jobs[0]).get("sweeper") or {}).get("storage"))
    new = _storage(OmegaConf.select(sweeper, "storage", default=None))
    if old is not None and old == new:
        return None
    what = (f"a finished Optuna search ({len(finished)} finished trial(s), best in "
            f"{sweep_dir / RESULTS})" if (sweep_dir / RESULTS).is_file()
            else f"{len(finished)} finished trial(s) of an Optuna search")
    if old is None:
        how = ("its study was kept in memory (hydra.sweeper.storage: null), so it cannot be "
               "resumed or extended: give a new search another hydra.sweep.dir (with "
               "hydra.sweeper.storage=sqlite:///<file>.db a search can later be extended by "
               "rerunning it with a larger hydra.sweeper.n_trials)")
    else:
        how = (f"to extend it, rerun with hydra.sweeper.storage={old} and a larger "
               "hydra.sweeper.n_trials; for a new search, another hydra.sweep.dir")
    return f"hydra.sweep.dir={sweep_dir}: holds {what}; {how}"
