"""Steady-state evaluation of fold-change configurations with libroadrunner.

Speed comes from three choices: the model is compiled once per process, each draw starts from the
reference steady state (so Newton usually converges in a few iterations), and the NLEQ2 solver is
called directly (``RoadRunner.steadyState()`` adds ~25 ms of bookkeeping per call, the solver itself
~0.1 ms). A draw whose Newton solve fails gets one rescue: a time course from the reference state,
then a second solve, so that slow-but-stable configurations are not counted as failures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from enum import IntEnum

import numpy as np

from kinsynth.simulate.compile import compile_model
from kinsynth.simulate.errors import SimulationError
from kinsynth.simulate.model import ModelSpec

CHUNK = 256
RESCUE_TIME = 200.0


class Outcome(IntEnum):
    """Why a draw is (in)valid; the names are the failure-reason labels in results."""

    ok = 0
    no_steady_state = 1
    negative_concentration = 2
    unstable = 3


class Simulator:
    """One compiled model that turns fold-change rows into relative fluxes."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.rr = compile_model(spec.sbml)
        self.model = self.rr.model
        self.solver = self.rr.getSteadyStateSolver()
        # Moiety analysis would rebuild the model structure on every call; the embedded model has
        # no conserved moieties, and user models are solved on the full system as well.
        self.solver.setValue("auto_moiety_analysis", False)
        self.ids = spec.parameter_ids
        self.base = np.array([self.rr.getValue(i) for i in self.ids], dtype=float)
        self.x0 = self.model.getFloatingSpeciesConcentrations().copy()
        reference_flux, outcome = self._solve(np.ones(len(self.ids)))
        if outcome is not Outcome.ok or not reference_flux > 0:
            raise SimulationError(
                f"the reference configuration (all fold changes 1) has no stable steady state "
                f"with positive flux through {spec.flux} ({outcome.name}, flux {reference_flux})"
            )
        self.x0 = self.model.getFloatingSpeciesConcentrations().copy()
        self.reference_flux = reference_flux

    def _newton(self) -> bool:
        try:
            self.solver.solve()
        except RuntimeError:
            return False
        return True

    def _rescue(self) -> bool:
        self.model.setFloatingSpeciesConcentrations(self.x0)
        self.model.setTime(0.0)
        try:
            self.rr.simulate(0.0, RESCUE_TIME, 2)
        except RuntimeError:
            return False
        return self._newton()

    def _jacobian(self) -> np.ndarray:
        """Forward-difference Jacobian of the rates (far faster than ``getFullJacobian``)."""
        x0 = self.model.getFloatingSpeciesConcentrations().copy()
        f0 = self.model.getFloatingSpeciesConcentrationRates().copy()
        jac = np.empty((len(x0), len(x0)))
        for i in range(len(x0)):
            x = x0.copy()
            step = 1e-7 * max(abs(x0[i]), 1e-6)
            x[i] += step
            self.model.setFloatingSpeciesConcentrations(x)
            jac[:, i] = (self.model.getFloatingSpeciesConcentrationRates() - f0) / step
        self.model.setFloatingSpeciesConcentrations(x0)
        return jac

    def _solve(self, folds: np.ndarray) -> tuple[float, Outcome]:
        self.rr.setValues(self.ids, list(self.base * folds))
        self.model.setFloatingSpeciesConcentrations(self.x0)
        if not (self._newton() or self._rescue()):
            return np.nan, Outcome.no_steady_state
        state = self.model.getFloatingSpeciesConcentrations()
        if not np.all(np.isfinite(state)):
            return np.nan, Outcome.no_steady_state
        if np.any(state < 0):
            return np.nan, Outcome.negative_concentration
        jacobian = self._jacobian()
        # Tolerance well above forward-difference noise, far below any real instability.
        if np.linalg.eigvals(jacobian).real.max() > 1e-6 * max(np.abs(jacobian).max(), 1.0):
            return np.nan, Outcome.unstable
        return float(self.rr.getValue(self.spec.flux)), Outcome.ok

    def evaluate(self, folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Relative flux (NaN when invalid) and :class:`Outcome` code for each row of ``folds``."""
        flux = np.full(len(folds), np.nan)
        outcome = np.zeros(len(folds), dtype=np.int8)
        for i, row in enumerate(folds):
            value, code = self._solve(row)
            flux[i] = value / self.reference_flux
            outcome[i] = code
        return flux, outcome


_WORKER: Simulator | None = None


def _init_worker(spec: ModelSpec) -> None:
    global _WORKER
    _WORKER = Simulator(spec)


def _work(folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    assert _WORKER is not None, "worker process was not initialised"
    return _WORKER.evaluate(folds)


def resolve_workers(workers: int | None) -> int:
    """None means every core this process may use."""
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, int(workers))


def _chunks(folds: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(folds), CHUNK):
        yield folds[start : start + CHUNK]


def evaluate(
    spec: ModelSpec,
    folds: np.ndarray,
    workers: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate all rows of ``folds``, in order, on ``workers`` processes.

    Each row is solved from the same reference state, so a row's result does not depend on which
    worker runs it or what ran before: results are identical for any number of workers.
    ``on_chunk(n_rows)`` is called as chunks finish (progress reporting).
    """
    folds = np.asarray(folds, dtype=float).reshape(len(folds), len(spec.ranges))
    n_workers = min(resolve_workers(workers), max(1, -(-len(folds) // CHUNK)))
    results: list[tuple[np.ndarray, np.ndarray]] = []
    if n_workers == 1:
        simulator = Simulator(spec)
        for chunk in _chunks(folds):
            results.append(simulator.evaluate(chunk))
            if on_chunk:
                on_chunk(len(chunk))
    else:
        with ProcessPoolExecutor(n_workers, initializer=_init_worker, initargs=(spec,)) as pool:
            for chunk, result in zip(_chunks(folds), pool.map(_work, _chunks(folds)), strict=True):
                results.append(result)
                if on_chunk:
                    on_chunk(len(chunk))
    if not results:
        return np.empty(0), np.empty(0, dtype=np.int8)
    return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])
