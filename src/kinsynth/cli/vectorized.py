"""``hydra/launcher=vectorized``: a sweep's compatible jobs trained as one stacked model.

A thesis-sized job spends most of its training in Python's per-operation overhead, so a sweep of
such jobs (``model=vae latent_dim=3,5,...,15``) wastes most of its cores' time. This launcher
groups the jobs that differ only in latent size, seed or data seed (``kinsynth.train.stackable
.stack_key``), trains each group as one stack in a worker process, then runs every job as the
joblib launcher does: the same task function, run directory, config record, lock, checkpoints,
TensorBoard curves and metrics. A stacked job's Trainer replays the epochs the stack computed for
it (``kinsynth.models.trained_elsewhere``) instead of computing them.

Two phases over one pool of ``n_jobs`` worker processes: the stacks, beside the jobs that train
alone (other models, resumed or rerun jobs, jobs whose directory already holds files); then the
stacked jobs' own runs, each with its record. A stack that cannot train (its models turn out not
to stack, or its record would be too large) leaves its jobs to train alone, with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

from kinsynth.core.errors import RunInterrupted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepJob:
    """One job of the sweep: its number, overrides and (composed in this process) config."""

    num: int
    overrides: tuple[str, ...]
    config: DictConfig

    @property
    def output_dir(self) -> Path:
        return Path(str(self.config.hydra.sweep.dir)) / str(self.config.hydra.sweep.subdir)


@dataclass(frozen=True)
class Plan:
    """Which jobs train together (``stacks``, lists of positions in the sweep) and which alone."""

    stacks: list[list[int]]
    alone: list[int]


def job_config(hydra_context: HydraContext, config: DictConfig, overrides: Sequence[str],
               num: int) -> DictConfig:
    """A job's config as the joblib launcher composes it, set as the current Hydra config."""
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{num}"
        sweep_config.hydra.job.num = num
    HydraConfig.instance().set_config(sweep_config)
    return sweep_config


def plan(jobs: Sequence[SweepJob], workers: int) -> Plan:
    """Group jobs of equal stack keys; split groups so that every worker gets a stack to train.

    A group of n jobs, with s stackable jobs in the sweep, is cut into stacks of at most
    ceil(s / workers) jobs; a stack of one trains alone. Jobs whose run directory holds files
    train alone, so a rerun's own rules (skip, resume, refuse) apply to them unchanged.
    """
    from kinsynth.train.stackable import stack_key

    groups: dict[str, list[int]] = {}
    alone = []
    for position, job in enumerate(jobs):
        where = job.output_dir
        fresh = not where.exists() or (where.is_dir() and not any(where.iterdir()))
        key = stack_key(job.config) if fresh else None
        if key is None:
            alone.append(position)
        else:
            groups.setdefault(key, []).append(position)
    stackable = sum(len(g) for g in groups.values())
    most = max(2, math.ceil(stackable / max(1, workers)))
    stacks = []
    for group in groups.values():
        parts = math.ceil(len(group) / most)
        for i in range(parts):
            stack = group[i::parts]  # interleaved: each stack gets small and large latent sizes
            if len(stack) > 1:
                stacks.append(stack)
            else:
                alone.extend(stack)
    return Plan(stacks=stacks, alone=sorted(alone))


def launch(launcher: Any, job_overrides: Sequence[Sequence[str]],
           initial_job_idx: int) -> Sequence[JobReturn]:
    """Run the sweep's jobs in the launcher's worker pool; their returns in the sweep's order."""
    from joblib import Parallel, delayed

    setup_globals()
    context: HydraContext = launcher.hydra_context
    configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    state = Singleton.get_state()
    jobs = [
        SweepJob(initial_job_idx + i, tuple(overrides),
                 job_config(context, launcher.config, overrides, initial_job_idx + i))
        for i, overrides in enumerate(job_overrides)
    ]
    layout = plan(jobs, launcher.n_jobs)
    log.info("vectorized launcher: %d jobs, %d trained in %d stack(s) (%s), %d alone; "
             "%d worker(s); sweep output dir: %s", len(jobs),
             sum(len(s) for s in layout.stacks), len(layout.stacks),
             " + ".join(str(len(s)) for s in layout.stacks) or "none", len(layout.alone),
             launcher.n_jobs, sweep_dir)
    for job in jobs:
        log.info("\t#%d : %s", job.num, " ".join(filter_overrides(job.overrides)))

    def run(job: SweepJob, record: str | None = None) -> Any:
        return delayed(execute_job)(job.num, job.overrides, context, launcher.config,
                                    launcher.task_function, state, record)

    pool = Parallel(n_jobs=launcher.n_jobs, backend="loky", batch_size=1)
    try:
        # the records go from worker to worker as files: this process never loads torch for them
        with sigterm_stops_the_sweep(), \
                tempfile.TemporaryDirectory(prefix="kinsynth-stacks-") as records_dir:
            first = pool(
                [delayed(fit_stack_job)([jobs[i].overrides for i in stack],
                                        [jobs[i].num for i in stack], context, launcher.config,
                                        state, records_dir) for stack in layout.stacks]
                + [run(jobs[i]) for i in layout.alone]
            )
            returns = _second_phase(pool, run, jobs, layout, first)
    except RunInterrupted:
        from kinsynth.sweeps.summary import log_sweep_table

        log.error("sweep stopped by SIGTERM: the jobs that finished keep their run directories; "
                  "rerun the same command with skip_finished=true for the others (a stack "
                  "still training starts again)")
        log_sweep_table(sweep_dir, stopped=True)
        raise SystemExit(RunInterrupted.exit_code) from None
    return [returns[i] for i in range(len(jobs))]


@contextlib.contextmanager
def sigterm_stops_the_sweep() -> Iterator[None]:
    """SIGTERM in the launching process as an exception while the block runs.

    The pool then stops its workers and the records' temporary folder goes, instead of the
    process ending where it stands (a scheduler's time limit sends SIGTERM).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise RunInterrupted("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _second_phase(pool: Any, run: Any, jobs: Sequence[SweepJob], layout: Plan,
                  first: Sequence[Any]) -> dict[int, JobReturn]:
    """The stacked jobs' own runs, each with its record's file; every job's return by position."""
    fitted, alone_returns = first[:len(layout.stacks)], first[len(layout.stacks):]
    returns: dict[int, JobReturn] = dict(zip(layout.alone, alone_returns, strict=True))
    second = []
    for stack, records in zip(layout.stacks, fitted, strict=True):
        if isinstance(records, str):
            log.warning("jobs %s train one by one: %s",
                        ", ".join(f"#{jobs[i].num}" for i in stack), records)
            records = [None] * len(stack)
        second += [(i, run(jobs[i], record)) for i, record in zip(stack, records, strict=True)]
    for (i, _), result in zip(second, pool(task for _, task in second), strict=True):
        returns[i] = result
    return returns


def fit_stack_job(overrides: Sequence[Sequence[str]], nums: Sequence[int],
                  hydra_context: HydraContext, config: DictConfig,
                  singleton_state: dict[Any, Any], records_dir: str) -> list[str] | str:
    """In a worker: train one stack; each job's record file, or why the stack could not train."""
    from kinsynth.sweeps.workers import end_with_parent
    from kinsynth.train.stacked import StackRefused, fit_stack

    end_with_parent()
    setup_globals()
    Singleton.set_state(singleton_state)
    cfgs = [job_config(hydra_context, config, o, n) for o, n in zip(overrides, nums, strict=True)]
    try:
        records = fit_stack(cfgs)
        return [str(record.save(Path(records_dir) / f"job-{num}.pt"))
                for num, record in zip(nums, records, strict=True)]
    except StackRefused as refused:
        return str(refused)
    except Exception as error:  # noqa: BLE001  the jobs then train alone and report their own
        log.exception("the stack of jobs %s failed", ", ".join(f"#{n}" for n in nums))
        return f"{type(error).__name__}: {error}"


def execute_job(num: int, overrides: Sequence[str], hydra_context: HydraContext,
                config: DictConfig, task_function: TaskFunction,
                singleton_state: dict[Any, Any], record: str | None = None) -> JobReturn:
    """In a worker: one job, as the joblib launcher runs it, with its stack's record if any."""
    from kinsynth.models.trained_elsewhere import TrainedElsewhere
    from kinsynth.train.replays import offer_stacked_training

    setup_globals()
    Singleton.set_state(singleton_state)
    sweep_config = job_config(hydra_context, config, overrides, num)
    if record is not None:
        job = SweepJob(num, tuple(overrides), sweep_config)
        offer_stacked_training(job.output_dir, sweep_config, TrainedElsewhere.load(record))
    return run_job(hydra_context=hydra_context, config=sweep_config, task_function=task_function,
                   job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
