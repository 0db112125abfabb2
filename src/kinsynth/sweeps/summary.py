"""One table at the end of a multirun: every job, what it changed, its headline figures, failures.

A sweep of 28 jobs otherwise ends on the last job's log line, and finding the failed one means
opening 28 folders. Registered as a Hydra callback in conf/hydra/default.yaml.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.runs.contract import (
    CAMPAIGN,
    HEADLINE_METRICS,
    error_line,
    read_marker,
    read_overrides,
)
from kinsynth.sweeps.jobs import find_job_dirs, read_job
from kinsynth.sweeps.rerun import finished_search_problem

log = logging.getLogger("kinsynth.sweep")
SHOWN = HEADLINE_METRICS[:4]


def _overrides(path: Path) -> list[str]:
    listed = read_overrides(path)
    return [path.name] if listed is None else listed


#: when this process's multirun started (set by :class:`SweepSummary`): the table lists only the
#: jobs this sweep ran, not an earlier sweep's into the same ``hydra.sweep.dir``
_sweep_started: float | None = None
#: the status of a job stopped by SIGTERM (kinsynth.train.run); a skip_finished rerun resumes it
INTERRUPTED = "INTERRUPTED (rerun with skip_finished=true to resume it)"


def this_sweeps_jobs(sweep: Path, since: float | None) -> list[Path]:
    """Job folders below ``sweep`` that Hydra wrote into at or after ``since`` (all if None).

    Hydra writes each job's ``.hydra/`` when it starts it (a rerun over a run adds
    ``.hydra/rerun-<time>``), so the folder's modification time says which sweep last ran it.
    """
    paths = find_job_dirs(sweep)
    if since is None:
        return paths
    return [path for path in paths if (path / ".hydra").stat().st_mtime >= since - 0.01]


def _status(error: str | None) -> str:
    if error is None:
        return "ok"
    return INTERRUPTED if "stopped by SIGTERM" in error else f"FAILED: {error}"


def summary_table(sweep: Path, since: float | None = None) -> str:
    """The table as text: one row per job folder below ``sweep`` (that ran since ``since``)."""
    paths = this_sweeps_jobs(sweep, since)
    if not paths:
        return "no jobs ran"
    if any((path / CAMPAIGN).is_file() for path in paths):
        return _campaign_table(paths)
    overrides = {path: _overrides(path) for path in paths}
    # what every job shares says nothing about the difference between them
    shared = set.intersection(*(set(o) for o in overrides.values())) if len(paths) > 1 else set()
    rows: list[tuple[str, ...]] = [("job", "overrides", *SHOWN, "status")]
    for path in paths:
        number = path.name.split("_")[0]
        varying = " ".join(o for o in overrides[path] if o not in shared)
        try:
            job = read_job(path)
        except KinsynthError as error:
            rows.append((number, varying, *["-"] * len(SHOWN), f"unreadable: {error}"))
            continue
        figures = [job.metrics.get(k, math.nan) for k in SHOWN]
        shown = ["-" if not math.isfinite(v) else f"{v:.3g}" for v in figures]
        status = _status(job.error)
        rows.append((number, varying, *shown, status))
    return _aligned(rows)


CAMPAIGN_SHOWN = ("cumulative_top", "best_true_flux", "strains_to_q99")


def _campaign_table(paths: list[Path]) -> str:
    """The same table for a dbtl.py sweep: each campaign's top designs found and best flux."""
    overrides = {path: _overrides(path) for path in paths}
    shared = set.intersection(*(set(o) for o in overrides.values())) if len(paths) > 1 else set()
    rows: list[tuple[str, ...]] = [("job", "overrides", *CAMPAIGN_SHOWN, "status")]
    for path in paths:
        varying = " ".join(o for o in overrides[path] if o not in shared)
        number = path.name.split("_")[0]
        if (path / CAMPAIGN).is_file():
            summary = read_marker(path / CAMPAIGN)
            shown = ["-" if summary.get(k) is None else f"{float(summary[k]):.4g}"
                     for k in CAMPAIGN_SHOWN]
            rows.append((number, varying, *shown, "ok"))
        else:
            reason = error_line(path) or f"no {CAMPAIGN} (job killed or still running)"
            rows.append((number, varying, *["-"] * len(CAMPAIGN_SHOWN), _status(reason)))
    return _aligned(rows)


def _aligned(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  "
             + str(row[-1]) for row in rows]
    return "\n".join(lines)


def log_sweep_table(sweep: Path, stopped: bool = False) -> None:
    """Log this sweep's table; a stopped sweep also names the planned jobs it never ran."""
    if not sweep.is_dir():
        return
    try:
        table = summary_table(sweep, since=_sweep_started)
    except KinsynthError as error:
        log.warning("no sweep summary: %s", error)
        return
    if stopped:
        from kinsynth.sweeps.plan import unfinished_jobs

        never = [line for line in unfinished_jobs(sweep) if line.endswith("never started")]
        table = "\n".join([table, *never])
    log.info("sweep %s\n%s", sweep, table)


class SweepSummary(Callback):
    """Logs :func:`summary_table` when the multirun ends (failed jobs included)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        global _sweep_started
        _sweep_started = time.time()
        # before the sweeper starts a job: nothing in a finished search's folder is touched
        sweep_dir = OmegaConf.select(config, "hydra.sweep.dir", default=None)
        sweeper = OmegaConf.select(config, "hydra.sweeper", default=None)
        if sweep_dir is None or sweeper is None:
            return
        problem = finished_search_problem(Path(str(sweep_dir)), sweeper)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            raise SystemExit(1)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        log_sweep_table(Path(str(config.hydra.sweep.dir)))
