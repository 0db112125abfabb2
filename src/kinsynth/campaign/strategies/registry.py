"""Strategies by name: the one list of them, which every command, report and benchmark reads.

Each module of this package registers its strategy with :func:`register_strategy`; the modules
import their heavy libraries (torch, BoTorch, sklearn) inside functions, so listing the strategies
or checking a campaign's options costs no more than reading this package. A strategy defined
elsewhere (a notebook, a test, a lab's own package) registers itself the same way once its module
is imported, and ``strategy=<its name>`` then works everywhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

from kinsynth.campaign.space import Space
from kinsynth.campaign.strategies.base import Strategy
from kinsynth.core.errors import KinsynthError

S = TypeVar("S", bound=type[Strategy])
_REGISTRY: dict[str, type[Strategy]] = {}
#: this package's modules that hold no strategy
_NOT_STRATEGIES = {"base", "registry"}


def register_strategy(name: str) -> Callable[[S], S]:
    """Class decorator: make ``cls`` the strategy ``strategy=<name>`` selects."""

    def decorate(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(f"register_strategy({name!r}): {cls!r} is not a Strategy subclass")
        known = _REGISTRY.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"strategy name {name!r} is taken by {known.__module__}."
                             f"{known.__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def unregister_strategy(name: str) -> None:
    """Forget a strategy registered from outside the package (a test's toy strategy)."""
    _REGISTRY.pop(name, None)


def _load_builtin() -> None:
    package = importlib.import_module(__package__ or "kinsynth.campaign.strategies")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_STRATEGIES:
            importlib.import_module(f"{package.__name__}.{module.name}")


def strategy_names() -> list[str]:
    """Every registered strategy's name, ordered by the measured designs each needs before it
    can propose (the screening baseline first, the generator last), then by registration."""
    _load_builtin()
    order = {name: i for i, name in enumerate(_REGISTRY)}
    return sorted(_REGISTRY, key=lambda name: (_REGISTRY[name].min_measured, order[name]))


def strategy_class(name: str) -> type[Strategy]:
    """The class ``strategy=<name>`` selects; an unknown name is one line listing the known."""
    _load_builtin()
    if name not in _REGISTRY:
        raise KinsynthError(f"strategy={name!r}: expected one of {strategy_names()}")
    return _REGISTRY[name]


def make_strategy(name: str, space: Space, target: str, seed: int,
                  options: Mapping[str, Any] | None = None) -> Strategy:
    """The strategy ``name`` over ``space``, its ``options`` checked against its typed config."""
    return strategy_class(name)(space, target, seed, options)


def strategy_from_config(strategy_cfg: Mapping[str, Any], space: Space, target: str,
                         seed: int) -> Strategy:
    """The strategy a config's ``strategy`` node describes: its ``name`` and its options."""
    if isinstance(strategy_cfg, DictConfig):
        strategy_cfg = OmegaConf.to_container(strategy_cfg, resolve=True)  # type: ignore[assignment]
    options = dict(strategy_cfg)
    name = options.pop("name", None)
    if not name:
        raise KinsynthError("strategy.name: missing; expected one of "
                            f"{strategy_names()} (dbtl.py strategy=<name>)")
    return make_strategy(str(name), space, target, seed, options)
