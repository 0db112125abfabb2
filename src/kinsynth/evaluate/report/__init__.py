"""The sweep report: thesis Table 2 and Figures 2-4, rebuilt from a Hydra multirun's job folders.

``python scripts/report.py <multirun dir> [...]`` gathers every job folder (one with a ``.hydra/``
subfolder) below the given folders into a long table (one row per finished job: model, latent
size, experiment, seed and every metric of its ``metrics.json``) and writes, into the folder given
by ``out``:

* ``report.csv``: the thesis's Table 2 layout, rows = model x metric, columns = latent size, the
  thesis's published value beside ours (mean over seeds; ``<latent> sd`` columns when a cell has
  more than one seed);
* ``report.md``: the same tables for reading, the real-vs-real and naive baselines, the failed
  jobs, and how our figures differ in definition from the published ones;
* ``jobs.csv``: the long table itself;
* ``report_figures/``: each metric against latent size (Figure 3), a PCA overlay grid (Figure 4)
  and cumulative explained variance (Figure 2) at one latent size.

Failed jobs (``error.txt``, or no ``metrics.json`` at all) are listed, never fatal. Nothing here
knows about a particular model: the report only reads the run-directory contract.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import atomic_target, check_writable_dir, write_text
from kinsynth.evaluate.report.drawing import FIGURE_DIR, pick_latent, write_figures
from kinsynth.evaluate.report.markdown import render_markdown
from kinsynth.evaluate.report.tables import long_table, wide_table
from kinsynth.sweeps.jobs import Job, collect_jobs
from kinsynth.sweeps.plan import unfinished_jobs


@dataclass
class Report:
    """What :func:`build_report` computed and wrote."""

    jobs: list[Job]
    long: pd.DataFrame
    table: pd.DataFrame
    out: Path
    figures: list[Path]
    notes: list[str]

    @property
    def failed(self) -> list[Job]:
        return [job for job in self.jobs if not job.ok]


def build_report(
    dirs: Sequence[str | Path],
    out: str | Path | None = None,
    latent: int | None = None,
    draw: bool = True,
) -> Report:
    """Gather the sweeps in ``dirs`` and write report.md, report.csv, jobs.csv and the PNGs.

    ``out`` defaults to the sweep folder (the folders' common parent when there are several).
    Raises :class:`KinsynthError` when a folder is missing or holds no finished job.
    """
    sources = [Path(d) for d in dirs]
    if not sources:
        raise KinsynthError("report: give at least one sweep folder")
    jobs = collect_jobs(sources)
    target = (
        Path(out) if out is not None else Path(os.path.commonpath([s.resolve() for s in sources]))
    )
    check_writable_dir(target, "--out")  # before a figure is drawn
    finished = [job for job in jobs if job.ok]
    if not finished:
        first = jobs[0]
        raise KinsynthError(
            f"no finished job below {', '.join(map(str, sources))}: all {len(jobs)} failed "
            f"(first: {first.path}: {first.error})"
        )
    long = long_table(jobs)
    table = wide_table(long)
    chosen = pick_latent(long, latent)
    written, notes = write_figures(jobs, long, target / FIGURE_DIR, chosen) if draw else ([], [])
    missing = [f"{source}: {line}" for source in sources for line in unfinished_jobs(source)]
    notes = [f"missing from this partial sweep: {line}" for line in missing] + notes
    report = Report(jobs=jobs, long=long, table=table, out=target, figures=written, notes=notes)
    # each whole under its name or absent (a full disk is one line), never through a link
    for frame, name in ((long, "jobs.csv"), (table, "report.csv")):
        with atomic_target(target / name, overwrite=True, key="--out") as tmp:
            frame.to_csv(tmp, index=False)
    write_text(render_markdown(report, sources), target / "report.md", key="--out")
    return report
