"""The one way kinsynth parses YAML a user hands in: safe tags, no aliases, bounded nesting.

A YAML alias repeats a whole node: nine levels of nine aliases ("billion laughs") are 600 bytes
that expand to gigabytes when a model, a range table or a config is built from them, and the
parser itself recursed through 100,000 nested brackets until Python's stack ran out. No file
kinsynth reads needs either (Hydra writes no aliases), so both are refused in one line naming the
file and line, before anything is built. Tags stay those of ``yaml.SafeLoader``: no YAML file
can run code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent

from kinsynth.core.errors import KinsynthError
from kinsynth.core.inputs import TEXT_LIMIT, read_input_text, where

#: nesting deeper than any config or model needs, far below Python's recursion limit
MAX_DEPTH = 64


class _Refused(Exception):
    """What the loader refused, with the line; turned into the caller's error type."""


class _Bounded:
    """A loader mixin: refuses aliases and nesting beyond :data:`MAX_DEPTH`."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):  # type: ignore[attr-defined]
            event = self.peek_event()  # type: ignore[attr-defined]
            raise _Refused(f"line {event.start_mark.line + 1}: holds a YAML alias "
                           f"(*{event.anchor}); kinsynth reads no aliases, write the value out")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _Refused(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class SafeLoader(_Bounded, yaml.SafeLoader):
    """``yaml.SafeLoader`` without aliases or deep nesting."""


@cache
def _omegaconf_loader() -> type:
    """OmegaConf's own loader (its float spellings, duplicate keys refused), bounded the same."""
    from omegaconf._utils import get_yaml_loader

    return type("OmegaConfSafeLoader", (_Bounded, get_yaml_loader()), {})


def parse_yaml(text: str, source: str, omegaconf: bool = False,
               error: type[KinsynthError] = KinsynthError) -> Any:
    """The document in ``text``; anything refused or malformed is one line naming ``source``.

    ``omegaconf=True`` parses as ``OmegaConf.load`` would (a run's ``.hydra/*.yaml``).
    """
    loader = _omegaconf_loader() if omegaconf else SafeLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, see above
    except _Refused as refused:
        raise error(f"{source}: {refused}") from None
    except yaml.YAMLError as failure:
        raise error(f"{source}: not valid YAML ({' '.join(str(failure).split())})") from None
    except RecursionError:  # a flow collection the scanner nests before the composer counts
        raise error(f"{source}: nested too deeply to read") from None


def read_yaml(path: str | Path, key: str | None, omegaconf: bool = False, limit: int = TEXT_LIMIT,
              error: type[KinsynthError] = KinsynthError) -> Any:
    """The YAML file ``path`` (a regular file of at most ``limit`` bytes, UTF-8), parsed by
    :func:`parse_yaml`; every failure is one line ``<key>=<path>: ...``."""
    text = read_input_text(path, key, limit, error)
    return parse_yaml(text, where(key, path), omegaconf, error)
