"""The job folders of a sweep, read through the run contract: one :class:`Job` per folder.

A job folder is any folder with a ``.hydra/`` subfolder below the sweep folder; its model and
experiment come from Hydra's recorded choices, its figures from ``metrics.json`` and a failure's
reason from ``error.txt`` (kinsynth.runs.contract). The sweep report and the end-of-sweep table
both read jobs here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kinsynth.core.errors import KinsynthError
from kinsynth.runs.contract import (
    CAMPAIGN,
    CONFIG,
    METRICS,
    error_line,
    finished_marker,
    hydra_settings,
    original_cwd,
    plain_mapping,
    read_config,
    read_marker,
    read_overrides,
)


@dataclass
class Job:
    """One job folder of a sweep, finished or not."""

    path: Path
    model: str
    experiment: str
    latent_dim: int | None
    seed: int | None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    warning: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    cwd: Path | None = None
    #: the command line's overrides that made this job (``.hydra/overrides.yaml``)
    overrides: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def _natural_key(path: Path) -> tuple:
    """Job folders 0, 1, ..., 10 (or ``<num>_<overrides>``) in numeric order; other names after."""
    keys = []
    for part in path.parts:
        number = re.match(r"(\d+)(?:_|$)", part)
        keys.append((0, int(number.group(1)), part) if number else (1, 0, part))
    return tuple(keys)


def find_job_dirs(root: Path) -> list[Path]:
    """Every folder below (or equal to) ``root`` that Hydra ran a job in (has ``.hydra/``)."""
    root = Path(root)
    if not root.is_dir():
        raise KinsynthError(f"sweep folder '{root}' not found")
    found = {p.parent for p in root.rglob(".hydra") if p.is_dir()}
    if (root / ".hydra").is_dir():
        found.add(root)
    return sorted(found, key=_natural_key)


def read_job(path: Path) -> Job:
    """One job folder: its choices and config from ``.hydra/``, metrics or the reason it failed."""
    config = read_config(path, resolve_paths=False)
    plain = {} if config is None else plain_mapping(config, resolve=False)
    runtime = hydra_settings(path).get("runtime") or {}
    choices = runtime.get("choices") or {}
    latent, seed = plain.get("latent_dim"), plain.get("seed")
    job = Job(
        path=path,
        model=str(choices.get("model") or _target_name(plain)),
        experiment=str(choices.get("experiment") or "default"),
        latent_dim=int(latent) if isinstance(latent, int | float) else None,
        seed=int(seed) if isinstance(seed, int | float) else None,
        config=plain,
        cwd=original_cwd(path) if runtime.get("cwd") else None,
        overrides=read_overrides(path) or [],
    )
    message = error_line(path)
    marker = finished_marker(path)
    if marker is None:  # an empty or truncated metrics.json too
        job.error = message or f"no {METRICS} (job killed or still running)"
    elif marker.name == CAMPAIGN:
        job.error = (f"a campaign ({CAMPAIGN}), not a training run: scripts/dbtl_report.py "
                     "reports campaign sweeps")
    else:
        # metrics.json and error.txt: the run was evaluated and failed afterwards (e.g. returning
        # the sweeper's objective); its figures stand, the error is reported beside them
        job.warning = message
        raw = read_marker(path / METRICS)
        job.metrics = {k: _as_float(v) for k, v in raw.items() if k != "warnings"}
    if job.ok and config is None:
        raise KinsynthError(f"'{path / CONFIG}' is missing: cannot tell which model the job ran")
    return job


def _target_name(config: dict[str, Any]) -> str:
    target = str((config.get("model") or {}).get("_target_", "unknown"))
    return target.rsplit(".", 1)[-1].lower()


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def collect_jobs(dirs: Sequence[str | Path]) -> list[Job]:
    """Every job below the given sweep folders; an error when none is found at all."""
    jobs: list[Job] = []
    for root in dirs:
        paths = find_job_dirs(Path(root))
        if not paths:
            raise KinsynthError(
                f"sweep folder '{root}': no job folders (subfolders with .hydra/) found"
            )
        jobs.extend(read_job(p) for p in paths)
    return jobs
