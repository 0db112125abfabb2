"""Loading a kinetic model and its parameter-range table into one picklable :class:`ModelSpec`.

The spec carries the model as an SBML string (not a RoadRunner object) so that it can be shipped to
worker processes, each of which compiles it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from kinsynth.simulate.compile import compile_model
from kinsynth.simulate.errors import SimulationError

EMBEDDED_MODEL = "pathway_I.ant"
EMBEDDED_RANGES = "pathway_I_ranges.yaml"


@dataclass(frozen=True)
class ParameterRange:
    """One sampled column: ``name`` in the data set, model parameter ``id``, fold-change range."""

    name: str
    id: str
    low: float
    high: float


@dataclass(frozen=True)
class ModelSpec:
    """A model ready to simulate: SBML text, the sampled parameters, and what to report."""

    sbml: str
    ranges: tuple[ParameterRange, ...]
    flux: str
    target: str

    @property
    def columns(self) -> list[str]:
        """Feature column names, in data-set order."""
        return [r.name for r in self.ranges]

    @property
    def parameter_ids(self) -> list[str]:
        return [r.id for r in self.ranges]

    @property
    def lows(self) -> np.ndarray:
        return np.array([r.low for r in self.ranges], dtype=float)

    @property
    def highs(self) -> np.ndarray:
        return np.array([r.high for r in self.ranges], dtype=float)


def _embedded(name: str) -> str:
    return resources.files("kinsynth.simulate").joinpath("models", name).read_text()


def _antimony_to_sbml(text: str, origin: str) -> str:
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        error = antimony.getLastError().strip().splitlines()
        raise SimulationError(f"cannot read Antimony model {origin}: {error[0] if error else '?'}")
    return antimony.getSBMLString(antimony.getMainModuleName())


def read_model(model: str | Path | None) -> str:
    """SBML text of ``model``: None = embedded pathway I, else an SBML or Antimony file."""
    if model is None:
        return _antimony_to_sbml(_embedded(EMBEDDED_MODEL), EMBEDDED_MODEL)
    path = Path(model)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SimulationError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("<"):
        return text
    return _antimony_to_sbml(text, str(path))


def _range_rows(table: str | Path | None) -> tuple[list[dict], dict]:
    """Rows and top-level keys (flux, target) of a YAML or CSV range table."""
    if table is None:
        doc = yaml.safe_load(_embedded(EMBEDDED_RANGES))
        return doc["parameters"], doc
    path = Path(table)
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path).to_dict("records"), {}
        doc = yaml.safe_load(path.read_text())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SimulationError(f"cannot read parameter-range table {path}: {exc}") from exc
    if isinstance(doc, list):
        return doc, {}
    if isinstance(doc, dict) and isinstance(doc.get("parameters"), list):
        return doc["parameters"], doc
    raise SimulationError(f"{path}: expected a list of parameters or a 'parameters:' list")


def read_ranges(table: str | Path | None) -> tuple[tuple[ParameterRange, ...], dict]:
    """Parse a range table: rows of ``id`` (or ``parameter``), ``low``, ``high``[, ``name``]."""
    rows, meta = _range_rows(table)
    ranges = []
    for i, row in enumerate(rows):
        pid = row.get("id", row.get("parameter"))
        if pid is None or "low" not in row or "high" not in row:
            raise SimulationError(
                f"parameter-range row {i} needs 'id' (or 'parameter'), 'low', 'high'"
            )
        low, high = float(row["low"]), float(row["high"])
        if not 0 < low <= high:
            raise SimulationError(f"parameter {pid}: need 0 < low <= high, got {low}, {high}")
        ranges.append(ParameterRange(str(row.get("name") or pid), str(pid), low, high))
    if not ranges:
        raise SimulationError("the parameter-range table is empty")
    return tuple(ranges), meta


def load_model(
    model: str | Path | ModelSpec | None = None,
    ranges: str | Path | None = None,
    flux: str | None = None,
    target: str | None = None,
) -> ModelSpec:
    """Resolve model + ranges into a :class:`ModelSpec`.

    With ``model=None`` the embedded pathway I model and its ranges are used. A user model needs a
    range table, and the reaction whose flux to report either as ``flux`` or as a ``flux:`` key in
    the YAML table; the target column is then named after the flux unless ``target`` is given.
    """
    if isinstance(model, ModelSpec):
        return model
    if model is not None and ranges is None:
        raise SimulationError("a user-supplied model needs a parameter-range table (ranges=...)")
    sbml = read_model(model)
    parsed, meta = read_ranges(ranges)
    flux = flux or meta.get("flux")
    if not flux:
        raise SimulationError(
            "name the reaction whose flux to report (flux=... or 'flux:' in YAML)"
        )
    spec = ModelSpec(sbml, parsed, str(flux), str(target or meta.get("target") or flux))
    _check_ids(spec, model)
    return spec


def _check_ids(spec: ModelSpec, origin: str | Path | None = None) -> None:
    """Fail early, in the main process, on an unreadable model or ids it does not have."""
    try:
        rr = compile_model(spec.sbml)
    except RuntimeError as error:  # libsbml/libroadrunner: a truncated or invalid document
        reason = " ".join(str(error).split())
        raise SimulationError(f"cannot read model file {origin}: {reason}") from None
    parameters = set(rr.model.getGlobalParameterIds())
    missing = [p for p in spec.parameter_ids if p not in parameters]
    if missing:
        raise SimulationError(f"model has no global parameter(s) {', '.join(missing)}")
    if spec.flux not in rr.model.getReactionIds():
        raise SimulationError(f"model has no reaction {spec.flux!r} to report the flux of")


def check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise a :class:`SimulationError` naming the first feature column ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SimulationError(f"configuration table lacks column(s): {', '.join(missing)}")
