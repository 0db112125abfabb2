"""The DBTL benchmark: strategies x landscapes x seeds, one ``dbtl.py -m`` sweep per landscape.

    python scripts/dbtl_benchmark.py                                  # the full run (docs/dbtl.md)
    python scripts/dbtl_benchmark.py --landscapes pathway_I burden --seeds 0 1 2
    python scripts/dbtl_benchmark.py --schedule art --noise 0.1       # 16 + 4 x 16, 10 % noise
    python scripts/dbtl_benchmark.py --dry-run                        # print the commands only

Each sweep goes to ``<out>/<landscape>-<schedule>[-noise<level>]/`` with
``hydra/launcher=local_parallel`` (one thread per job); then ``scripts/dbtl_report.py`` writes its
table (``dbtl_report.md``) and figure (``dbtl_cumulative_top.png``: top designs against strains
built, mean ± sd over seeds) beside it. An existing sweep folder is refused, never overwritten.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def sweep_command(landscape: str, schedule: str, strategies: list[str], seeds: list[int],
                  noise: float, sweep_dir: Path, n_jobs: int) -> list[str]:
    command = [sys.executable, "dbtl.py", "-m", f"strategy={','.join(strategies)}",
               f"seed={','.join(map(str, seeds))}", *LANDSCAPES[landscape], *SCHEDULES[schedule],
               "hydra/launcher=local_parallel", f"hydra.launcher.n_jobs={n_jobs}",
               f"hydra.sweep.dir={sweep_dir}"]
    if noise > 0:
        command += ["noise.kind=heteroscedastic", f"noise.level={noise}"]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landscapes", nargs="+", default=list(LANDSCAPES),
                        choices=list(LANDSCAPES))
    from kinsynth.campaign.strategies import strategy_names

    parser.add_argument("--strategies", nargs="+", default=strategy_names(),
                        choices=strategy_names())
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--schedule", default="vanlent", choices=list(SCHEDULES))
    parser.add_argument("--noise", type=float, default=0.0,
                        help="heteroscedastic noise level (0.1 = 10 %% of the flux); 0 = none")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "dbtl_benchmark")
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs (one per core)")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
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
