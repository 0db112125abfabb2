"""The reference pool: what "a top design" means for a design space, simulated once and cached.

Flux above the pool's 95th percentile is a top design. The pool costs 20,000 simulations (about
10 s on one core), so it is cached on disk, keyed by everything that changes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kinsynth.campaign.build import Builder
from kinsynth.campaign.space import DesignSpace

log = logging.getLogger(__name__)


@dataclass
class ReferencePool:
    flux: np.ndarray  # noise-free, NaN where invalid
    q95: float
    q99: float
    simulated: bool  # False when it came from the cache


def pool_key(builder: Builder, space: DesignSpace, n: int, seed: int) -> str:
    payload = json.dumps({
        "model": hashlib.sha256(builder.spec.sbml.encode()).hexdigest(),
        "flux": builder.spec.flux, "columns": list(space.columns),
        "lows": space.lows.tolist(), "highs": space.highs.tolist(),
        "levels": list(space.levels) if space.levels else None, "n": n, "seed": seed,
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def reference_pool(builder: Builder, space: DesignSpace, n: int, seed: int,
                   cache_dir: Path) -> ReferencePool:
    """The pool's fluxes, from ``cache_dir`` when an identical pool was simulated before."""
    path = Path(cache_dir) / f"pool-{pool_key(builder, space, n, seed)}.npy"
    simulated = not path.is_file()
    if simulated:
        log.info("simulating the reference pool: %d random designs (cached in %s)", n, path)
        designs = space.sample(n, np.random.default_rng([seed, 99]))
        flux, _ = builder.true_flux(designs)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{np.random.default_rng().integers(1 << 30)}.tmp.npy")
        np.save(tmp, flux, allow_pickle=False)
        tmp.replace(path)
    else:
        flux = np.load(path, allow_pickle=False)
    valid = flux[np.isfinite(flux)]
    return ReferencePool(flux, float(np.quantile(valid, 0.95)), float(np.quantile(valid, 0.99)),
                         simulated)
