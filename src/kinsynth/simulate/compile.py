"""Compiling an SBML model into a RoadRunner instance.

Its own module because both the model loader (which checks a user's ids against the compiled model)
and the runner (which solves it) need it; kept apart, neither imports the other.
"""

from __future__ import annotations

from typing import Any

_SPARE: dict[int, Any] = {}


def compile_model(sbml: str, spare: bool = False) -> Any:
    """A quiet RoadRunner for ``sbml`` (libroadrunner logs every failed solve otherwise).

    Compiling a large model takes seconds (pathway A: ~7 s), and a model is typically compiled
    twice in one process: once to check a user's ids, then to simulate. ``spare=True`` keeps the
    compiled model so that the next call for the same SBML takes it instead of compiling again.
    """
    import roadrunner

    from kinsynth.simulate.solver_log import route_solver_log

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
    route_solver_log()  # CVODE's own lines: before the first solver of this process is made
    key = hash(sbml)
    if not spare and key in _SPARE:
        return _SPARE.pop(key)
    rr = roadrunner.RoadRunner(sbml)
    if spare:
        _SPARE.clear()
        _SPARE[key] = rr
    return rr
