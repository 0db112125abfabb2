"""Packages whose public names load on first use (PEP 562).

``kinsynth.data`` and ``kinsynth.models`` hold both light modules (a table writer, argument
limits) and ones that import torch and Lightning (about 7 s). Importing a light one must not pay
for the heavy ones, so that a command given a bad argument fails in a second, not in eight.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing each name from ``package.<homes[name]>`` when read."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        namespace[name] = value  # later reads are plain attribute lookups
        return value

    return __getattr__
