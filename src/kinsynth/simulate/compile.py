"""Compiling an SBML model into a RoadRunner instance.

Its own module because both the model loader (which checks a user's ids against the compiled model)
and the runner (which solves it) need it; kept apart, neither imports the other.
"""

from __future__ import annotations

from typing import Any


def compile_model(sbml: str) -> Any:
    """A quiet RoadRunner for ``sbml`` (libroadrunner logs every failed solve otherwise)."""
    import roadrunner

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
    return roadrunner.RoadRunner(sbml)
