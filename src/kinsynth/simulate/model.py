"""Loading a kinetic model and its parameter-range table into one picklable :class:`ModelSpec`.

The spec carries the model as an SBML string (not a RoadRunner object) so that it can be shipped to
worker processes, each of which compiles it once.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from kinsynth.simulate.compile import compile_model
from kinsynth.simulate.errors import SimulationError

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources.abc from Python 3.11

EMBEDDED = "pathway_I"  # the named model used when none is given
MODEL_SUFFIXES = (".ant", ".xml")
OBJECTIVES = ("steady_state", "time_course")
OUTPUT_PARAMETERS = ("design", "wild_type")


@dataclass(frozen=True)
class ParameterRange:
    """One sampled column: ``name`` in the data set, model parameter ``id``, fold-change range."""

    name: str
    id: str
    low: float
    high: float


@dataclass(frozen=True)
class ModelSpec:
    """A model ready to simulate: SBML text, the sampled parameters, and what to report.

    ``flux`` is the output: a reaction (its rate) or a species (its concentration). With
    ``objective="steady_state"`` it is read at the steady state; with ``"time_course"`` at ``time``,
    integrating from the model's initial state. ``output_parameters="wild_type"`` reads the output
    at the design's state but with every varied parameter back at its wild-type value: van Lent et
    al.'s code computes its fluxes that way (its flux function is handed the unperturbed parameter
    values), so their published numbers need it. ``levels``: a named model's promoter library.
    """

    sbml: str
    ranges: tuple[ParameterRange, ...]
    flux: str
    target: str
    objective: str = "steady_state"
    time: float | None = None
    output_parameters: str = "design"
    levels: tuple[float, ...] | None = None
    name: str | None = None

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


def _models_dir() -> Traversable:
    return resources.files("kinsynth.simulate").joinpath("models")


def named_models() -> list[str]:
    """Models shipped in ``kinsynth/simulate/models/``: each ``<name>.ant|.xml`` beside a
    ``<name>_ranges.yaml`` (dropping such a pair into the folder adds a named model)."""
    names = {f.name for f in _models_dir().iterdir()}
    return sorted(n.rsplit(".", 1)[0] for n in names
                  if n.endswith(MODEL_SUFFIXES) and f"{n.rsplit('.', 1)[0]}_ranges.yaml" in names)


def _named(model: str | Path | None) -> str | None:
    """The shipped model ``model`` names (None = the embedded one), else None for a file path."""
    if model is None:
        return EMBEDDED
    text = str(model)
    if "/" in text or "\\" in text or Path(text).suffix:
        return None
    if text in named_models():
        return text
    if not Path(text).exists():
        near = difflib.get_close_matches(text, named_models(), n=3)
        raise SimulationError(
            f"model_file={text}: no such file and no shipped model of that name (shipped: "
            f"{', '.join(named_models())}{'; did you mean ' + ', '.join(near) if near else ''})"
        )
    return None


def _embedded(name: str) -> str:
    return _models_dir().joinpath(name).read_text()


def _antimony_to_sbml(text: str, origin: str) -> str:
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        error = antimony.getLastError().strip().splitlines()
        raise SimulationError(f"cannot read Antimony model {origin}: {error[0] if error else '?'}")
    return antimony.getSBMLString(antimony.getMainModuleName())


def _has_local_parameters(sbml: str) -> bool:
    """Kinetic-law parameters: ``<localParameter>`` (L3) or a parameter list in a kinetic law."""
    return "<localParameter" in sbml or bool(
        re.search(r"<kineticLaw\b(?:(?!</kineticLaw>).)*<listOfParameters", sbml, re.S))


def _promote_local_parameters(sbml: str, origin: str) -> str:
    """SBML whose kinetic-law parameters are globals named ``<reaction>_<parameter>``.

    Antimony's SBML import does exactly that promotion; a round trip through it keeps species,
    reactions and rules, and libroadrunner can then set the parameters by id.
    """
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadSBMLString(sbml) < 0:
        lines = [x.strip() for x in antimony.getLastError().splitlines() if x.strip()]
        first = next((x for x in lines if "[Error]" in x or "[Fatal]" in x), lines[0] if lines
                     else "?")
        raise SimulationError(f"cannot read model file {origin}: {first[:300]}")
    return antimony.getSBMLString(antimony.getMainModuleName())


def read_model(model: str | Path | None) -> str:
    """SBML text of ``model``: a shipped model's name (None = pathway I), or an SBML (.xml),
    Antimony (.ant) or SKiMpy (.yml/.yaml) file."""
    name = _named(model)
    if name is not None:
        for suffix in MODEL_SUFFIXES:
            path = _models_dir().joinpath(name + suffix)
            if path.is_file():
                text = path.read_text()
                return text if suffix == ".xml" else _antimony_to_sbml(text, name + suffix)
    assert model is not None, "None names the embedded model, which ships with kinsynth"
    path = Path(model)
    if path.suffix.lower() in (".yml", ".yaml"):
        from kinsynth.simulate.skimpy import read_skimpy

        return _antimony_to_sbml(read_skimpy(path), str(path))
    try:
        text = path.read_text()
    except OSError as exc:
        raise SimulationError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("<"):
        return _promote_local_parameters(text, str(path)) if _has_local_parameters(text) else text
    return _antimony_to_sbml(text, str(path))


def _range_rows(table: str | Path | None, name: str | None = None) -> tuple[list[dict], dict]:
    """Rows and top-level keys (flux, target, objective, ...) of a YAML or CSV range table;
    ``table=None``: the shipped ranges of the named model ``name``."""
    if table is None:
        doc = yaml.safe_load(_embedded(f"{name or EMBEDDED}_ranges.yaml"))
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


def read_ranges(table: str | Path | None, name: str | None = None
                ) -> tuple[tuple[ParameterRange, ...], dict]:
    """Parse a range table: rows of ``id`` (or ``parameter``), ``low``, ``high``[, ``name``]."""
    rows, meta = _range_rows(table, name)
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
    objective: str | None = None,
    time: float | None = None,
    output: str | None = None,
) -> ModelSpec:
    """Resolve model + ranges into a :class:`ModelSpec`.

    ``model``: None (the embedded pathway I), a shipped model's name (:func:`named_models`, e.g.
    ``"vanlent_pathway_A"``), or an SBML, Antimony or SKiMpy file. A named model brings its own
    range table, output and objective; a file needs a range table and the output (``output`` or
    ``flux``: a reaction, whose rate is reported, or a species, whose concentration is; or the
    table's ``flux:`` key). ``objective``/``time`` override the table's ``objective:``/``time:``.
    The target column is named after the output unless ``target`` or the table's ``target:``
    names it.
    """
    if isinstance(model, ModelSpec):
        return model
    name = _named(model)
    if name is None and ranges is None:
        raise SimulationError("a user-supplied model needs a parameter-range table (ranges=...)")
    sbml = read_model(model)
    parsed, meta = read_ranges(ranges, name)
    out = output or flux or meta.get("output") or meta.get("flux")
    if not out:
        raise SimulationError(
            "name the reaction whose flux to report (flux=... or 'flux:' in YAML)"
        )
    objective = str(objective or meta.get("objective") or "steady_state")
    if objective not in OBJECTIVES:
        raise SimulationError(f"objective={objective!r}: expected one of {list(OBJECTIVES)}")
    # the table's time: may be any YAML value; float() below checks it
    end: Any = time if time is not None else meta.get("time")
    if objective == "time_course":
        try:
            end = float(end)
        except (TypeError, ValueError):
            raise SimulationError(f"objective=time_course needs an end time > 0 (time=...), got "
                                  f"{end!r}") from None
        if not (math.isfinite(end) and end > 0):  # inf would pass "> 0" and stall CVODE
            raise SimulationError(f"time={end}: the end time of a time course must be a finite "
                                  "number > 0")
    output_parameters = str(meta.get("output_parameters") or "design")
    if output_parameters not in OUTPUT_PARAMETERS:
        raise SimulationError(f"output_parameters={output_parameters!r}: expected one of "
                              f"{list(OUTPUT_PARAMETERS)}")
    levels = meta.get("levels") if ranges is None else None
    spec = ModelSpec(sbml, parsed, str(out), str(target or meta.get("target") or out),
                     objective, None if end is None else float(end), output_parameters,
                     tuple(float(v) for v in levels) if levels else None, name)
    return _check_model(spec, model if name is None else name)


def _check_model(spec: ModelSpec, origin: str | Path | None = None) -> ModelSpec:
    """Fail early, in the main process, on an unreadable model, ids it does not have, or SBML
    constructs the simulator cannot honour; returns the spec with range ids resolved."""
    try:
        rr = compile_model(spec.sbml, spare=True)  # read-only here; the simulator reuses it
    except RuntimeError as error:  # libsbml/libroadrunner: a truncated or invalid document
        reason = " ".join(str(error).split())
        raise SimulationError(f"cannot read model file {origin}: {reason}") from None
    parameters = list(rr.model.getGlobalParameterIds())
    resolved = []
    for r in spec.ranges:
        pid = r.id
        if pid not in parameters and "." in pid:  # reaction.parameter: a kinetic-law parameter
            pid = pid.replace(".", "_", 1)
        if pid not in parameters:
            near = difflib.get_close_matches(r.id.replace(".", "_"), parameters, n=4, cutoff=0.6)
            raise SimulationError(
                f"{origin}: the range table names {r.id!r}, which the model has no parameter "
                f"called (nearest: {', '.join(near) if near else 'none'}; a kinetic-law "
                f"parameter is reaction.parameter or reaction_parameter)"
            )
        resolved.append(ParameterRange(r.name, pid, r.low, r.high))
    ids = [r.id for r in resolved]
    if rr.model.getNumEvents():
        raise SimulationError(
            f"{origin}: the model has events ({', '.join(rr.model.getEventIds())}); kinsynth "
            f"cannot honour SBML events (remove them or write them as rate laws)"
        )
    for kind, ruled in (("rate rule", rr.getRateRuleIds()),
                        ("assignment rule", rr.getAssignmentRuleIds())):
        clash = [i for i in ids if i in ruled]
        if clash:
            raise SimulationError(
                f"{origin}: the range table varies {', '.join(clash)}, which a {kind} sets; "
                f"a fold change of it would be overwritten (vary the parameters its rule reads)"
            )
    outputs = list(rr.model.getReactionIds()) + list(rr.model.getFloatingSpeciesIds()) + \
        list(rr.model.getBoundarySpeciesIds())
    if spec.flux not in outputs:
        near = difflib.get_close_matches(spec.flux, outputs, n=4, cutoff=0.6)
        raise SimulationError(
            f"model has no reaction {spec.flux!r} to report the flux of (nor a species of that "
            f"id; nearest: {', '.join(near) if near else 'none'})"
        )
    return replace(spec, ranges=tuple(resolved))


def check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise a :class:`SimulationError` naming the first feature column ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SimulationError(f"configuration table lacks column(s): {', '.join(missing)}")
