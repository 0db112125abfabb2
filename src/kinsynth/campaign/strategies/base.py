"""The one interface every campaign strategy speaks, and the steps all of them share.

A strategy learns from the designs built so far and chooses the next batch. What every strategy
needs (keep the measured builds, snap proposals to the library, never build a design twice, fill
the batch when its own candidates run out) lives in :meth:`Strategy.propose`; a subclass writes
only :meth:`Strategy._fit` (learn) and :meth:`Strategy._choose` (pick), as SDV's synthesizers
write ``_fit`` under a public ``fit``.

**The contract.**

- ``built`` holds one row per design built so far, in build order: the space's columns (fold
  changes, positive floats in the space's units), the target column (the measured response, NaN
  when the build failed), and ``valid`` (bool: the strain was made and produced). A design that
  was measured several times appears once (``step=propose`` averages replicates first).
- A *measured* design is valid with a finite target (:func:`kinsynth.campaign.features.
  measured_designs`); a strategy needs :attr:`Strategy.min_measured` of them, and the campaign
  builds a random batch until it has them.
- ``propose(built, n, rng)`` returns exactly ``n`` designs (fewer only when the space holds fewer
  unbuilt designs), each inside the space, on its levels, distinct, and not in ``built``, as a
  frame of the space's columns with a fresh 0..n-1 index.
- All randomness comes from ``rng`` (and ``seed``, for learners that take an integer seed): the
  same ``built``, ``n`` and generator state give the same batch.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from kinsynth.campaign.features import measured_designs
from kinsynth.campaign.space import Space, drop_built
from kinsynth.core.errors import KinsynthError

#: redraws before a sampler gives up finding unbuilt designs (a small library may hold none)
REDRAWS = 20


@dataclasses.dataclass
class StrategyOptions:
    """A strategy's settings (``strategy.*`` in dbtl.yaml, keywords of ``kinsynth.propose``).

    Subclass it as a dataclass with typed, defaulted fields; :meth:`check` refuses values the
    types admit but the strategy cannot use, in one line naming ``strategy.<key>``.
    """

    def check(self) -> None:
        """Raise :class:`KinsynthError` for a value the strategy cannot use."""


def parse_options(options_type: type[StrategyOptions], name: str,
                  values: Mapping[str, Any] | None) -> StrategyOptions:
    """``values`` checked against ``options_type``: an unknown key or a value of the wrong type
    is one line naming ``strategy.<key>`` (OmegaConf's structured configs do the typing)."""
    schema = OmegaConf.structured(options_type)
    try:
        merged = OmegaConf.merge(schema, dict(values or {}))
        parsed = OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or getattr(error, "key", None) or "?"
        known = [f.name for f in dataclasses.fields(options_type)]
        reason = str(error).splitlines()[0]
        raise KinsynthError(f"strategy.{key}: {reason} (strategy={name} takes "
                            f"{known or 'no options'})") from None
    assert isinstance(parsed, options_type)
    parsed.check()
    return parsed


class Strategy(ABC):
    """Chooses each next batch of a campaign; see the module docstring for the contract.

    Subclasses set :attr:`name` through :func:`kinsynth.campaign.strategies.register_strategy`,
    declare their :attr:`Options` dataclass and :attr:`min_measured`, and implement
    :meth:`_fit` and :meth:`_choose`.
    """

    #: the ``strategy=`` name, set by ``register_strategy``
    name: ClassVar[str] = ""
    #: measured designs (valid, with a response) the strategy needs before it can propose
    min_measured: ClassVar[int] = 1
    #: the colour the comparison report draws this strategy in (a matplotlib colour)
    colour: ClassVar[str | None] = None
    #: the typed settings this strategy takes
    Options: ClassVar[type[StrategyOptions]] = StrategyOptions

    def __init__(self, space: Space, target: str, seed: int = 0,
                 options: StrategyOptions | Mapping[str, Any] | None = None,
                 **keywords: Any) -> None:
        """``options`` (a mapping, e.g. dbtl.yaml's ``strategy`` node less its ``name``, or an
        :attr:`Options` instance) and ``keywords`` (Python callers' spelling) set the options."""
        self.space, self.target, self.seed = space, target, int(seed)
        if not isinstance(options, StrategyOptions) or keywords:
            values = dataclasses.asdict(options) if isinstance(options, StrategyOptions) else \
                dict(options or {})
            options = parse_options(self.Options, self.name or type(self).__name__,
                                    {**values, **keywords})
        self.options = options

    def propose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` new designs to build next, chosen from what ``built`` taught."""
        measured = measured_designs(built, self.target) if len(built) else built
        if len(measured) < self.min_measured:
            raise KinsynthError(f"strategy={self.name} needs at least {self.min_measured} built "
                                f"design(s) with a measured {self.target}; got {len(measured)}")
        self._fit(built, measured, rng)
        chosen = self._choose(built, n, rng)
        chosen = drop_built(self.space.snap(chosen), built, self.space.columns)
        return self.space.snap(top_up(chosen.reset_index(drop=True), built, n, self.space, rng))

    def predict(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """After :meth:`propose`: the strategy's predicted response for ``designs`` and its
        uncertainty (an sd in the response's units), NaN where the strategy has no such figure
        (random designs predict nothing; a point regressor has no sd). A lab's plate carries
        both, beside the rank (:func:`kinsynth.campaign.propose.propose_plate`)."""
        nothing = np.full(len(designs), np.nan)
        return nothing, nothing.copy()

    def fitted(self, attribute: str) -> Any:
        """What :meth:`_fit` learnt under ``attribute``; asked for before any :meth:`propose`,
        one line (a prediction needs a model)."""
        value = getattr(self, attribute, None)
        if value is None:
            raise KinsynthError(f"strategy={self.name}: predict() reads the model that propose() "
                                "fits; call propose() first")
        return value

    @abstractmethod
    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        """Learn from the builds: ``measured`` are those with a response, ``built`` all of them."""

    @abstractmethod
    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Up to ``n`` designs, best first. Off-level, repeated or already built ones are fine:
        :meth:`propose` snaps them, drops the repeats and tops the batch up."""


def draw_unbuilt(draw: Callable[[int], pd.DataFrame], built: pd.DataFrame, n: int,
                 space: Space) -> pd.DataFrame:
    """Up to ``n`` distinct unbuilt designs from a sampler, redrawing ``2n`` at a time: a small
    library, or a peaked distribution over one, repeats designs."""
    out = pd.DataFrame(columns=list(space.columns))
    for _ in range(REDRAWS):
        more = drop_built(space.snap(draw(2 * n)), pd.concat([built, out]), space.columns)
        out = pd.concat([out, more]).iloc[:n]
        if len(out) >= n:
            break
    return out.reset_index(drop=True)


def top_up(chosen: pd.DataFrame, built: pd.DataFrame, n: int, space: Space,
           rng: np.random.Generator) -> pd.DataFrame:
    """``chosen`` filled up to ``n`` with uniform random unbuilt designs: on a small library a
    strategy's own candidates can run out (all built), and a cycle still builds a full batch."""
    if len(chosen) >= n:
        return chosen.iloc[:n].reset_index(drop=True)
    seen = pd.concat([built, chosen]) if len(chosen) else built
    more = draw_unbuilt(lambda k: space.sample(k, rng), seen, n - len(chosen), space)
    return pd.concat([chosen, more], ignore_index=True)
