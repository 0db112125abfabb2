"""Location of the data set embedded in the package.

Resolved relative to this file (not the working directory) so that ``path=None`` works from any
directory, including Hydra run directories and installed wheels.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_DATA_PATH: Path = Path(__file__).resolve().parent / "default" / "pathway_I_sim_5000.csv"
