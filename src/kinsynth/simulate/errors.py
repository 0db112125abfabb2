"""The simulator's user-facing error type."""

from __future__ import annotations

from kinsynth.core.errors import KinsynthError


class SimulationError(KinsynthError, ValueError):
    """A bad model, range table, flux id or configuration table.

    It is a :class:`ValueError` too, so callers that validate inputs generically (the evaluation
    suite, pandas-style code) catch it without knowing about kinsynth.
    """
