"""Checking generated designs with the run's oracle (``generate.py ... check=true``).

The oracle is the one the run's evaluation used: the embedded simulator for the embedded data set,
else a surrogate fitted on the run's own training split. A design lands when its oracle flux is
within a tolerance of the flux that was requested for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.runs.contract import CONFIG, plain_mapping, read_config, run_folder

if TYPE_CHECKING:
    from kinsynth.evaluate.oracles import Oracle

TOLERANCES = (0.05, 0.10)


def _run_config(run: Path) -> DictConfig:
    """The run's composed config, found from a run dir or a checkpoint, data.path resolved as
    training resolved it."""
    folder = run_folder(run)
    config = None if folder is None else read_config(folder)
    if config is None:
        raise KinsynthError(
            f"run={run}: check=true needs the run's {CONFIG} to rebuild its oracle, not found"
        )
    return config


def _trusted_data_settings(run: Path, cfg: DictConfig) -> dict[str, Any]:
    """The run's ``data:`` settings, checked: a run directory may come from someone else.

    Its data path is read only if it is a regular file (``/dev/zero`` would be read until memory
    runs out, a FIFO would block); a key the data module does not take is one line naming it.
    """
    import inspect

    from kinsynth.core.writing import not_a_regular_file
    from kinsynth.data import KineticDataModule
    from kinsynth.data.location import data_file

    where = f"run={run}: {CONFIG}"
    node = cfg.get("data")
    if not isinstance(node, DictConfig):
        raise KinsynthError(f"{where}: has no data: mapping")
    data = plain_mapping(node)
    data.pop("_target_", None)
    accepted = set(inspect.signature(KineticDataModule.__init__).parameters) - {"self", "frame"}
    unknown = sorted(set(data) - accepted)
    if unknown:
        raise KinsynthError(
            f"{where}: unknown key(s) under data: {', '.join(unknown)}; expected some of "
            f"{', '.join(sorted(accepted))}"
        )
    path = data.get("path")
    if path is not None:
        kind = not_a_regular_file(data_file(path))
        if kind is not None:
            raise KinsynthError(
                f"{where}: data.path={path} is {kind}, not a regular file; check=true reads "
                "a run's training data only from a regular file"
            )
    return data


def run_oracle(run: str | Path) -> tuple[Oracle, bool]:
    """``(predict, is_simulator)`` for the data the run was trained on."""
    from kinsynth.data import KineticDataModule
    from kinsynth.evaluate.oracles import make_oracle

    cfg = _run_config(Path(run))
    data = _trusted_data_settings(Path(run), cfg)
    data["device"] = "cpu"
    datamodule = KineticDataModule(**data)
    datamodule.setup()
    # the same surrogate the run's evaluation fitted: same rows cap, same seed
    cap = OmegaConf.select(cfg, "callbacks.evaluation.max_rows.oracle_fit", default=None)
    seed = int(OmegaConf.select(cfg, "seed", default=0))
    oracle, info = make_oracle("auto", datamodule, cap, seed)
    assert oracle is not None
    return oracle, bool(info.get("oracle_is_simulator"))


def simulate_designs(designs: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The simulator's flux and validity for each design, on the designs' own index."""
    from kinsynth.simulate import oracle as simulate

    return simulate(designs[features])


@dataclass
class CheckSummary:
    """Running counts over the checked designs, chunk by chunk."""

    target: str
    rows: int = 0
    within: dict[float, int] = field(default_factory=lambda: dict.fromkeys(TOLERANCES, 0))
    #: designs without an oracle flux (the simulator found no steady state): they never land
    invalid: int = 0
    requested: list[np.ndarray] = field(default_factory=list)
    flux: list[np.ndarray] = field(default_factory=list)

    def add(self, requested: np.ndarray, flux: np.ndarray) -> None:
        """Count one chunk: invalid designs (NaN flux) never land."""
        self.rows += len(requested)
        self.invalid += int(np.sum(~np.isfinite(flux)))
        error = np.abs(np.nan_to_num(flux, nan=np.inf) - requested)
        for tolerance in TOLERANCES:
            self.within[tolerance] += int(np.sum(error <= tolerance * np.abs(requested)))
        self.requested.append(requested)
        self.flux.append(flux)

    def spearman(self) -> float:
        """Rank correlation of request and oracle flux over valid designs (NaN for one request)."""
        req, flux = np.concatenate(self.requested), np.concatenate(self.flux)
        ok = np.isfinite(flux)
        if ok.sum() < 2 or np.ptp(req[ok]) == 0 or np.ptp(flux[ok]) == 0:
            return float("nan")
        from scipy import stats  # here: generate.py checks its arguments before scipy loads

        return float(stats.spearmanr(req[ok], flux[ok]).statistic)

    def lines(self) -> list[str]:
        """What the console says about the check."""
        out = [
            f"{self.within[t]} of {self.rows} designs ({self.within[t] / max(self.rows, 1):.1%}) "
            f"have oracle {self.target} within ±{t:.0%} of the request"
            for t in TOLERANCES
        ]
        share = self.invalid / max(self.rows, 1)
        out.append(f"{self.invalid} of {self.rows} designs ({share:.1%}) are invalid: no oracle "
                   f"{self.target} (the simulator found no steady state)")
        req = np.concatenate(self.requested) if self.requested else np.zeros(0)
        if req.size and np.ptp(req) > 0:
            out.append(f"Spearman(request, oracle {self.target}) = {self.spearman():.3f}")
        return out
