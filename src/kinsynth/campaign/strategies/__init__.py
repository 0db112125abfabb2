"""Campaign strategies: one interface (:class:`Strategy`), one registry, one module each.

Built in: ``random`` (uniform screening), ``recommender`` (a regressor scores a random pool),
``vanlent`` (van Lent et al.'s per-enzyme level distributions), ``bo`` (a GP and batch qLogNEI)
and ``generative`` (a conditional kinsynth model proposes, a surrogate ranks).
:func:`strategy_names` is the list every command, report and benchmark reads.

A new strategy is one module (a :class:`Strategy` subclass with ``@register_strategy("name")``,
its typed :class:`StrategyOptions`, ``_fit`` and ``_choose``) and, for ``dbtl.py
strategy=<name>``, one YAML in ``conf/strategy/`` holding ``name`` and the option defaults.
"""

from kinsynth.campaign.strategies.base import Strategy, StrategyOptions, draw_unbuilt, top_up
from kinsynth.campaign.strategies.registry import (
    make_strategy,
    register_strategy,
    strategy_class,
    strategy_from_config,
    strategy_names,
    unregister_strategy,
)

__all__ = [
    "Strategy",
    "StrategyOptions",
    "draw_unbuilt",
    "make_strategy",
    "register_strategy",
    "strategy_class",
    "strategy_from_config",
    "strategy_names",
    "top_up",
    "unregister_strategy",
]
