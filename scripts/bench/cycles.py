"""Seconds per DBTL cycle: each strategy proposing 50 designs from 200 built ones (``--cycles``).

A ``bo`` cycle of 50 designs should stay under a minute on 2 cores. A cycle inside a
benchmark sweep shares its core with the other jobs (``propose_seconds`` in ``cycles.csv`` is
wall-clock under that load), so this times each strategy alone, in this process: the built
designs are 200 random draws of the landscape, built by its simulator (the size of a campaign's
last cycle in van Lent's schedule); wall-clock and CPU seconds of one ``propose`` each, and the
ratio of ``bo``'s to the recommender's, the cheapest learner.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir

from bench.configs import CONF_DIR
from kinsynth.conf.schemas import register_configs

register_configs()  # the YAMLs name their schemas (conf/schemas.py)

LANDSCAPES = {"pathway_I": "default", "vanlent_pathway_A": "vanlent_pathway_A",
              "burden": "burden"}


#: strategies that learn (random proposes in microseconds and is left out)
def learning_strategies() -> list[str]:
    from kinsynth.campaign.strategies import strategy_class, strategy_names

    return [name for name in strategy_names() if strategy_class(name).min_measured > 0]


def _built(space_name: str, n_built: int, seed: int) -> tuple[Any, str, Any, Any]:
    from kinsynth.campaign.landscape import make_landscape

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("dbtl", overrides=[f"space={space_name}"])
    landscape = make_landscape(cfg)
    space, target = landscape.space, landscape.target
    rng = np.random.default_rng(seed)
    designs = space.snap(space.sample(n_built, rng))
    measured, _, valid = landscape.build(designs)
    built = designs.assign(**{target: np.where(valid, measured, np.nan)}, valid=valid, cycle=0)
    return space, target, built, rng


def _strategy_config(name: str) -> Any:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("dbtl", overrides=[f"strategy={name}"]).strategy


def run(report: Any, say: Any, landscapes: tuple[str, ...] = tuple(LANDSCAPES),
        n_built: int = 200, n: int = 50, seed: int = 0, with_reference: bool = True) -> None:
    """Each learning strategy's seconds for one proposal; ``with_reference`` also times ``bo``
    with ``batch=joint``, the faster greedy, beside its default."""
    from kinsynth.campaign.strategies import strategy_from_config

    for landscape in landscapes:
        space, target, built, rng = _built(LANDSCAPES[landscape], n_built, seed)
        seconds = {}
        for name in learning_strategies():
            say(f"{landscape}: {name} proposes {n} from {n_built} built ...")
            strategy = strategy_from_config(_strategy_config(name), space, target, seed)
            wall, cpu = time.perf_counter(), time.process_time()
            batch = strategy.propose(built, n, rng)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert len(batch) == n, (name, len(batch))
            seconds[name] = wall
            target_text, passed = ("<= 15", wall <= 15) if name == "bo" else ("", None)
            report.add(f"{landscape}: {name} cycle, {n} of {n_built} built", wall, "s",
                       f"CPU {cpu:.1f} s; {len(space.columns)} columns", target=target_text,
                       passed=passed)
        report.add(f"{landscape}: bo / recommender cycle", seconds["bo"] / seconds["recommender"],
                   "x", "measured together, this process")
        if with_reference:
            say(f"{landscape}: bo with batch=joint (one joint sample set) proposes {n} ...")
            options = {**_strategy_config("bo"), "batch": "joint"}
            strategy = strategy_from_config(options, space, target, seed)
            wall = time.perf_counter()
            strategy.propose(built, n, rng)
            wall = time.perf_counter() - wall
            report.add(f"{landscape}: bo cycle, batch=joint (one joint posterior sample set)",
                       wall, "s", "the faster option, this process")
            report.add(f"{landscape}: bo batch=joint / default cycle",
                       wall / seconds["bo"], "x", "measured together, this process")
