"""Report on one or more sweeps: ``python scripts/report.py <multirun dir> [...] [--out DIR]``.

Writes report.md, report.csv (thesis Table 2 layout), jobs.csv and report_figures/*.png; see
kinsynth.evaluate.report.
"""

from __future__ import annotations

import argparse
import sys

from kinsynth.core.errors import KinsynthError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", help="multirun folders (or folders holding several)")
    parser.add_argument("--out", help="where to write (default: the sweep folder)")
    parser.add_argument("--latent", type=int, help="latent size of the PCA figures (default 11)")
    parser.add_argument("--no-figures", action="store_true", help="tables only")
    args = parser.parse_args(argv)
    from kinsynth.evaluate.report import build_report

    try:
        report = build_report(args.dirs, args.out, latent=args.latent, draw=not args.no_figures)
    except KinsynthError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for note in report.notes:
        if note.startswith("missing from this partial sweep"):
            print(note)
    print(
        f"{len(report.jobs) - len(report.failed)} jobs, {len(report.failed)} failed; "
        f"wrote {report.out / 'report.md'}, report.csv and {len(report.figures)} figures"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
