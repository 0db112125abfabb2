"""Side-by-side performance measurements: our training path against a bare PyTorch loop, and more.

Everything is measured in one process, one after the other, so the figures share the same machine
load and can be compared as ratios. ``scripts/benchmark.py`` is the thin command-line wrapper;
docs/performance.md explains each row and what it includes.

Training is measured three ways on the *same* model initialisation and the *same* mini-batches:

``ours (full run)``
    :func:`kinsynth.train.run.run_training` on a composed config, exactly what ``train.py`` does:
    validation and checkpoints every 10 epochs (best + last), TensorBoard logging and the evaluation
    callback. Steps/s uses the fit time the evaluation callback records (first to last epoch), the
    wall time of the whole run (with evaluation, figures and files) is reported beside it.
``ours (lean)``
    The same LatentVariableModel, KineticDataModule and Trainer settings with checkpointing,
    loggers, callbacks and validation switched off: the cost of our training step itself.
``bare loop``
    A plain Python loop over the same epochs of batches (the data module's own permutations), the
    same ``elbo`` and the same optimiser, without Lightning. With the same torch seed it must end on
    the same weights as the lean run; the benchmark checks that and prints the largest difference.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import json
import math
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from kinsynth.models.elbo import kl_weight

#: The thesis notebook's training loop on this machine (steps/s), from the task's measurement.
NOTEBOOK_STEPS_PER_SECOND = 680.0
#: Targets the benchmark checks (docs/performance.md gives the reasons).
TARGET_SPEEDUP_OVER_NOTEBOOK = 1.5
TARGET_BARE_OVER_OURS = 1.2
TARGET_SAMPLE_ROWS_PER_SECOND = 1_000_000

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of one measurement.

    CPU seconds (``time.process_time``) barely move when other processes share the cores, so on a
    busy machine they are the figure to compare; wall seconds are what a user waits.
    """

    wall: float
    cpu: float

    @classmethod
    def since(cls, wall0: float, cpu0: float) -> Timing:
        return cls(time.perf_counter() - wall0, time.process_time() - cpu0)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


@dataclass
class Row:
    """One line of the benchmark table."""

    name: str
    value: float
    unit: str
    note: str = ""
    target: str = ""
    passed: bool | None = None


@dataclass
class Report:
    """The benchmark table plus the context needed to read it."""

    rows: list[Row] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def table(self) -> str:
        """Markdown table, ready to paste into docs/performance.md."""
        lines = [
            "| measurement | value | unit | target | note |",
            "|---|---:|---|---|---|",
        ]
        for r in self.rows:
            mark = "" if r.passed is None else (" (met)" if r.passed else " (MISSED)")
            lines.append(
                f"| {r.name} | {_fmt(r.value)} | {r.unit} | {r.target}{mark} | {r.note} |"
            )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {"context": self.context, "rows": [r.__dict__ for r in self.rows]}, indent=2
        )


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


# ---- config and machine ------------------------------------------------------------------------


def compose(overrides: list[str], output_dir: Path) -> DictConfig:
    """conf/train.yaml composed as ``python train.py <overrides>`` would, writing to output_dir."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    import kinsynth.cli.resolvers  # noqa: F401  (resolvers used by the configs)

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(
            "train",
            overrides=[f"paths.output_dir={output_dir}", "progress_bar=false", *overrides],
        )


def machine_context() -> dict[str, Any]:
    """What the figures depend on: library versions, threads, and the load while measuring."""
    import os

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "lightning": pl.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
    }


def peak_rss_mib() -> float:
    """High-water mark of this process's resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- training ----------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A model and data module built from a config, before any training."""

    cfg: DictConfig
    model: Any
    datamodule: Any


def prepare(cfg: DictConfig) -> Prepared:
    """Data module and model exactly as run_training builds them (same seeding, same order)."""
    import hydra

    from kinsynth.train.run import build_model

    torch.set_num_threads(int(cfg.get("threads") or 1))
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    datamodule = hydra.utils.instantiate(cfg.data, device="cpu", _convert_="all")
    datamodule.setup("fit")
    model = build_model(cfg, datamodule.features, datamodule.target)
    targets = (
        None if datamodule.target is None else datamodule.train_frame[datamodule.target].to_numpy()
    )
    model.attach_data(datamodule.transform, targets)
    return Prepared(cfg, model, datamodule)


def fresh_copy(prepared: Prepared) -> Prepared:
    """Same initial weights, and a data module that will serve the same epochs from the start."""
    datamodule = copy.deepcopy(prepared.datamodule)
    datamodule.epochs_served = 0
    return Prepared(prepared.cfg, copy.deepcopy(prepared.model), datamodule)


class FitClock(pl.Callback):
    """Times the training loop alone: first epoch start to last epoch end (wall and CPU)."""

    def __init__(self) -> None:
        self.timing = Timing(math.nan, math.nan)
        self._start = _clock()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = _clock()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.timing = Timing.since(*self._start)


def lean_fit(prepared: Prepared, epochs: int) -> Timing:
    """``Trainer.fit`` with checkpointing, loggers, callbacks and validation off."""
    import hydra

    clock = FitClock()
    trainer = hydra.utils.instantiate(
        prepared.cfg.trainer,
        max_epochs=epochs,
        callbacks=[clock],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        default_root_dir=tempfile.mkdtemp(prefix="kinsynth-bench-"),
    )
    torch.manual_seed(int(prepared.cfg.seed))
    trainer.fit(prepared.model, datamodule=prepared.datamodule)
    return clock.timing


def normal_fit(prepared: Prepared, epochs: int, output_dir: Path) -> Timing:
    """``Trainer.fit`` as run_training sets it up: the config's checkpointing, loggers, validation.

    The evaluation callback is left out: it runs once after the last epoch and is timed by the
    full run instead, so this figure is the per-epoch cost of a normal run.
    """
    import hydra

    from kinsynth.train.run import _instantiate_group

    callbacks = [
        hydra.utils.instantiate(c)
        for name, c in prepared.cfg.callbacks.items()
        if name != "evaluation" and c is not None and "_target_" in c
    ]
    clock = FitClock()
    trainer = hydra.utils.instantiate(
        prepared.cfg.trainer,
        max_epochs=epochs,
        callbacks=[*callbacks, clock],
        logger=_instantiate_group(prepared.cfg.get("logger")) or False,
        enable_progress_bar=False,
        default_root_dir=str(output_dir),
    )
    torch.manual_seed(int(prepared.cfg.seed))
    trainer.fit(prepared.model, datamodule=prepared.datamodule)
    return clock.timing


def bare_loop(
    prepared: Prepared, epochs: int, optimizer_factory: Callable[..., torch.optim.Optimizer]
) -> Timing:
    """Seconds of a plain loop: same batches, same ELBO, same optimiser, no Lightning."""
    model, dm = prepared.model, prepared.datamodule
    optimizer = optimizer_factory(params=model.parameters())
    beta = model.beta
    model.train()
    torch.manual_seed(int(prepared.cfg.seed))
    start = _clock()
    for epoch in range(epochs):
        weight = kl_weight(beta, epoch, model.warmup_epochs)
        for x, y in dm._next_epoch_batches():
            data, condition = model.split_batch(x, y)
            loss = model.elbo(data, condition, weight).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return Timing.since(*start)


def max_weight_difference(a: torch.nn.Module, b: torch.nn.Module) -> float:
    """Largest absolute difference between two models' parameters (0.0 = identical training)."""
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return max(float((p.detach() - q.detach()).abs().max()) for p, q in pairs)


def full_run(cfg: DictConfig, output_dir: Path) -> tuple[dict[str, float], Timing]:
    """``run_training`` as train.py calls it; returns (metrics.json, time of the whole run)."""
    from kinsynth.train.run import run_training

    start = _clock()
    metrics = run_training(cfg, output_dir)
    return metrics, Timing.since(*start)


# ---- generation --------------------------------------------------------------------------------


@contextlib.contextmanager
def _timer(store: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    store[key] = store.get(key, 0.0) + time.perf_counter() - start


@torch.no_grad()
def sample_breakdown(model: Any, n: int, seed: int = 0) -> dict[str, float]:
    """Seconds spent in each part of ``model.sample(n)``, run part by part as sample() runs them.

    ``condition`` (drawing and scaling targets, conditional models), ``decoder``
    (``sample_scaled``), ``inverse_transform`` (``_unscale``: to numpy, back to original units) and
    ``dataframe`` (building the frame). ``total`` is one call of the public ``sample``.
    """
    times: dict[str, float] = {}
    model.eval()
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    condition, targets = None, None
    with _timer(times, "condition"):
        if model.conditional:
            targets = model.resolve_targets(n, None, rng)
            condition = model._scale(targets[:, None], model.condition_columns)
    with _timer(times, "decoder"):
        scaled = model.sample_scaled(n, condition, generator)
    with _timer(times, "inverse_transform"):
        values = model._unscale(scaled, model.data_columns)
    with _timer(times, "dataframe"):
        frame = pd.DataFrame(values, columns=model.data_columns)
        if targets is not None:
            frame[model.target] = targets
    del frame, values, scaled
    gc.collect()
    with _timer(times, "total"):
        model.sample(n, seed=seed)
    return times


def sample_peak_mib(model: Any, n: int) -> float:
    """Peak Python/numpy allocation (tracemalloc) of one ``sample(n)`` call, in MiB.

    torch's own CPU allocator is invisible to tracemalloc, so this counts the numpy arrays and the
    DataFrame, which dominate: the decoder's output is n x columns float32.
    """
    gc.collect()
    tracemalloc.start()
    try:
        model.sample(n, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# ---- simulator ---------------------------------------------------------------------------------


def simulator_throughput(n: int) -> tuple[float | None, str]:
    """Configurations/s from ``kinsynth.simulate.measure_throughput``, when that exists."""
    try:
        from kinsynth.simulate import measure_throughput  # type: ignore[attr-defined]
    except ImportError as error:
        return None, f"skipped: kinsynth.simulate.measure_throughput not importable ({error})"
    cores = os.cpu_count() or 1
    rates = [float(measure_throughput(n, workers=w)) for w in (1, cores)]
    note = f"{n} configurations on {cores} worker(s), incl. start-up; 1 worker: {rates[0]:,.0f}/s"
    return rates[1], note


# ---- the whole benchmark -----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """Sizes of one benchmark run; :data:`FULL` is the documented one, :data:`QUICK` CI-sized."""

    epochs: int = 400  # the full thesis run (run_training, evaluation included)
    timing_epochs: int = 100  # each interleaved ours/bare measurement
    repeats: int = 3  # interleaved rounds; the best of them is reported
    cvae_epochs: int | None = None  # default model's run; None = its config (300)
    sample_rows: int = 1_000_000
    simulate_n: int = 5000
    data: str | None = None  # None: the reference CSV when present, else the embedded data set


FULL = Options()
QUICK = Options(
    epochs=10, timing_epochs=10, repeats=2, cvae_epochs=3, sample_rows=100_000, simulate_n=100
)

THESIS_VAE = ["experiment=thesis", "model=vae"]


def default_data_path() -> str | None:
    """The thesis data set where the checkout has it (../shared/data), else the embedded default."""
    reference = CONF_DIR.parents[1] / "shared" / "data" / "pathway_I_5000.csv"
    return str(reference) if reference.is_file() else None


def _data_override(options: Options) -> list[str]:
    path = options.data if options.data is not None else default_data_path()
    return [] if path is None else [f"data.path={path}"]


def _best(timings: list[Timing]) -> Timing:
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


def _optimizer_factory(cfg: DictConfig, **extra: Any) -> Callable[..., torch.optim.Optimizer]:
    import hydra

    factory = hydra.utils.instantiate(cfg.optimizer)
    return functools.partial(factory, **extra) if extra else factory


def _fused_supported() -> bool:
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def bench_training(report: Report, options: Options, work: Path, say: Callable[[str], None]) -> Any:
    """Thesis VAE: full run, normal-run trainer, lean trainer, bare loops. Returns the model."""
    from kinsynth.models import load

    data = _data_override(options)
    cfg = compose([*THESIS_VAE, *data, f"trainer.max_epochs={options.timing_epochs}"], work / "t")
    prepared = prepare(cfg)
    steps_per_epoch = prepared.datamodule.steps_per_epoch
    steps = steps_per_epoch * options.timing_epochs
    report.context["thesis_vae"] = {
        "train_rows": len(prepared.datamodule.train_x),
        "batch_size": prepared.datamodule.batch_size,
        "steps_per_epoch": steps_per_epoch,
        "timing_epochs": options.timing_epochs,
        "repeats": options.repeats,
    }
    variants: dict[str, Callable[[Prepared], Timing]] = {
        "ours, normal run": lambda p: normal_fit(p, options.timing_epochs, work / "normal"),
        "ours, lean": lambda p: lean_fit(p, options.timing_epochs),
        "bare loop, same Adam": lambda p: bare_loop(
            p, options.timing_epochs, _optimizer_factory(cfg)
        ),
    }
    if _fused_supported():
        variants["bare loop, fused Adam"] = lambda p: bare_loop(
            p, options.timing_epochs, _optimizer_factory(cfg, fused=True)
        )
    timings: dict[str, list[Timing]] = {name: [] for name in variants}
    trained: dict[str, Any] = {}
    for round_ in range(options.repeats):
        for name, run in variants.items():
            copy_ = fresh_copy(prepared)
            timings[name].append(run(copy_))
            trained[name] = copy_.model
            say(f"  round {round_ + 1}/{options.repeats} {name}: {timings[name][-1].wall:.2f} s")
    best = {name: _best(t) for name, t in timings.items()}
    rate = {name: steps / t.wall for name, t in best.items()}
    cpu_rate = {name: steps / t.cpu for name, t in best.items()}
    same = max_weight_difference(trained["ours, lean"], trained["bare loop, same Adam"])

    # the real path once, at full length: run_training, evaluation and files included
    full_cfg = compose([*THESIS_VAE, *data, f"trainer.max_epochs={options.epochs}"], work / "full")
    metrics, whole = full_run(full_cfg, work / "full")
    full_steps = steps_per_epoch * int(metrics.get("epochs", options.epochs))
    fit_seconds = float(metrics.get("fit_seconds", math.nan))
    say(f"  full run: fit {fit_seconds:.1f} s, whole run {whole.wall:.1f} s")

    notebook_target = TARGET_SPEEDUP_OVER_NOTEBOOK * NOTEBOOK_STEPS_PER_SECOND
    report.add(
        "thesis VAE: ours, full run (run_training)",
        full_steps / fit_seconds,
        "steps/s",
        f"{options.epochs} epochs; val + checkpoints every 10 epochs, TensorBoard; whole run "
        f"{whole.wall:.1f} s wall incl. evaluation {whole.wall - fit_seconds:.1f} s",
    )
    for name in variants:
        report.add(
            f"thesis VAE: {name}",
            rate[name],
            "steps/s",
            f"best of {options.repeats} x {steps} steps; {cpu_rate[name]:,.0f} steps per CPU-s",
            target=f">= {notebook_target:,.0f}" if name == "ours, normal run" else "",
            passed=rate[name] >= notebook_target if name == "ours, normal run" else None,
        )
    for ours in ("ours, normal run", "ours, lean"):
        ratio = rate["bare loop, same Adam"] / rate[ours]
        cpu_ratio = cpu_rate["bare loop, same Adam"] / cpu_rate[ours]
        report.add(
            f"ratio bare (same Adam) / {ours}",
            ratio,
            "x",
            f"by CPU time {cpu_ratio:.2f}",
            target=f"<= {TARGET_BARE_OVER_OURS}",
            passed=ratio <= TARGET_BARE_OVER_OURS,
        )
    report.add(
        "ratio ours (normal run) / thesis notebook",
        rate["ours, normal run"] / NOTEBOOK_STEPS_PER_SECOND,
        "x",
        f"notebook loop measured at {NOTEBOOK_STEPS_PER_SECOND:.0f} steps/s on this machine",
        target=f">= {TARGET_SPEEDUP_OVER_NOTEBOOK}",
        passed=rate["ours, normal run"] / NOTEBOOK_STEPS_PER_SECOND
        >= TARGET_SPEEDUP_OVER_NOTEBOOK,
    )
    report.add(
        "max |weight difference| ours (lean) vs bare",
        same,
        "",
        "same init, same batches, same noise: 0 means the loops do identical arithmetic",
    )
    return load(work / "full")


def bench_default_model(report: Report, options: Options, work: Path, say: Any) -> Any:
    """The default model (``python train.py``: beta-CVAE, quantile transform, batch 256)."""
    from kinsynth.models import load

    overrides = [*_data_override(options), "callbacks.evaluation.figures=false"]
    if options.cvae_epochs is not None:
        overrides.append(f"trainer.max_epochs={options.cvae_epochs}")
    cfg = compose(overrides, work / "cvae")
    metrics, whole = full_run(cfg, work / "cvae")
    n_train = int(metrics.get("n_train", 0))
    steps = math.ceil(n_train / int(cfg.data.batch_size)) * int(metrics.get("epochs", 0))
    report.add(
        "default model: ours, full run (run_training)",
        steps / float(metrics.get("fit_seconds", math.nan)),
        "steps/s",
        f"{int(metrics.get('epochs', 0))} epochs x batch {cfg.data.batch_size}, hidden "
        f"{list(cfg.model.hidden)}; whole run {whole.wall:.1f} s",
    )
    say(f"  default model: whole run {whole.wall:.1f} s")
    return load(work / "cvae")


def bench_ppca(report: Report, options: Options, work: Path, say: Any) -> None:
    """PPCA (thesis setting, latent 11): the real path and the closed-form fit alone."""
    cfg = compose(["experiment=thesis", "model=ppca", *_data_override(options)], work / "ppca")
    metrics, whole = full_run(cfg, work / "ppca")
    report.add(
        "PPCA fit: ours, full run (run_training)",
        float(metrics.get("fit_seconds", math.nan)),
        "s",
        f"Trainer.fit incl. checkpoint; whole run {whole.wall:.2f} s incl. evaluation",
    )
    prepared = prepare(cfg)
    dm = prepared.datamodule
    # the same matrix PPCAModel.training_step fits: generated columns, then the condition
    rows = prepared.model._stack(*prepared.model.split_batch(dm.train_x, dm.train_y))
    fits = []
    for _ in range(max(options.repeats, 3)):
        start = _clock()
        prepared.model.fit_arrays(rows.numpy().astype(np.float64))
        fits.append(Timing.since(*start))
    report.add("PPCA fit: closed form alone (fit_arrays)", _best(fits).wall, "s", "sklearn PCA")
    say(f"  ppca: whole run {whole.wall:.2f} s")


def bench_sampling(
    report: Report, name: str, model: Any, options: Options, say: Any
) -> None:
    """Rows/s of ``model.sample`` and where the time goes; peak numpy memory of one call."""
    n = options.sample_rows
    model.sample(1000, seed=0)  # warm-up: first-call allocations and lazy imports
    runs = [sample_breakdown(model, n) for _ in range(max(options.repeats, 2))]
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    parts = {k: v for k, v in best.items() if k != "total"}
    dominant = max(parts, key=parts.get)  # type: ignore[arg-type]
    share = ", ".join(f"{k} {v / sum(parts.values()):.0%}" for k, v in parts.items() if v > 0)
    rate = n / best["total"]
    report.add(
        f"sample(): {name}",
        rate,
        "rows/s",
        f"{n:,} rows x {len(model.data_columns) + len(model.condition_columns)} columns; "
        f"{share}; dominant: {dominant}",
        target=f">= {TARGET_SAMPLE_ROWS_PER_SECOND:,}",
        passed=rate >= TARGET_SAMPLE_ROWS_PER_SECOND,
    )
    report.add(
        f"sample(): {name}, peak numpy/pandas memory",
        sample_peak_mib(model, n),
        "MiB",
        f"tracemalloc over one sample({n:,}) call",
    )
    say(f"  sampling {name}: {rate:,.0f} rows/s ({share})")


def bench_simulator(report: Report, options: Options, say: Any) -> None:
    rate, note = simulator_throughput(options.simulate_n)
    report.add(
        "simulator (kinsynth.simulate.measure_throughput)",
        math.nan if rate is None else rate,
        "configurations/s",
        note,
    )
    say(f"  simulator: {note or rate}")


def run(options: Options, say: Callable[[str], None] = print) -> Report:
    """Every measurement, side by side, in this process."""
    report = Report(context=machine_context())
    report.context["options"] = options.__dict__
    with tempfile.TemporaryDirectory(prefix="kinsynth-bench-") as tmp:
        work = Path(tmp)
        say("thesis VAE training (ours vs bare loop) ...")
        thesis_vae = bench_training(report, options, work, say)
        say("default model ...")
        default = bench_default_model(report, options, work, say)
        say("PPCA ...")
        bench_ppca(report, options, work, say)
        say("generation ...")
        bench_sampling(report, "default model (quantile)", default, options, say)
        bench_sampling(report, "thesis vae (no transform)", thesis_vae, options, say)
        say("simulator ...")
        bench_simulator(report, options, say)
    report.add("peak resident memory of this process", peak_rss_mib(), "MiB", "getrusage maxrss")
    report.context["load_average_1min_end"] = machine_context()["load_average_1min"]
    return report


# ---- the thesis sweep --------------------------------------------------------------------------


THESIS_SWEEP = [
    "-m",
    "experiment=thesis",
    "model=ppca,vae,cvae",
    "latent_dim=3,5,7,9,11,13,15",
    "hydra/launcher=local_parallel",
    # the thesis models are not joint: the default c2st_auc_joint objective does not exist for them
    "optimized_metric=null",
]


def time_thesis_sweep(
    extra: list[str], data: str | None, sweep_dir: Path, root: Path = CONF_DIR.parent
) -> tuple[float, int, int]:
    """Wall seconds of the whole thesis sweep through train.py; (seconds, jobs, failed jobs)."""
    import os
    import subprocess

    path = data if data is not None else default_data_path()
    command = [
        sys.executable,
        "train.py",
        *THESIS_SWEEP,
        *([] if path is None else [f"data.path={path}"]),
        f"hydra.sweep.dir={sweep_dir}",
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CI": "true"}
    start = time.perf_counter()
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    jobs = [d for d in sweep_dir.iterdir() if d.is_dir() and d.name.isdigit()]
    failed = sum(1 for d in jobs if (d / "error.txt").is_file())
    return seconds, len(jobs), failed
