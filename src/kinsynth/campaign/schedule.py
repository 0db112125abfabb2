"""A campaign's batch schedule: how many designs each cycle builds.

van Lent et al. compare equal batches (50 + 4 x 50) with front- and back-loaded ones such as
150, 50, 25, 25, 25 (``initial_designs=150 designs_per_cycle=[50,25,25,25] cycles=4``); one
number is the same size every cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kinsynth.core.counts import whole_number
from kinsynth.core.errors import KinsynthError


def batch_sizes(value: Any, cycles: int) -> list[int]:
    """``designs_per_cycle`` as one positive size per cycle (a list must hold ``cycles``)."""
    if isinstance(value, Sequence) and not isinstance(value, str):  # ListConfig is one too
        sizes = list(value)
        if len(sizes) != cycles:
            raise KinsynthError(f"designs_per_cycle={_show(sizes)}: expected one size per cycle "
                                f"({cycles}, as cycles={cycles}), got {len(sizes)}")
        return [whole_number(f"designs_per_cycle[{i}]", size) for i, size in enumerate(sizes)]
    return [whole_number("designs_per_cycle", value)] * cycles


def _show(sizes: list[Any]) -> str:
    return "[" + ",".join(str(size) for size in sizes) + "]"
