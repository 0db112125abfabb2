"""Embedded kinetic pathway simulator: van Lent-style pathway I model, sampling, oracle.

``simulate_dataset(n, seed)`` draws fold-change configurations and returns the valid ones with their
relative product flux, in the reference data set's format; ``oracle(table)`` scores any
configurations (e.g. generated designs). See docs/simulator.md.
"""

from kinsynth.simulate.dataset import (
    DEFAULT_ROWS,
    DEFAULT_SEED,
    SimulationResult,
    measure_throughput,
    merge_shards,
    read_dataset,
    simulate_dataset,
    write_dataset,
)
from kinsynth.simulate.errors import SimulationError
from kinsynth.simulate.model import ModelSpec, ParameterRange, load_model
from kinsynth.simulate.oracle import oracle

__all__ = [
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "ModelSpec",
    "ParameterRange",
    "SimulationError",
    "SimulationResult",
    "load_model",
    "measure_throughput",
    "merge_shards",
    "oracle",
    "read_dataset",
    "simulate_dataset",
    "write_dataset",
]
