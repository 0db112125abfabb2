"""Compare the strategies of a DBTL sweep: ``python scripts/dbtl_report.py <multirun dir>``.

Writes ``dbtl_report.md`` (the table) and ``dbtl_cumulative_top.png`` (cumulative top designs
against strains built, mean ± sd over seeds, one line per strategy) into the sweep folder, or
``--out``. The true-top count is the landscape's: ``top100_found`` on a simulated library,
``top10_found`` on a measured table (``space.top``), each beside random's exact expectation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kinsynth.campaign.report import write_report
from kinsynth.core.errors import KinsynthError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="multirun folders of dbtl.py")
    parser.add_argument("--out", type=Path, default=None, help="folder for the table and figure")
    args = parser.parse_args(argv)
    try:
        table = write_report(args.sweeps, args.out or args.sweeps[0])
    except KinsynthError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
