"""Which jobs a sweep was meant to run, so a report can name the ones that never finished.

Hydra records the sweep in ``<sweep dir>/multirun.yaml``: the command's overrides and the
sweeper's config. The basic sweeper's job list is the product of its sweep overrides, expanded here
with Hydra's own code (same order, so job ``i`` is folder ``i``); other sweepers (Optuna) plan
``n_trials`` jobs whose overrides are drawn as they go, so only their numbers can be named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinsynth.core.errors import KinsynthError
from kinsynth.core.yamlfile import read_yaml
from kinsynth.runs.contract import ERROR, is_finished

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def planned_jobs(sweep: Path) -> dict[int, str] | None:
    """Job number -> its overrides (or "" when unknown), None when the plan cannot be read."""
    path = sweep / "multirun.yaml"
    if not path.is_file():
        return None
    try:
        plan = read_yaml(path, None)
    except KinsynthError:  # a damaged plan: the report names no missing jobs
        return None
    hydra: dict[str, Any] = (plan.get("hydra") if isinstance(plan, dict) else None) or {}
    if not isinstance(hydra, dict):
        return None
    sweeper = hydra.get("sweeper") or {}
    task = list((hydra.get("overrides") or {}).get("task") or [])
    if sweeper.get("_target_") == BASIC_SWEEPER:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
        try:
            overrides = OverridesParser.create().parse_overrides(params + task)
            (batch,) = BasicSweeper.split_arguments(overrides, None)
        except Exception:  # an override Hydra itself could not have run
            return None
        # name a job by what varies across the sweep, not by the settings all jobs share
        varying = [k for k in range(len(batch[0])) if len({job[k] for job in batch}) > 1]
        return {i: " ".join(job[k] for k in varying) for i, job in enumerate(batch)}
    trials = sweeper.get("n_trials")
    return {i: "" for i in range(int(trials))} if isinstance(trials, int) else None


def job_folder(sweep: Path, number: int) -> Path:
    """Folder of job ``number``: ``<number>_<overrides>`` (conf/hydra), or ``<number>``."""
    named = sorted(sweep.glob(f"{number}_*"))
    return named[0] if named else sweep / str(number)


def unfinished_jobs(sweep: Path) -> list[str]:
    """One line per planned job of ``sweep`` without a metrics.json: never started or killed."""
    plan = planned_jobs(sweep)
    if not plan:
        return []
    lines = []
    for number, overrides in plan.items():
        folder = job_folder(sweep, number)
        if is_finished(folder) or (folder / ERROR).is_file():
            continue  # finished, or failed with its reason recorded (listed as failed)
        state = "killed or still running" if folder.is_dir() else "never started"
        described = f" ({overrides})" if overrides else ""
        lines.append(f"job {number}{described}: {state}")
    return lines
