"""The campaign loop: initial random designs, then cycles of propose -> snap -> build -> record."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from kinsynth.campaign import progress
from kinsynth.campaign.judge import JUDGE_COLUMNS, library_judge
from kinsynth.campaign.landscape import Landscape, make_landscape
from kinsynth.campaign.schedule import batch_sizes
from kinsynth.campaign.space import Space, design_keys, drop_built
from kinsynth.campaign.strategies import Strategy, strategy_from_config
from kinsynth.campaign.strategies.base import top_up
from kinsynth.campaign.strategies.random_designs import RandomStrategy
from kinsynth.core.counts import whole_number
from kinsynth.core.errors import KinsynthError
from kinsynth.core.threads import use_threads
from kinsynth.core.writing import overwrite_flag, save_figure, write_csv
from kinsynth.data.location import is_unset
from kinsynth.runs.contract import (
    BUILT,
    CAMPAIGN,
    CAMPAIGN_FIGURE,
    CAMPAIGN_FILES,
    CYCLES,
    write_marker,
)
from kinsynth.runs.lock import RunDirectoryLock

log = logging.getLogger(__name__)
#: rows batch_diversity compares at most: all pairs of 100,000 designs would take 37 GiB, of this
#: many 16 MB; a seeded sample of them estimates the mean pairwise distance without bias
DIVERSITY_ROWS = 2000


def batch_diversity(designs: pd.DataFrame, space: Space,
                    max_rows: int = DIVERSITY_ROWS) -> tuple[float, int]:
    """Mean pairwise distance in standardised log space (0 when one design is built n times),
    and the number of designs it compared: a batch above ``max_rows`` is sampled (seeded)."""
    if len(designs) < 2:
        return float("nan"), len(designs)
    from scipy.spatial.distance import pdist

    if len(designs) > max_rows:
        keep = np.random.default_rng(0).choice(len(designs), size=max_rows, replace=False)
        designs = designs.iloc[np.sort(keep)]
    return float(pdist(space.scaled_features(designs)).mean()), len(designs)


def _check_sizes(cfg: DictConfig) -> tuple[int, list[int], int]:
    """initial_designs, each cycle's batch size (designs_per_cycle: one size for every cycle,
    or a list of one per cycle, as van Lent et al.'s schedules) and cycles."""
    n_initial = whole_number("initial_designs", cfg.get("initial_designs"))
    cycles = whole_number("cycles", cfg.get("cycles"), minimum=0)
    return n_initial, batch_sizes(cfg.get("designs_per_cycle"), cycles), cycles


def run_campaign(cfg: DictConfig, output_dir: str | Path) -> pd.DataFrame:
    """Run the configured campaign into ``output_dir``; returns the cycles table.

    The directory is locked for the whole campaign, with train.py's run lock: a second campaign
    into it is refused at once and writes nothing there. Every cycle's results are written as it
    finishes; ``resume=<dir>`` continues a stopped campaign (or a finished one whose ``cycles``
    was raised) exactly where it stopped.
    """
    with RunDirectoryLock(Path(output_dir)):
        return _run_locked(cfg, Path(output_dir))


def _run_locked(cfg: DictConfig, output_dir: Path) -> pd.DataFrame:
    resume = not is_unset(cfg.get("resume"))
    _claim_directory(output_dir, resume, overwrite_flag(cfg.get("overwrite", False)))
    n_initial, per_cycle, cycles = _check_sizes(cfg)
    # a lone bo campaign on 2 cores proposes about twice as fast with threads=2 (docs/dbtl.md)
    use_threads(cfg.get("threads"))
    landscape = make_landscape(cfg)
    space, target = landscape.space, landscape.target
    strategy = strategy_from_config(cfg.strategy, space, target, int(cfg.seed))
    if cycles and n_initial < strategy.min_measured:
        raise KinsynthError(f"initial_designs={n_initial}: strategy={strategy.name} fits on at "
                            f"least {strategy.min_measured} built designs with a flux; expected "
                            f"initial_designs >= {strategy.min_measured}")
    settings = progress.identity(cfg)
    done = progress.load(output_dir, settings) if resume else None
    if done is not None and done.cycles_done > cycles:
        raise KinsynthError(f"resume={output_dir}: the campaign already ran "
                            f"{done.cycles_done - 1} cycles; raise cycles= to continue it")
    if done is None:
        _announce_library(space, n_initial, per_cycle, cycles)
    pool = landscape.reference()
    top = landscape.true_top()
    library_max = landscape.maximum() if top is not None else None
    judge = library_judge(cfg.get("metrics") or {}, landscape,
                          int(cfg.pool.get("max_enumerate", 20000)), int(cfg.seed))
    rng = np.random.default_rng([int(cfg.seed), 1])
    state = done or progress.Progress(pd.DataFrame(), [], {}, {})
    if done is not None:
        progress.restore(rng, done.rng_state)
        progress.restore(landscape.rng, done.builder_state)
        (output_dir / CAMPAIGN).unlink(missing_ok=True)  # continued: no longer finished
        log.info("resuming %s after cycle %d", output_dir, done.cycles_done - 1)
    output_dir.mkdir(parents=True, exist_ok=True)
    writer = _tensorboard(output_dir, strategy.name)
    for cycle in range(state.cycles_done, cycles + 1):
        started = time.perf_counter()
        size = per_cycle[cycle - 1] if cycle else n_initial
        batch = _propose(cycle, state.built, strategy, space, target, n_initial, size, rng)
        propose_seconds = time.perf_counter() - started
        started = time.perf_counter()
        measured, true_flux, valid = landscape.build(batch)
        batch = batch.assign(**{target: np.where(valid, measured, np.nan)}, valid=valid,
                             true_flux=true_flux, cycle=cycle)
        state.built = pd.concat([state.built, batch], ignore_index=True)
        row = _cycle_row(cycle, state.built, batch, pool, landscape, top)
        # the paper's figure of merit: a judge refitted on every measured build (judge.py)
        row.update(judge.score(state.built, space, target) if judge is not None else
                   dict.fromkeys(JUDGE_COLUMNS, np.nan))
        row.update(propose_seconds=propose_seconds, build_seconds=time.perf_counter() - started)
        state.rows.append(row)
        state.rng_state = rng.bit_generator.state
        state.builder_state = landscape.rng.bit_generator.state
        _write_results(output_dir, state, pool, library_max, settings)
        _log_cycle(cycle, len(batch), row, space)
        if writer is not None:
            for key, value in row.items():
                if key != "cycle" and np.isfinite(value):
                    writer.add_scalar(f"campaign/{key}", value, cycle)
    if writer is not None:
        writer.close()
    return _finish(output_dir, state, pool, library_max, top, landscape, strategy.name,
                   int(cfg.seed))


def _claim_directory(output_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse a directory holding another campaign, or clear it for ``overwrite=true``."""
    if resume:
        return
    finished = (output_dir / CAMPAIGN).exists()
    stopped = (output_dir / progress.STATE).exists()
    if (finished or stopped) and not overwrite:
        what = "a finished campaign" if finished else "a stopped campaign"
        raise KinsynthError(f"{output_dir}: holds {what} (resume={output_dir} continues it with "
                            "more cycles, overwrite=true replaces it)")
    if overwrite:  # only what a campaign writes: its files and its TensorBoard events
        for name in (CAMPAIGN, *CAMPAIGN_FILES):
            (output_dir / name).unlink(missing_ok=True)
        for events in _event_files(output_dir / "tensorboard"):
            events.unlink()


def _propose(cycle: int, built: pd.DataFrame, strategy: Strategy, space: Space,
             target: str, n_initial: int, per_cycle: int,
             rng: np.random.Generator) -> pd.DataFrame:
    """Cycle 0's random library, else the strategy's batch (random while too few have a flux)."""
    if cycle == 0:
        return _initial_library(space, n_initial, rng)
    measured = int(np.isfinite(built[target].to_numpy(float)).sum())
    if measured < strategy.min_measured:
        log.warning("cycle %d: %d built design(s) have a flux, strategy=%s needs %d; this "
                    "batch is random", cycle, measured, strategy.name, strategy.min_measured)
        return RandomStrategy(space, target).propose(built, per_cycle, rng)
    return strategy.propose(built, per_cycle, rng)


def _initial_library(space: Space, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Cycle 0's ``n`` uniform random designs, each built once: a small library repeats designs
    in ``n`` draws, and the repeats are replaced by unbuilt ones while the library has any."""
    designs = space.snap(space.sample(n, rng))
    distinct = drop_built(designs, designs.iloc[:0], space.columns)
    if len(distinct) == len(designs):
        return designs
    return space.snap(top_up(distinct.reset_index(drop=True), designs.iloc[:0], n, space, rng))


def _announce_library(space: Space, n_initial: int, per_cycle: list[int],
                      cycles: int) -> None:
    """One line before the first build when the library holds fewer designs than the campaign
    plans to build: each design is built once, so the last cycles build nothing."""
    planned = n_initial + sum(per_cycle)
    size = space.library_size
    if not space.discrete or size >= planned:
        return
    left, counts = int(size), []
    for want in [n_initial, *per_cycle]:
        counts.append(min(want, left))
        left -= counts[-1]
    empty = [c for c, k in enumerate(counts) if k == 0]
    after = (f"; cycles {empty[0]}-{cycles} build nothing" if len(empty) > 1 else
             f"; cycle {empty[0]} builds nothing" if empty else "")
    batches = (f"{cycles} cycles x {per_cycle[0]}" if len(set(per_cycle)) == 1 else
               f"cycles of {per_cycle}")
    log.warning("the library holds %d design(s) (space.levels x space.vary), fewer than the %d "
                "strains this campaign plans (initial_designs=%d + %s): each design is built "
                "once, so at most %d are built%s", int(size), planned, n_initial, batches,
                int(size), after)


def _log_cycle(cycle: int, n_new: int, row: dict[str, float], space: Space) -> None:
    """What this cycle really built, and where the campaign stands."""
    if n_new == 0:
        log.info("cycle %d: built nothing (no unbuilt design left to draw from the library of "
                 "%d; %d built in all), best %.4g, top designs %d", cycle,
                 int(space.library_size), row["n_built"], row["best_flux"], row["cumulative_top"])
        return
    log.info("cycle %d: built %d (%d in all), best %.4g, top designs %d", cycle, n_new,
             row["n_built"], row["best_flux"], row["cumulative_top"])


def reaches(flux: np.ndarray, threshold: float, pool_flux: np.ndarray) -> np.ndarray:
    """Which noise-free fluxes count as "top": above the pool's quantile ``threshold``, or equal
    to it when the threshold is the pool's best flux (a small library, where the quantile is the
    best design itself and "above" would leave nothing to find)."""
    flux = np.nan_to_num(np.asarray(flux, float), nan=-np.inf)
    finite = pool_flux[np.isfinite(pool_flux)]
    at_best = len(finite) > 0 and threshold >= finite.max()
    return (flux >= threshold) if at_best else (flux > threshold)


def _table(state: progress.Progress, pool: Any, library_max: float | None) -> pd.DataFrame:
    table = pd.DataFrame(state.rows)
    landscape_max = landscape_maximum(pool.flux, state.built["true_flux"].to_numpy(float),
                                      library_max)
    table["simple_regret"] = landscape_max - table["best_true_flux"]
    return table


def _write_results(output_dir: Path, state: progress.Progress, pool: Any,
                   library_max: float | None, settings: dict[str, Any]) -> None:
    """The tables a user reads and the state ``resume=`` reads, each written atomically."""
    write_csv(_table(state, pool, library_max), output_dir / CYCLES)
    write_csv(state.built.drop(columns="true_flux"), output_dir / BUILT)
    progress.save(output_dir, state, settings)


def _finish(output_dir: Path, state: progress.Progress, pool: Any, library_max: float | None,
            top: set | None, landscape: Landscape, name: str, seed: int) -> pd.DataFrame:
    """The figure and, last and atomically, the finished marker ``campaign.json``."""
    table, built, target = _table(state, pool, library_max), state.built, landscape.target
    found = f"top{landscape.top_k}_found"
    _figure(built, pool, target, output_dir / CAMPAIGN_FIGURE, name)
    reached = np.flatnonzero(np.nan_to_num(built["true_flux"].to_numpy(float), nan=-np.inf)
                             >= pool.q99)
    landscape_max = landscape_maximum(pool.flux, built["true_flux"].to_numpy(float), library_max)
    summary = {
        "strategy": name, "seed": seed, "pool_q95": pool.q95, "pool_q99": pool.q99,
        "cumulative_top": int(table["cumulative_top"].iloc[-1]),
        "best_true_flux": float(table["best_true_flux"].iloc[-1]),
        # strains built (in build order) until one reached the pool's 99th percentile
        "strains_to_q99": int(reached[0]) + 1 if len(reached) else None,
        found: None if top is None else int(table[found].iloc[-1]),
        f"random_{found}": None if top is None else float(table[f"random_{found}"].iloc[-1]),
        "top1_found": int(table["top1_found"].iloc[-1]),
        # the judge's last figures (judge.py); None where it is off
        "top100_predicted": _finite_or_none(table["top100_predicted"].iloc[-1], int),
        "library_r2": _finite_or_none(table["library_r2"].iloc[-1], float),
        # exact on an enumerated library; else the best of the pool and of this campaign's builds
        # (scripts/dbtl_report.py recomputes it with every campaign of a sweep)
        "landscape_max": landscape_max, "landscape_max_exact": library_max is not None,
        "simple_regret": float(table["simple_regret"].iloc[-1]),
    }
    write_marker(output_dir / CAMPAIGN, summary)  # last, atomically: the campaign is finished
    return table


def _cycle_row(cycle: int, built: pd.DataFrame, batch: pd.DataFrame, pool: Any,
               landscape: Landscape, top: set | None) -> dict[str, float]:
    space, target = landscape.space, landscape.target
    found = f"top{landscape.top_k}_found"
    true_all = built["true_flux"].to_numpy(float)
    true_batch = batch["true_flux"].to_numpy(float)
    keys = design_keys(built, space.columns)
    top_keys = {k for k, hit in zip(keys, reaches(true_all, pool.q95, pool.flux), strict=True)
                if hit}
    top1_keys = {k for k, hit in zip(keys, reaches(true_all, pool.q99, pool.flux), strict=True)
                 if hit}
    some = len(batch) > 0  # a library can run out: an empty batch has no means, only NaN
    measured = built[target].to_numpy(float)
    diversity, diversity_n = batch_diversity(batch, space)
    row = {
        "cycle": cycle,
        "n_built": len(built),
        "best_flux": float(np.nanmax(measured)) if np.isfinite(measured).any() else np.nan,
        "best_true_flux": float(np.nanmax(true_all)) if np.isfinite(true_all).any() else np.nan,
        "batch_mean_flux": float(np.nanmean(batch[target])) if batch["valid"].any() else np.nan,
        "batch_valid_fraction": float(batch["valid"].mean()) if some else np.nan,
        "batch_top_fraction": (float(np.mean(reaches(true_batch, pool.q95, pool.flux)))
                               if some else np.nan),
        "cumulative_top": len(top_keys),
        "top1_found": len(top1_keys),  # distinct built designs above the pool's q99
        "batch_diversity": diversity,
        "diversity_n": diversity_n,  # designs it compared (a sample of a large batch)
        found: np.nan,
        # what uniform random designs would hold after as many builds (exact, hypergeometric)
        f"random_{found}": np.nan,
    }
    if top is not None:
        row[found] = len(top & set(design_keys(built, space.columns)))
        expected = landscape.random_expected(len(built))
        row[f"random_{found}"] = np.nan if expected is None else expected
    return row


def _finite_or_none(value: float, kind: type) -> Any:
    return kind(value) if np.isfinite(value) else None


def landscape_maximum(pool_flux: np.ndarray, built_flux: np.ndarray,
                      library_max: float | None = None) -> float:
    """What simple regret is measured from: the library's exact maximum when it is known, else
    the best noise-free flux of the reference pool and of every design built."""
    if library_max is not None:
        return float(library_max)
    both = np.concatenate([np.asarray(pool_flux, float), np.asarray(built_flux, float)])
    return float(np.nanmax(both))


def _tensorboard(output_dir: Path, strategy: str) -> Any:
    """The campaign's event writer, in ``tensorboard/<strategy>/``: TensorBoard names a run by
    its folder, so a lone campaign shows as ``<time>/tensorboard/generative``."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(output_dir / "tensorboard" / strategy))


def _event_files(folder: Path) -> list[Path]:
    """A campaign's event files: in ``folder`` and in its strategy folders. A folder that is a
    link is not a campaign's (one never writes through a link), so nothing in it is listed."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    inside = [d for d in folder.iterdir() if d.is_dir() and not d.is_symlink()]
    return [events for d in (folder, *inside) for events in d.glob("events.out.tfevents.*")]


def _figure(built: pd.DataFrame, pool: Any, target: str, path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    valid = built[built["valid"]]
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(valid))
    ax.scatter(valid["cycle"] + jitter, valid[target], s=8, c="black", alpha=0.6,
               label="built (measured)")
    best = built.groupby("cycle")[target].max().cummax()
    ax.plot(best.index, best.to_numpy(), color="cyan", marker="o", label="best so far")
    ax.axhline(pool.q95, color="grey", ls="--", lw=1, label="top designs (pool q95)")
    ax.set_xlabel("cycle")
    ax.set_ylabel(target)
    ax.set_title(f"{name}: flux per cycle")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
