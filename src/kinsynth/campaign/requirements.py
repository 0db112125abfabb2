"""How many measured designs each strategy needs before it can propose a batch.

A strategy that learns from the built designs cannot fit on too few: the recommender's regressor
needs one design with a flux, the generator's data module keeps at least 2 validation and 2 test
rows and trains on the rest, so 5 is the least it can split. ``dbtl.py step=propose`` refuses a
lab's table with fewer; a simulated campaign refuses an ``initial_designs`` below it, and a cycle
whose builds left fewer (failed strains) builds a random batch instead, and says so.
"""

from __future__ import annotations

from typing import Any

#: by ``strategy=`` name; a strategy class may state its own with a ``min_measured`` attribute
MIN_MEASURED = {"random": 0, "recommender": 1, "generative": 5}


def measured_needed(name: str, strategy: Any) -> int:
    """Measured designs (valid, with a flux) that ``strategy`` (``strategy=name``) needs."""
    return int(getattr(strategy, "min_measured", MIN_MEASURED.get(name, 1)))
