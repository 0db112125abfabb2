"""One step of a real campaign: fit on the strains a lab built and measured, propose the next plate.

No simulation: the measured flux in the user's table is all the strategy learns from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from kinsynth.campaign.loop import make_space
from kinsynth.campaign.strategies import make_strategy
from kinsynth.data.writing import FLOAT_FORMAT
from kinsynth.errors import KinsynthError


def read_built(path: str | Path, columns: list[str], target: str,
               fixed: dict[str, float] | None = None) -> pd.DataFrame:
    """A built-designs table (built.csv's format); ``valid`` defaults to "has a flux".

    ``fixed`` are the columns the campaign does not vary (``space.vary``) with their value: a lab
    that engineers six enzymes records six columns, so those others may be absent.
    """
    path = Path(path)
    if not path.is_file():
        raise KinsynthError(f"data.path={path}: no such file of built designs")
    try:
        table = pd.read_csv(path)
    except (ValueError, OSError) as error:
        raise KinsynthError(f"{path}: not a readable CSV ({error})") from None
    return check_built(table, columns, target, fixed, str(path))


def check_built(table: pd.DataFrame, columns: list[str], target: str,
                fixed: dict[str, float] | None = None, path: str = "built table") -> pd.DataFrame:
    """A copy of a built-designs table with its fixed columns and ``valid`` filled in."""
    table = table.copy()
    for column, value in (fixed or {}).items():
        if column not in table.columns:
            table[column] = value
    missing = [c for c in [*columns, target] if c not in table.columns]
    if missing:
        raise KinsynthError(f"{path}: lacks column(s) {missing} (expected built.csv's format: "
                            f"the design columns and the measured {target})")
    flux = pd.to_numeric(table[target], errors="coerce")
    if "valid" not in table:
        table["valid"] = np.isfinite(flux)
    table[target] = flux.where(table["valid"].astype(bool))
    if not table["valid"].any():
        raise KinsynthError(f"{path}: no built design has a measured {target}")
    return table


def propose_from_table(cfg: DictConfig) -> pd.DataFrame:
    """Fit the configured strategy on ``cfg.data.path`` and write ``cfg.out``."""
    out = Path(str(cfg.out))
    if out.exists() and not cfg.get("overwrite", False):
        raise KinsynthError(f"out={out}: exists; choose another file or pass overwrite=true")
    designs = propose_plate(cfg, Path(str(cfg.data.path)))
    out.parent.mkdir(parents=True, exist_ok=True)
    designs.to_csv(out, index=False, float_format=FLOAT_FORMAT)
    return designs


def propose_plate(cfg: DictConfig, built: pd.DataFrame | Path) -> pd.DataFrame:
    """The next ``cfg.designs_per_cycle`` designs from a built table (a frame, or its CSV file)."""
    space, builder = make_space(cfg)
    columns, target = list(space.columns), builder.spec.target
    built = check_built(built, columns, target, space.fixed) if isinstance(built, pd.DataFrame) \
        else read_built(built, columns, target, space.fixed)
    options = OmegaConf.to_container(cfg.strategy, resolve=True)
    assert isinstance(options, dict)
    name = str(options.pop("name", ""))
    strategy = make_strategy(name, space, builder.spec.target, int(cfg.seed), options)
    rng = np.random.default_rng([int(cfg.seed), 2])
    return space.snap(strategy.propose(built, int(cfg.designs_per_cycle), rng))
