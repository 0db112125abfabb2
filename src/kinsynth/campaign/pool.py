"""The reference pool: what "a top design" means for a design space, simulated once and cached.

Flux above the pool's 95th percentile is a top design. The pool costs 20,000 simulations (about
10 s on one core), so it is cached on disk, keyed by everything that changes it; so is a whole
discrete library, simulated for its true top 100.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.build import Builder
from kinsynth.campaign.space import DesignSpace, Space
from kinsynth.core.counts import positive_int
from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import atomic_path, check_writable_dir

log = logging.getLogger(__name__)
#: designs with a flux the pool needs: its 99th percentile must lie below at least one of them
#: and above 99 (with fewer, "top" would mean anything above one random design)
MIN_POOL = 100


@dataclass
class ReferencePool:
    flux: np.ndarray  # noise-free, NaN where invalid
    q95: float
    q99: float
    simulated: bool  # False when it came from the cache


def pool_key(builder: Builder, space: Space, n: int, seed: int) -> str:
    spec = builder.spec
    fields: dict[str, Any] = {
        "model": hashlib.sha256(spec.sbml.encode()).hexdigest(),
        "flux": spec.flux, "columns": list(space.columns), "n": n, "seed": seed,
    }
    if isinstance(space, DesignSpace):
        fields.update(lows=space.lows.tolist(), highs=space.highs.tolist(),
                      levels=list(space.levels) if space.levels else None)
    else:  # a space of parts: what it holds, and how its parts map onto the model
        fields["designs"] = hashlib.sha256(
            space.enumerate().to_csv(index=False).encode()).hexdigest()
        fields["mapping"] = repr(getattr(space, "descriptors", None)) + repr(
            [(s.genes, s.fold_change) for s in getattr(space, "sets", ())])
    if spec.objective != "steady_state" or spec.output_parameters != "design":
        # a time course's fluxes differ from the steady state's (keys of steady-state pools
        # cached before these fields existed stay as they were)
        fields.update(objective=spec.objective, time=spec.time,
                      output_parameters=spec.output_parameters)
    payload = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _cached_flux(path: Path, what: str, designs: Callable[[], pd.DataFrame],
                 simulate: Callable[[pd.DataFrame], np.ndarray],
                 expected: int) -> tuple[np.ndarray, bool]:
    """Noise-free fluxes of ``designs()``, simulated once; written atomically for parallel jobs.

    The cache folder is proved writable before the simulation, not after it.
    """
    if path.is_file():
        return _read_cache(path, expected), False
    check_writable_dir(path.parent, "pool.cache_dir")
    frame = designs()
    log.info("simulating %s: %d designs (cached in %s)", what, len(frame), path)
    flux = simulate(frame)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, flux, allow_pickle=False)
    return flux, True


def _read_cache(path: Path, expected: int) -> np.ndarray:
    """A cached flux array, checked: a damaged file (truncated by a full disk, emptied, another
    array) is one line naming the file to delete."""
    reason = None
    try:
        flux = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:  # numpy raises all three for a bad file
        reason = " ".join(str(error).split())[:200] or type(error).__name__
    else:
        if not isinstance(flux, np.ndarray) or flux.dtype.kind != "f" or flux.shape != (expected,):
            reason = (f"holds {getattr(flux, 'dtype', type(flux).__name__)} of shape "
                      f"{getattr(flux, 'shape', '?')}, expected {expected} fluxes")
    if reason is not None:
        raise KinsynthError(f"'{path}': a damaged pool cache ({reason}); delete it and rerun "
                            "(it is simulated again)")
    return flux


def reference_pool(builder: Builder, space: Space, n: int, seed: int, cache_dir: Path,
                   simulate: Callable[[pd.DataFrame], np.ndarray] | None = None
                   ) -> ReferencePool:
    """The pool's fluxes, from ``cache_dir`` when an identical pool was simulated before.

    ``simulate`` maps designs to noise-free fluxes (default: the builder's model on the
    space's own columns)."""
    n = positive_int("pool.n", n)
    if n < MIN_POOL:
        raise KinsynthError(f"pool.n={n}: the reference pool defines top designs by its 95th and "
                            f"99th percentiles; expected at least {MIN_POOL} designs")
    path = Path(cache_dir) / f"pool-{pool_key(builder, space, n, seed)}.npy"
    flux, simulated = _cached_flux(
        path, "the reference pool", lambda: space.sample(n, np.random.default_rng([seed, 99])),
        simulate or (lambda frame: builder.true_flux(frame)[0]), n)
    return pool_from_flux(flux, n, simulated)


def pool_from_flux(flux: np.ndarray, n: int, simulated: bool,
                   minimum: int = MIN_POOL) -> ReferencePool:
    """The pool of these fluxes, refused when too few are valid for its 99th percentile."""
    valid = flux[np.isfinite(flux)]
    if len(valid) == 0:  # more draws of the same space cannot help
        raise KinsynthError(f"pool.n={n}: none of the {n} designs of the reference pool reaches a "
                            "steady state (or output): the design space has no valid design; "
                            "check space.model_file, space.ranges and space.levels")
    if len(valid) < minimum:
        needed = int(np.ceil(1.2 * minimum * n / len(valid)))
        raise KinsynthError(f"pool.n={n}: only {len(valid)} of its designs have a steady state, "
                            f"and the 99th percentile needs at least {minimum}; raise pool.n "
                            f"(about pool.n={needed} at this rate)")
    return ReferencePool(flux, float(np.quantile(valid, 0.95)), float(np.quantile(valid, 0.99)),
                         simulated)


def library_flux(builder: Builder, space: Space, cache_dir: Path,
                 simulate: Callable[[pd.DataFrame], np.ndarray] | None = None
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """Every design of a discrete library and its noise-free flux (simulated once, then cached)."""
    grid = space.enumerate()
    path = Path(cache_dir) / f"library-{pool_key(builder, space, len(grid), 0)}.npy"
    flux, _ = _cached_flux(path, "the whole library", lambda: grid,
                           simulate or (lambda frame: builder.true_flux(frame)[0]), len(grid))
    return grid, flux
