"""The one way kinsynth parses YAML a user hands in: safe tags, bounded aliases and nesting.

A YAML alias repeats a whole node: nine levels of nine aliases ("billion laughs") are 600 bytes
that expand to gigabytes when a model, a range table or a config is built from them, and the
parser itself recursed through 100,000 nested brackets until Python's stack ran out. Aliases are
legitimate (PyYAML writes ``&id001``/``*id001`` for a shared value, as SKiMpy's models hold), so
the document's size with every alias expanded is counted on the composed node graph, before
anything is built, and refused in one line naming the file past :data:`MAX_EXPANDED`; nesting is
refused past :data:`MAX_DEPTH`. Tags stay those of ``yaml.SafeLoader``: no YAML file can run code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node

from kinsynth.core.errors import KinsynthError
from kinsynth.core.inputs import TEXT_LIMIT, read_input_text, where

#: nesting deeper than any config or model needs, far below Python's recursion limit
MAX_DEPTH = 64
#: values in a document with its aliases expanded: a large kinetic model holds about 10,000
MAX_EXPANDED = 1_000_000


class _Refused(Exception):
    """What the loader refused, with the line; turned into the caller's error type."""


def _expanded_size(root: Node) -> int:
    """How many nodes ``root`` stands for with every alias expanded (an alias is the same node
    object again, so each distinct node is counted once, with its size); refused past
    :data:`MAX_EXPANDED`, and a node that contains itself is refused too."""
    sizes: dict[int, int] = {}
    path: set[int] = set()  # the nodes being counted: an alias to one of them is a cycle
    pending: list[tuple[Node, bool]] = [(root, False)]
    while pending:  # iterative: a graph of many levels would exhaust Python's stack
        node, children_counted = pending.pop()
        if children_counted:
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > MAX_EXPANDED:
                raise _Refused(f"line {node.start_mark.line + 1}: expands to more than "
                               f"{MAX_EXPANDED:,} values through YAML aliases (write it "
                               "without them)")
            sizes[id(node)] = total
            path.discard(id(node))
            continue
        if id(node) in sizes:
            continue
        path.add(id(node))
        pending.append((node, True))
        for child in _children(node):
            if id(child) in path:
                raise _Refused(f"line {child.start_mark.line + 1}: a YAML alias that contains "
                               "itself")
            if id(child) not in sizes:
                pending.append((child, False))
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, CollectionNode):
        return list(node.value)
    return []


class _Bounded:
    """A loader mixin: refuses nesting beyond :data:`MAX_DEPTH` and documents that expand
    beyond :data:`MAX_EXPANDED` values through their aliases."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _Refused(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()  # type: ignore[misc]
        if node is not None:
            _expanded_size(node)
        return node


class SafeLoader(_Bounded, yaml.SafeLoader):
    """``yaml.SafeLoader`` with bounded aliases and nesting."""


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
