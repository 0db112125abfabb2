"""The DBTL benchmark: strategies x landscapes x seeds, one ``dbtl.py -m`` sweep per landscape.

    python scripts/dbtl_benchmark.py                                  # the full run (docs/dbtl.md)
    python scripts/dbtl_benchmark.py --landscapes pathway_I burden --seeds 0 1 2
    python scripts/dbtl_benchmark.py --schedule art --noise 0.1       # 16 + 4 x 16, 10 % noise
    python scripts/dbtl_benchmark.py --dry-run                        # print the commands only
    python scripts/dbtl_benchmark.py --protocol vanlent2023           # van Lent et al.'s own
    python scripts/dbtl_benchmark.py --protocol vanlent2023 --quick   # one seed per campaign
    python scripts/dbtl_benchmark.py --landscape g8h_cpr --jobs 2     # a real library (below)

Each sweep goes to ``<out>/<landscape>-<schedule>[-noise<level>]/`` with
``hydra/launcher=local_parallel`` (one thread per job); then ``scripts/dbtl_report.py`` writes its
table (``dbtl_report.md``) and figure (``dbtl_cumulative_top.png``: top designs against strains
built, mean ± sd over seeds) beside it. An existing sweep folder is refused, never overwritten.

``--protocol vanlent2023`` runs van Lent et al.'s DBTL comparison (ACS Synth. Biol. 2023;
AbeelLab/simulated-dbtl at commit 221fa39, ``scripts/DBTL_cycle_cost_experiment_1601.py`` and the
schedules of ``scripts/DBTL strategy (Fig 6).ipynb``) on kinsynth's strategies: pathway A, noise
sd 0.15 absolute clipped at 0, the schedules 50 + 4 x 50, 150, 50, 25, 25, 25 and 25, 25, 50,
150, 25, and their figure of merit (``metrics.judge=true``). 30 seeds for vanlent and generative
on 50 + 4 x 50, 10 elsewhere (``--seeds N`` takes the first N everywhere, ``--quick`` one). It
writes ``vanlent2023.md`` (the last cycle's ``top100_predicted`` and the designs-built figures
beside the paper's stored ones) and ``vanlent2023_curves.png`` under ``--out``. Each campaign
costs five judge searches (BayesSearchCV, 20 iterations: about a minute each on one core).

``--landscape g8h_cpr`` benchmarks the strategies on a real, measured library (scripts/bench/
dbtl_real.py): Petersen et al.'s G8H x CPR library replayed over its 234 measured genotypes at 40
and 80 builds, 20 seeds, beside the 20-line anchor (one-hot gradient boosting, ``--strategies
anchor``), and the authors' round 2 replayed. It writes ``g8h_cpr.md`` and ``g8h_cpr_top10.png``
under ``<out>/g8h_cpr/``; ``--steps replay`` or ``round2`` runs one part, ``--report-only`` only
the report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: the real libraries ``--landscape`` benchmarks (scripts/bench/dbtl_real.py)
REAL_LANDSCAPES = ("g8h_cpr",)
# the landscape's dbtl.py overrides (paths relative to the repository root)
LANDSCAPES = {
    "pathway_I": [],
    # van Lent et al.'s pathway A: 7 enzymes x 6 promoter levels, its whole library enumerated
    "vanlent_pathway_A": ["space=vanlent_pathway_A"],
    "burden": ["space=burden"],
}
# van Lent et al.'s (50 initial + 4 x 50) and a low budget like ART's (16 initial + 4 x 16)
SCHEDULES = {
    "vanlent": ["initial_designs=50", "cycles=4", "designs_per_cycle=50"],
    "art": ["initial_designs=16", "cycles=4", "designs_per_cycle=16"],
}


# van Lent et al.'s DBTL protocol: their schedules (initial library, then one batch per cycle)
VANLENT2023_SCHEDULES = {
    "50+4x50": ["initial_designs=50", "cycles=4", "designs_per_cycle=[50,50,50,50]"],
    "150,50,25,25,25": ["initial_designs=150", "cycles=4", "designs_per_cycle=[50,25,25,25]"],
    "25,25,50,150,25": ["initial_designs=25", "cycles=4", "designs_per_cycle=[25,50,150,25]"],
}
VANLENT2023_SETTINGS = ["space=vanlent_pathway_A", "noise.kind=homoscedastic", "noise.level=0.15",
                       "noise.clip=0", "metrics.judge=true"]
#: seeds per campaign group: the paper's 30 runs where the comparison is closest
VANLENT2023_SEEDS = {("50+4x50", "vanlent"): 30, ("50+4x50", "generative"): 30}
VANLENT2023_OTHER_SEEDS = 10
#: the paper's stored means of top100_predicted over 30 runs per cycle (cycle 1: the initial
#: library), from results/DBTL_strategy/{GradientBoostingRegressor,RandomForestRegressor}_top100_
#: DBTL.csv (grid0, grid1, grid2 = the three schedules above); their runs 1-29 drew the "random"
#: initial library from the previous run's last sampling distribution (run 0 of grid 0 scores 0
#: at cycle 1, runs 1-29 45.5 on average), so their early cycles are not a clean protocol's
VANLENT2023_PAPER = {
    "50+4x50": {"paper GBR (30 runs)": [44.0, 62.3, 72.7, 80.0, 82.7],
                "paper RF (30 runs)": [31.4, 44.2, 55.2, 57.8, 60.9]},
    "150,50,25,25,25": {"paper GBR (30 runs)": [78.9, 82.0, 84.3, 83.1, 85.0],
                        "paper RF (30 runs)": [51.6, 58.0, 53.1, 56.8, 51.7]},
    "25,25,50,150,25": {"paper GBR (30 runs)": [16.6, 38.8, 59.8, 83.9, 84.8],
                        "paper RF (30 runs)": [12.9, 22.2, 41.1, 57.1, 56.8]},
}
#: their cycle-5 sd over 30 runs (GBR, RF), and the share of GBR runs that built a top-100 design
VANLENT2023_PAPER_SD = {"50+4x50": (6.3, 17.4), "150,50,25,25,25": (5.4, 18.8),
                        "25,25,50,150,25": (8.9, 18.6)}


def vanlent2023_sweeps(strategies: list[str], seeds: list[int] | None, out: Path,
                       schedules: list[str] | None = None
                       ) -> list[tuple[str, list[str], list[int], Path]]:
    """(schedule, strategies, seeds, sweep folder) of each sweep the protocol runs: the
    protocol's seed counts, or ``seeds`` for every strategy."""
    sweeps = []
    for schedule in schedules or VANLENT2023_SCHEDULES:
        groups: dict[tuple[int, ...], list[str]] = {}
        for strategy in strategies:
            count = VANLENT2023_SEEDS.get((schedule, strategy), VANLENT2023_OTHER_SEEDS)
            chosen = tuple(range(count)) if seeds is None else tuple(seeds)
            groups.setdefault(chosen, []).append(strategy)
        for chosen, members in groups.items():
            folder = out / "vanlent2023" / _folder(schedule) / f"{len(chosen)}seeds"
            sweeps.append((schedule, members, list(chosen), folder))
    return sweeps


def _folder(schedule: str) -> str:
    return schedule.replace("+", "p").replace(",", "-")


def vanlent2023_command(schedule: str, strategies: list[str], seeds: list[int],
                        sweep_dir: Path, n_jobs: int, launcher: str = "local_parallel",
                        extra: list[str] | None = None) -> list[str]:
    """One sweep's ``dbtl.py -m``: on ``n_jobs`` local cores, or one SLURM array task per
    campaign (``launcher=slurm``; ``extra`` carries e.g. ``hydra.launcher.partition=<p>``)."""
    where = [f"hydra.launcher.n_jobs={n_jobs}"] if launcher == "local_parallel" else []
    return [sys.executable, "dbtl.py", "-m", f"strategy={','.join(strategies)}",
            f"seed={','.join(map(str, seeds))}", *VANLENT2023_SETTINGS,
            *VANLENT2023_SCHEDULES[schedule], f"hydra/launcher={launcher}", *where,
            *(extra or []), f"hydra.sweep.dir={sweep_dir}"]


def vanlent2023_report(folders: dict[str, list[Path]], out: Path) -> str:
    """The protocol's table beside the paper's stored figures, and its curves."""
    from kinsynth.campaign.report import markdown, protocol_figure, protocol_table
    from kinsynth.core.writing import write_text

    table, curves = protocol_table(folders)
    paper = [{"schedule": schedule, "strategy": model, "seeds": 30,
              "top100_predicted": f"{means[-1]:.3g} ± {VANLENT2023_PAPER_SD[schedule][i]:.2g}",
              "library_r2": "-", "top100_found": "-", "built_a_top100": "-",
              "best_true_flux": "-"}
             for schedule, models in VANLENT2023_PAPER.items() if schedule in folders
             for i, (model, means) in enumerate(models.items())]
    both = pd.concat([table, pd.DataFrame(paper)], ignore_index=True)
    both = both.sort_values("schedule", kind="stable", key=lambda c: c.map(
        list(VANLENT2023_SCHEDULES).index))
    lines = ["# van Lent et al. (2023)'s DBTL protocol: pathway A, noise 0.15 clipped at 0", "",
             markdown(both), "",
             "top100_predicted: the judge's (tuned gradient boosting refitted on every measured "
             "build) predicted top 100 in the library's true top 100, after the last cycle "
             "(their cycle 5); top100_found: true top-100 designs built; built_a_top100: "
             "campaigns that built at least one. The paper's rows: their stored 30 runs "
             "(AbeelLab/simulated-dbtl, results/DBTL_strategy/), whose initial library came "
             "from the previous run's last sampling distribution in runs 1-29.", "",
             "## top100_predicted per cycle (mean over seeds; cycle 1 = the initial library)",
             ""]
    curve = curves.assign(cycle=curves["cycle"] + 1, mean=curves["mean"].round(1))
    wide = curve.pivot_table(index=["schedule", "strategy"], columns="cycle", values="mean",
                             sort=False).reset_index()
    for schedule, models in VANLENT2023_PAPER.items():
        if schedule in folders:
            for model, means in models.items():
                wide.loc[len(wide)] = [schedule, model, *means[:wide.shape[1] - 2]]
    lines.append(markdown(wide))
    text = "\n".join(lines)
    write_text(text + "\n", out / "vanlent2023.md", key="--out")
    protocol_figure(curves, {s: VANLENT2023_PAPER[s] for s in folders}, out /
                    "vanlent2023_curves.png")
    return text


def run_vanlent2023(args: argparse.Namespace, env: dict[str, str]) -> int:
    seeds = [0] if args.quick else args.seeds
    sweeps = vanlent2023_sweeps(args.strategies, seeds, args.out, args.schedules)
    folders: dict[str, list[Path]] = {}
    started = time.perf_counter()
    for schedule, strategies, seeds, sweep_dir in sweeps:
        command = vanlent2023_command(schedule, strategies, seeds, sweep_dir, args.jobs,
                                      args.launcher, args.override)
        print(" ".join(command[1:]), flush=True)
        folders.setdefault(schedule, []).append(sweep_dir)
        if args.dry_run or args.report_only:
            continue
        if sweep_dir.exists():
            print(f"error: {sweep_dir} exists; choose another --out (or --report-only)",
                  file=sys.stderr)
            return 1
        began = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stderr[-2000:], file=sys.stderr)
            print(f"error: the {schedule} sweep failed (exit {result.returncode})",
                  file=sys.stderr)
            return 1
        print(f"{schedule} {','.join(strategies)} x {len(seeds)} seeds: "
              f"{time.perf_counter() - began:.0f} s wall-clock", flush=True)
    if args.dry_run:
        return 0
    from kinsynth.core.errors import KinsynthError

    try:
        print(vanlent2023_report({k: [f for f in v if f.exists()] for k, v in folders.items()
                                  if any(f.exists() for f in v)}, args.out / "vanlent2023"))
    except KinsynthError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"vanlent2023: {time.perf_counter() - started:.0f} s wall-clock", flush=True)
    return 0


def sweep_command(landscape: str, schedule: str, strategies: list[str], seeds: list[int],
                  noise: float, sweep_dir: Path, n_jobs: int) -> list[str]:
    command = [sys.executable, "dbtl.py", "-m", f"strategy={','.join(strategies)}",
               f"seed={','.join(map(str, seeds))}", *LANDSCAPES[landscape], *SCHEDULES[schedule],
               "hydra/launcher=local_parallel", f"hydra.launcher.n_jobs={n_jobs}",
               f"hydra.sweep.dir={sweep_dir}"]
    if noise > 0:
        command += ["noise.kind=heteroscedastic", f"noise.level={noise}"]
    return command


def run_real(args: argparse.Namespace, env: dict[str, str]) -> int:
    """``--landscape g8h_cpr``: the benchmark on a measured library (scripts/bench/dbtl_real.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench package beside us
    from bench import dbtl_real

    from kinsynth.core.errors import KinsynthError

    seeds = args.seeds if args.seeds is not None else list(dbtl_real.SEEDS)
    args.out = args.out.resolve()  # the sweeps run from the checkout, this from anywhere
    try:
        if args.report_only:
            print(dbtl_real.write_report(args.out))
            return 0
        return dbtl_real.run(args.strategies, seeds, args.out, args.jobs, env, ROOT,
                             steps=args.steps, dry_run=args.dry_run)
    except KinsynthError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landscapes", nargs="+", default=list(LANDSCAPES),
                        choices=list(LANDSCAPES))
    from kinsynth.campaign.strategies import strategy_names

    anchor = "anchor"  # the real library's 20-line baseline (scripts/bench/dbtl_real.py)
    parser.add_argument("--strategies", nargs="+", default=None,
                        choices=[*strategy_names(), anchor],
                        help="default: every registered strategy (--landscape: and the anchor)")
    parser.add_argument("--landscape", choices=REAL_LANDSCAPES, default=None,
                        help="benchmark on a real, measured library instead (40 and 80 builds, "
                             "20 seeds, the anchor, the authors' round 2)")
    parser.add_argument("--steps", nargs="+", choices=["replay", "round2"],
                        default=["replay", "round2"], help="--landscape: the parts to run")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="default 0-4 (--landscape: 0-19); --protocol: these seeds for every "
                             "campaign group")
    parser.add_argument("--schedule", default="vanlent", choices=list(SCHEDULES))
    parser.add_argument("--noise", type=float, default=0.0,
                        help="heteroscedastic noise level (0.1 = 10 %% of the flux); 0 = none")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "dbtl_benchmark")
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs (one per core)")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--protocol", choices=["vanlent2023"], default=None,
                        help="a published protocol instead of the landscapes x schedule sweep")
    parser.add_argument("--quick", action="store_true", help="--protocol: one seed each")
    parser.add_argument("--schedules", nargs="+", default=None,
                        choices=list(VANLENT2023_SCHEDULES), help="--protocol: these only")
    parser.add_argument("--launcher", choices=["local_parallel", "slurm"],
                        default="local_parallel", help="--protocol: where the campaigns run")
    parser.add_argument("--override", nargs="+", default=[],
                        help="--protocol: more dbtl.py overrides, e.g. "
                             "hydra.launcher.partition=<partition>")
    parser.add_argument("--report-only", action="store_true",
                        help="--protocol, --landscape: write the tables from the campaigns already "
                             "under --out")
    args = parser.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    if args.landscape is not None:
        args.strategies = args.strategies or [*strategy_names(), anchor]
        return run_real(args, env)
    args.strategies = args.strategies or strategy_names()
    if anchor in args.strategies:
        parser.error("--strategies anchor: the anchor runs on a real library (--landscape)")
    if args.protocol == "vanlent2023":
        return run_vanlent2023(args, env)
    args.seeds = args.seeds if args.seeds is not None else [0, 1, 2, 3, 4]
    for landscape in args.landscapes:
        name = f"{landscape}-{args.schedule}" + (f"-noise{args.noise:g}" if args.noise else "")
        sweep_dir = args.out / name
        command = sweep_command(landscape, args.schedule, args.strategies, args.seeds,
                                args.noise, sweep_dir, args.jobs)
        print(" ".join(command[1:]), flush=True)
        if args.dry_run:
            continue
        if sweep_dir.exists():
            print(f"error: {sweep_dir} exists; choose another --out", file=sys.stderr)
            return 1
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stderr[-2000:], file=sys.stderr)
            print(f"error: the {name} sweep failed (exit {result.returncode})", file=sys.stderr)
            return 1
        seconds = time.perf_counter() - started
        report = subprocess.run([sys.executable, "scripts/dbtl_report.py", str(sweep_dir)],
                                cwd=ROOT, env=env, capture_output=True, text=True)
        print(report.stdout)
        print(f"{name}: {seconds:.0f} s wall-clock", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
