"""Reading a lab's design space from ``space:`` settings and tables, with one-line refusals.

``space.factors``, ``space.sets``, ``space.exclude`` and ``space.candidates`` describe the space;
``space.landscape`` (a table of measured strains) with ``space.target`` replays one. Tables are
typed by hand, so each refusal names the file, the column, the first bad data row (row 1 is the
first line after the header) and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf

from kinsynth.campaign.landscapes import shipped_landscape
from kinsynth.campaign.parts import GeneSet, PartSpace
from kinsynth.core.errors import KinsynthError
from kinsynth.data.io import describe, read_raw
from kinsynth.data.location import data_file, is_unset

#: the ``space`` keys that make a space of parts (the others describe a kinetic model's)
PART_KEYS = ("factors", "sets", "exclude", "candidates", "landscape")
#: a table column that says whether a build worked; never a design column
VALID = "valid"


def wants_parts(space_cfg: Mapping[str, Any]) -> bool:
    """Whether ``space`` describes slots, sets, a candidate list or a measured table."""
    return any(not _unset(space_cfg.get(key)) for key in PART_KEYS)


def _unset(value: Any) -> bool:
    if isinstance(value, (DictConfig, ListConfig, Mapping, list, tuple)):
        return len(value) == 0
    return is_unset(value)


def plain(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def space_from_config(space_cfg: Mapping[str, Any],
                      numbers: Mapping[str, Sequence[float]] | None = None,
                      model_columns: Sequence[str] | None = None) -> PartSpace:
    """The space of ``space.factors``/``sets``/``exclude``/``candidates`` (with ``numbers``,
    a model's varied columns and their levels). With ``model_columns`` (a simulated
    landscape), every slot must name a model column and give each part a fold change."""
    factors = plain(space_cfg.get("factors")) or {}
    set_cfg = plain(space_cfg.get("sets")) or {}
    if not isinstance(factors, dict):
        raise KinsynthError(f"space.factors={factors!r}: expected a mapping of slot -> list of "
                            "part names (or part name -> descriptor)")
    if not isinstance(set_cfg, dict):
        raise KinsynthError(f"space.sets={set_cfg!r}: expected a mapping of set name -> "
                            "{genes: [...], min: k, max: k}")
    slots, descriptors = {}, {}
    for column, parts in factors.items():
        slots[str(column)], described = _slot(str(column), parts)
        if described is not None:
            descriptors[str(column)] = described
    sets = tuple(_gene_set(str(name), value) for name, value in set_cfg.items())
    levels_of = {c: tuple(float(v) for v in levels) for c, levels in (numbers or {}).items()}
    columns = (*slots, *levels_of, *(g for s in sets for g in s.genes))
    if len(set(columns)) != len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise KinsynthError(f"space: column(s) {twice} appear in more than one of "
                            "space.factors, space.sets and space.vary")
    if model_columns is not None:
        _check_simulated(slots, descriptors, sets, model_columns)
    listed = None
    if not _unset(space_cfg.get("candidates")):
        path = str(space_cfg.get("candidates"))
        where = f"space.candidates={path}"  # every refusal of the list names the setting
        table = read_raw(data_file(path))
        if not columns:  # the list alone defines the space (space.columns: its design columns)
            chosen = plain(space_cfg.get("columns"))
            return infer_space(table, None if chosen is None else [str(c) for c in chosen],
                               where, listed=True, exclude=space_cfg.get("exclude"))
        listed = _candidates(table, columns, where)
    space = PartSpace(tuple(columns), slots, levels_of, sets, descriptors,
                      _exclude(space_cfg.get("exclude"), slots, levels_of, sets))
    if listed is not None:
        listed = check_designs(listed, space, where)
        space = PartSpace(space.columns, slots, levels_of, sets, descriptors, space.exclude,
                          _deduplicated(space.snap(listed), space.columns))
    if space.library_size == 0:
        raise KinsynthError("space: every design is excluded; expected space.exclude to leave "
                            "some designs to build")
    return space


def _slot(column: str, parts: Any) -> tuple[tuple[str, ...], dict[str, float] | None]:
    """A slot's part names, in order, and their descriptors when given as a mapping."""
    described = None
    if isinstance(parts, dict):
        names = [str(k) for k in parts]
        try:
            described = {str(k): float(v) for k, v in parts.items()}
        except (TypeError, ValueError):
            raise KinsynthError(f"space.factors.{column}: expected part name -> number (a "
                                f"descriptor, e.g. a promoter's strength), got {parts!r}") from None
        if not all(np.isfinite(list(described.values()))):
            raise KinsynthError(f"space.factors.{column}: descriptors must be finite numbers")
    elif isinstance(parts, (list, tuple)):
        names = [str(v).strip() for v in parts]
    else:
        raise KinsynthError(f"space.factors.{column}={parts!r}: expected a list of part names")
    if len(names) < 2:
        raise KinsynthError(f"space.factors.{column}: {len(names)} part(s); a slot needs at least "
                            "2 to choose from")
    if len(set(names)) != len(names) or "" in names:
        raise KinsynthError(f"space.factors.{column}: part names must be distinct and non-empty, "
                            f"got {names}")
    return tuple(names), described


def _gene_set(name: str, value: Any) -> GeneSet:
    if not isinstance(value, dict) or "genes" not in value:
        raise KinsynthError(f"space.sets.{name}={value!r}: expected {{genes: [...], min: k, "
                            "max: k}")
    unknown = sorted(set(value) - {"genes", "min", "max", "fold_change"})
    if unknown:
        raise KinsynthError(f"space.sets.{name}: unknown key(s) {unknown} (expected genes, min, "
                            "max, fold_change)")
    genes = [str(g) for g in value["genes"] or []]
    if not genes or len(set(genes)) != len(genes):
        raise KinsynthError(f"space.sets.{name}.genes: expected distinct gene names, got {genes}")
    low, high = value.get("min", 0), value.get("max", len(genes))
    for key, bound in (("min", low), ("max", high)):
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            raise KinsynthError(f"space.sets.{name}.{key}={bound!r}: expected a whole number "
                                ">= 0")
    if not low <= high <= len(genes) or high == 0:
        raise KinsynthError(f"space.sets.{name}: min={low}, max={high} with {len(genes)} genes; "
                            f"expected 0 <= min <= max <= {len(genes)} and max >= 1")
    fold = value.get("fold_change")
    if fold is not None and (isinstance(fold, bool) or not isinstance(fold, (int, float))
                             or not fold > 0):
        raise KinsynthError(f"space.sets.{name}.fold_change={fold!r}: expected a positive "
                            "number (a gene's fold change when it is on, e.g. 0.1)")
    return GeneSet(name, tuple(genes), int(low), int(high),
                   None if fold is None else float(fold))


def _check_simulated(slots: Mapping[str, Sequence[str]], descriptors: Mapping[str, Any],
                     sets: Sequence[GeneSet], model_columns: Sequence[str]) -> None:
    """A simulated space of parts maps onto the model: each slot is a model column whose parts
    carry fold changes, each gene a model column with its set's fold change."""
    for column in slots:
        if column not in model_columns:
            raise KinsynthError(f"space.factors.{column}: not a column of the model; a simulated "
                                f"slot names a model column (one of {list(model_columns)[:6]}"
                                "...) or give a measured table with space.landscape")
        if column not in descriptors or any(v <= 0 for v in descriptors[column].values()):
            raise KinsynthError(f"space.factors.{column}: a simulated slot gives each part its "
                                "fold change, e.g. {pWeak: 0.5, pStrong: 2}")
    for gene_set in sets:
        outside = [g for g in gene_set.genes if g not in model_columns]
        if outside:
            raise KinsynthError(f"space.sets.{gene_set.name}: {outside} are not columns of the "
                                "model (a simulated gene is a model column)")
        if gene_set.fold_change is None:
            raise KinsynthError(f"space.sets.{gene_set.name}.fold_change: a simulated set needs "
                                "the fold change of a gene that is on (e.g. 0.1 for a knockdown)")


def _exclude(value: Any, slots: Mapping[str, Sequence[str]],
             numbers: Mapping[str, Sequence[float]],
             sets: Sequence[GeneSet]) -> tuple[dict[str, tuple[Any, ...]], ...]:
    """``space.exclude``: partial designs (column -> value or list of values) never built."""
    rules = plain(value) or []
    if isinstance(rules, dict):
        rules = [rules]
    genes = {g for s in sets for g in s.genes}
    out = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not rule:
            raise KinsynthError(f"space.exclude[{i}]={rule!r}: expected a partial design, e.g. "
                                "{G8H: CacuG8H, CPR: CroCPR}")
        parsed: dict[str, tuple[Any, ...]] = {}
        for column, values in rule.items():
            values = values if isinstance(values, list) else [values]
            if column in slots:
                unknown = [v for v in values if str(v) not in slots[column]]
                if unknown:
                    raise KinsynthError(f"space.exclude[{i}].{column}: {unknown} not among its "
                                        f"parts {list(slots[column])}")
                parsed[column] = tuple(str(v) for v in values)
            elif column in numbers or column in genes:
                parsed[column] = tuple(float(v) for v in values)
            else:
                raise KinsynthError(f"space.exclude[{i}]: '{column}' is not a column of the "
                                    f"space (expected one of {[*slots, *numbers, *genes]})")
        out.append(parsed)
    return tuple(out)


def _candidates(table: pd.DataFrame, columns: Sequence[str], where: str) -> pd.DataFrame:
    extra = [c for c in table.columns if c not in columns]
    if extra:
        raise KinsynthError(f"{where}: column '{extra[0]}' is not a column of the space "
                            f"(expected exactly {list(columns)})")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KinsynthError(f"{where}: lacks column(s) {missing} of the space")
    return table[list(columns)]


def _deduplicated(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    from kinsynth.campaign.space import design_keys

    keys = pd.Series(design_keys(frame, columns))
    return frame[~keys.duplicated().to_numpy()].reset_index(drop=True)


def check_designs(frame: pd.DataFrame, space: PartSpace, where: str) -> pd.DataFrame:
    """``frame``'s design columns checked cell by cell against ``space``: a part outside its
    slot, a gene cell not 0/1 or a set outside its size bounds is one line."""
    out = frame.copy()
    for column, names in space.slots.items():
        text = frame[column].astype(str).str.strip()
        bad = (~text.isin(names) | frame[column].isna()).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise KinsynthError(f"{where}: column '{column}' has {frame[column].iloc[row]!r} at "
                                f"data row {row + 1}, expected one of {list(names)}")
        out[column] = text.astype(object)
    for column, levels in space.numbers.items():
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise KinsynthError(f"{where}: column '{column}' has {frame[column].iloc[row]!r} at "
                                f"data row {row + 1}, expected a number (one of "
                                f"{list(levels)})")
        out[column] = values
    for gene_set in space.sets:
        for gene in gene_set.genes:
            values = pd.to_numeric(frame[gene], errors="coerce").to_numpy(float)
            bad = ~np.isin(values, (0.0, 1.0))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise KinsynthError(f"{where}: column '{gene}' has {frame[gene].iloc[row]!r} at "
                                    f"data row {row + 1}, expected 0 or 1 (gene off or on)")
            out[gene] = values.astype(np.int64)
        count = out[list(gene_set.genes)].sum(axis=1).to_numpy()
        bad = (count < gene_set.low) | (count > gene_set.high)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise KinsynthError(f"{where}: set '{gene_set.name}' has {int(count[row])} genes on "
                                f"at data row {row + 1}, expected {gene_set.low} to "
                                f"{gene_set.high} (space.sets.{gene_set.name})")
    return out


def infer_space(table: pd.DataFrame, columns: Sequence[str] | None, where: str,
                listed: bool = True, exclude: Any = None,
                ignore: Sequence[str] = ()) -> PartSpace:
    """The space of a table's designs: text columns are slots (their parts sorted, so the order
    does not depend on the table's row order), 0/1 columns genes, other numbers levels; with
    ``listed``, only the table's distinct designs can be built."""
    if columns is None:
        columns = [c for c in table.columns if c not in ignore and c != VALID]
    else:
        unknown = [c for c in columns if c not in table.columns]
        if unknown:
            raise KinsynthError(f"{where}: lacks the design column(s) {unknown} (space.columns)")
    if not columns:
        raise KinsynthError(f"{where}: no design columns left (expected part names or 0/1 genes "
                            "beside the response)")
    slots: dict[str, tuple[str, ...]] = {}
    numbers: dict[str, tuple[float, ...]] = {}
    genes: list[str] = []
    for column in columns:
        kind, values = _column_kind(table[column], column, where)
        if kind == "text":
            slots[column] = tuple(sorted(set(values)))
        elif kind == "gene":
            genes.append(column)
        else:
            numbers[column] = tuple(sorted(set(values)))
    sets: tuple[GeneSet, ...] = ()
    if genes:
        count = table[genes].apply(pd.to_numeric).sum(axis=1)
        sets = (GeneSet("genes", tuple(genes), int(count.min()), int(count.max())),)
    space = PartSpace(tuple(columns), slots, numbers, sets, {},
                      _exclude(exclude, slots, numbers, sets))
    designs = check_designs(table[list(columns)], space, where)
    if not listed:
        return space
    return PartSpace(space.columns, slots, numbers, sets, {}, space.exclude,
                     _deduplicated(space.snap(designs), space.columns))


def _column_kind(values: pd.Series, column: str, where: str) -> tuple[str, list[Any]]:
    """text (part names), gene (0/1) or number; a column mixing text and numbers is refused."""
    present = values.dropna()
    if len(present) < len(values):
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise KinsynthError(f"{where}: design column '{column}' is empty at data row {row + 1}, "
                            "expected a part name, a number or 0/1 in every cell")
    numeric = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    is_number = numeric.notna().to_numpy()
    if is_number.all():
        numbers = numeric.to_numpy(float)
        if np.isin(numbers, (0.0, 1.0)).all():
            return "gene", numbers.tolist()
        return "number", numbers.tolist()
    if is_number.any():
        first_number = int(np.flatnonzero(is_number)[0])
        first_text = int(np.flatnonzero(~is_number)[0])
        raise KinsynthError(f"{where}: design column '{column}' mixes numbers and text "
                            f"({present.iloc[first_number]!r} at data row {first_number + 1}, "
                            f"{present.iloc[first_text]!r} at data row {first_text + 1}); "
                            "expected part names or numbers, not both")
    return "text", present.astype(str).str.strip().tolist()


def read_measured(space_cfg: Mapping[str, Any]) -> tuple[pd.DataFrame, PartSpace, str]:
    """``space.landscape``: the measured table (one row per replicate or isolate, ``valid``
    as a boolean), the space of its designs, and the response column."""
    from kinsynth.campaign.cells import measured_response, valid_flags

    shipped = shipped_landscape(space_cfg.get("landscape"))
    path = landscape_path(space_cfg) or data_file(None)  # unset: make_landscape never asks
    where = describe(path)
    table = read_raw(path)
    target = space_cfg.get("target")
    if shipped is not None and _unset(target):  # a shipped table brings its response
        target = shipped.target
    if _unset(target):
        raise KinsynthError(f"space.target: a measured landscape ({where}) needs the column "
                            "that holds the response, e.g. space.target=titre")
    target = str(target)
    if target not in table.columns:
        raise KinsynthError(f"space.target={target}: {where} has no such column (it has "
                            f"{list(table.columns)})")
    response = measured_response(table[target], target, where)
    valid = (valid_flags(table[VALID], where) if VALID in table.columns
             else pd.Series(True, index=table.index))
    columns = plain(space_cfg.get("columns"))
    if shipped is not None and columns is None:  # and its design columns
        columns = list(shipped.columns)
    if columns is not None:
        columns = [str(c) for c in columns]
    space = infer_space(table, columns, where, listed=True, exclude=space_cfg.get("exclude"),
                        ignore=(target,))
    designs = check_designs(table[list(space.columns)], space, where)
    measured = designs.assign(**{target: response.to_numpy(float),
                                 VALID: valid.to_numpy(bool) & response.notna().to_numpy()})
    return measured, space, target


def landscape_path(space_cfg: Mapping[str, Any]) -> Path | None:
    """The table ``space.landscape`` names: a shipped landscape's (``g8h_cpr``) or a file."""
    value = space_cfg.get("landscape")
    shipped = shipped_landscape(value)
    if shipped is not None:
        return shipped.path
    return None if _unset(value) else data_file(str(value))
