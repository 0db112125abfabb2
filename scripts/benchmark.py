"""Performance benchmark: ``python scripts/benchmark.py [--quick] [--sweep] [--scale] [--cycles]
[--speed] [--train-command] [--split] [--sweep-only] [--targets]``.

Prints one table of side-by-side figures (our training vs a bare PyTorch loop, PPCA, sampling,
simulator, memory) measured in one process, then the commands a user waits for, each beside its
reference in the same run (train.py of the thesis VAE against a bare loop, both as processes;
generate.py 1,000,000 rows; the evaluation against the training of a 20-epoch run); --speed prints
only those, --train-command only the first; --split measures where a train.py run spends its time;
--sweep also times the thesis sweep end to end, with the joblib and the vectorized launcher
(--sweep-only: only those);
--scale times reading, training, evaluation and generation as the rows grow (only those rows);
--cycles times one DBTL cycle of each strategy on each landscape (only those rows);
--targets runs every row that has a target a user waits for, in one run (the commands, the
thesis sweep with both launchers, the DBTL cycles).
The code is in scripts/bench/; docs/performance.md explains every row.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized run (about a minute)")
    parser.add_argument("--data", default=None, help="CSV to train on (default: thesis data set)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the full thesis run")
    parser.add_argument("--timing-epochs", type=int, default=None, help="epochs per timed loop")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (best kept)")
    parser.add_argument("--rows", type=int, default=None, help="rows per sample() call")
    parser.add_argument("--sweep", action="store_true", help="also time the thesis sweep")
    parser.add_argument("--targets", action="store_true",
                        help="every row with a target a user waits for, in one run: train.py vs "
                        "a bare loop, generate.py, the evaluation, the thesis sweep with both "
                        "launchers, a DBTL cycle of each learner (about 10 minutes quiet)")
    parser.add_argument("--sweep-only", action="store_true",
                        help="only the thesis sweep, with local_parallel then vectorized")
    parser.add_argument("--sweep-args", nargs="*", default=[], help="extra sweep overrides")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--scale", action="store_true",
                        help="only the scale rows: 5k/50k/300k-row runs, generate.py 100k/3M rows")
    parser.add_argument("--caps", action="store_true",
                        help="only how far the evaluation caps move the reference's figures")
    parser.add_argument("--cycles", action="store_true",
                        help="only the DBTL strategies' seconds per cycle (50 of 200 built)")
    parser.add_argument("--speed", action="store_true",
                        help="only the commands' rows: generate.py 1M rows, evaluation vs training")
    parser.add_argument("--train-command", action="store_true",
                        help="only train.py experiment=thesis model=vae against a bare loop, "
                        "both as processes")
    parser.add_argument("--train-epochs", type=int, nargs="+", default=[200, 400],
                        help="epochs of the train.py command rows")
    parser.add_argument("--split", action="store_true",
                        help="only where a train.py run of the thesis VAE spends its time")
    parser.add_argument("--scale-sizes", type=int, nargs="+", default=[5_000, 50_000, 300_000],
                        help="table sizes of --scale")
    parser.add_argument("--scale-generate", type=int, nargs=2, default=[100_000, 3_000_000],
                        help="generate.py rows of --scale (small, large)")
    args = parser.parse_args()
    # every row measures a first run on its data split: the user's baseline cache stays out of it
    cache = tempfile.TemporaryDirectory(prefix="kinsynth-cache-")
    os.environ["KINSYNTH_CACHE_DIR"] = cache.name

    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning", "lightning_fabric", "kinsynth"):
        logging.getLogger(name).setLevel(logging.ERROR)

    from bench.report import Report, machine_context

    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if args.caps:
        from bench import caps
        from bench.configs import REFERENCE_CSV

        data = Path(args.data) if args.data else REFERENCE_CSV
        with tempfile.TemporaryDirectory(prefix="kinsynth-caps-") as tmp:
            print(caps.run(data, Path(tmp), say))
        return 0
    if args.cycles:
        from bench import cycles

        report = Report(context=machine_context())
        cycles.run(report, say)
        return _publish(report, args.json)
    if args.scale:
        from bench import scale

        report = Report(context=machine_context())
        with tempfile.TemporaryDirectory(prefix="kinsynth-scale-") as tmp:
            scale.run(report, say, tuple(args.scale_sizes), tuple(args.scale_generate), Path(tmp))
        return _publish(report, args.json)

    if args.split:
        from bench import train_command, train_split
        from bench.options import FULL, QUICK

        options = replace(QUICK if args.quick else FULL, data=args.data)
        epochs = args.train_epochs[0]
        report = Report(context=machine_context())
        with tempfile.TemporaryDirectory(prefix="kinsynth-split-") as tmp:
            say(f"train.py as a process, {epochs} epochs, its parts ...")
            train_command.run(report, say, Path(tmp), (epochs,), repeats=1, data=args.data)
            say(f"the fit's parts, {epochs} epochs, taken away one at a time ...")
            parts = train_split.measure_fit_parts(options, epochs, Path(tmp), say)
        train_split.add_rows(report, parts, epochs, 63 * epochs)
        report.context["load_average_1min_end"] = machine_context()["load_average_1min"]
        return _publish(report, args.json)
    if args.targets:
        from bench import cycles

        report = Report(context=machine_context())
        commands(report, say, train_epochs=tuple(args.train_epochs), data=args.data)
        thesis_sweeps(report, say, args.sweep_args, args.data)
        cycles.run(report, say, with_reference=False)
        report.context["load_average_1min_end"] = machine_context()["load_average_1min"]
        return _publish(report, args.json)
    if args.sweep_only:
        report = Report(context=machine_context())
        thesis_sweeps(report, say, args.sweep_args, args.data)
        report.context["load_average_1min_end"] = machine_context()["load_average_1min"]
        return _publish(report, args.json)
    if args.speed or args.train_command:
        report = Report(context=machine_context())
        commands(report, say, quick=args.quick, train_epochs=tuple(args.train_epochs),
                 only_training=args.train_command, data=args.data)
        report.context["load_average_1min_end"] = machine_context()["load_average_1min"]
        return _publish(report, args.json)

    from bench import suite
    from bench.options import FULL, QUICK

    options = QUICK if args.quick else FULL
    sizes = {
        "epochs": args.epochs,
        "timing_epochs": args.timing_epochs,
        "repeats": args.repeats,
        "sample_rows": args.rows,
        "data": args.data,
    }
    options = replace(options, **{k: v for k, v in sizes.items() if v is not None})
    report = suite.run(options, say)
    commands(report, say, quick=args.quick, train_epochs=tuple(args.train_epochs),
             data=args.data)
    if args.sweep:
        thesis_sweeps(report, say, args.sweep_args, options.data)
    return _publish(report, args.json)


def thesis_sweeps(report: Any, say: Any, extra: list[str], data: str | None) -> None:
    """The thesis sweep with each launcher, one after the other; how far their figures differ."""
    from bench import sweeps

    with tempfile.TemporaryDirectory(prefix="kinsynth-sweep-") as tmp:
        dirs = {}
        for launcher, target in sweeps.LAUNCHERS.items():
            say(f"thesis sweep (21 jobs, hydra/launcher={launcher}, 2 workers) ...")
            dirs[launcher] = Path(tmp) / launcher
            seconds, jobs, failed = sweeps.time_thesis_sweep(extra, data, dirs[launcher],
                                                             launcher=launcher)
            report.add(
                f"thesis sweep end to end (train.py -m, {launcher})", seconds, "s",
                f"{jobs} jobs, {failed} failed; {' '.join(extra)}".rstrip("; "),
                # the target on the 2-core machine with nothing else running (docs/performance.md)
                target=f"<= {target:.0f}", passed=seconds <= target,
            )
        largest = sweeps.largest_differences(dirs["local_parallel"], dirs["vectorized"])
        for key in ("c2st_auc", "c2st_auc_joint", "cond_spearman", "hit_rate", "recon_mse", "kl"):
            if key in largest:
                report.add(f"thesis sweep: largest |{key} difference|, vectorized vs joblib",
                           largest[key], "", "over the 21 jobs; same seeds")


def _publish(report: Any, json_path: Path | None) -> int:
    """Print the run's context and table, and write its JSON where ``--json`` asks."""
    print(f"# context: {report.context}")
    print(report.table())
    if json_path:
        json_path.write_text(report.to_json())
    return 0


def commands(
    report: object, say: object, quick: bool = False, train_epochs: tuple[int, ...] = (200, 400),
    only_training: bool = False, data: str | None = None,
) -> None:
    """The rows of the commands a user waits for, each beside its reference."""
    from bench import evaluation, generation, train_command

    with tempfile.TemporaryDirectory(prefix="kinsynth-train-") as tmp:
        say("train.py experiment=thesis model=vae against a bare loop, both as processes ...")
        train_command.run(report, say, Path(tmp), (10,) if quick else train_epochs,
                          repeats=1 if quick else 2, data=data)
    if only_training:
        return
    with tempfile.TemporaryDirectory(prefix="kinsynth-speed-") as tmp:
        say("generate.py, 1,000,000 rows, whole command ...")
        generation.run(report, say, Path(tmp), rows=100_000 if quick else 1_000_000,
                       repeats=1 if quick else 2)
    with tempfile.TemporaryDirectory(prefix="kinsynth-evaluation-") as tmp:
        say("evaluation against training, 20 epochs ...")
        evaluation.run(report, say, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
