"""Measured landscapes kinsynth ships: ``space.landscape=<name>`` replays one by its name.

Each is a lab's table of measured strains with its licence notice beside it (``<name>/LICENSE``,
``<name>/NOTICE.md``); its response column and design columns are the defaults of
``space.target`` and ``space.columns``, so the name alone replays it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ShippedLandscape:
    """A shipped table: its file, its response and its design columns (the rest are records:
    an isolate's id, its DBTL round)."""

    name: str
    path: Path
    target: str
    columns: tuple[str, ...]


SHIPPED = {
    # Petersen et al. (PLoS Comput Biol 2024): G8H x CPR for strictosidine in yeast, MIT
    "g8h_cpr": ShippedLandscape("g8h_cpr", HERE / "g8h_cpr" / "measured.csv",
                                "strictosidine_pct_of_control", ("G8H", "pG8H", "pCPR", "CPR")),
}


def shipped_landscape(value: object) -> ShippedLandscape | None:
    """The shipped landscape ``space.landscape=value`` names, or None for a path: a registered
    name is a bare word (no folder, no suffix), so a file is always written with its suffix."""
    return SHIPPED.get(value) if isinstance(value, str) else None
