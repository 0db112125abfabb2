"""One step of a real campaign: fit on the strains a lab built and measured, propose the next plate.

No simulation: the measured response in the user's table is all the strategy learns from. The
space is a kinetic model's fold changes (``space.model_file``, ``levels``, ``vary``) or a lab's
own library (``space.factors``/``sets``/``candidates``, or the designs of a measured table,
``space.landscape``); a library of parts loads no model, so its response column is a setting
(``data.target``, or ``space.target``).

The table is typed by hand, so it gets the care ``train.py``'s CSVs get: every cell a strategy
would choke on is refused in one line naming the file, column and first bad data row (row 1 is the
first line after the header), and what a strategy does with an unusual but meaningful table is
said in one line:

- replicates (rows with the same design, common when a lab builds a strain more than once) become
  one design whose response is the mean of the replicates that produced; it is valid when any did;
- an empty response is a strain that did not produce (a failure); a zero is a measured zero;
- a negative response is used as measured (the strategies rank the highest first);
- a fold change outside the space's ranges is used as measured; proposals stay inside the ranges;
- a part outside a slot, or a gene set outside its size bounds, is refused: no learner can place it.

The plate holds the proposed designs in the order of :data:`PLATE_COLUMNS`' ``rank`` (1 = best),
each with the strategy's predicted response and its uncertainty: columns named after the target
(``predicted_<target>``), never the target itself, so a plate is not mistaken for a measured table.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from kinsynth.campaign.cells import cell, measured_response, valid_flags
from kinsynth.campaign.landscape import make_landscape
from kinsynth.campaign.part_config import (
    check_designs,
    landscape_path,
    plain,
    read_measured,
    space_from_config,
    wants_parts,
)
from kinsynth.campaign.parts import PartSpace
from kinsynth.campaign.space import DesignSpace, Space, design_keys
from kinsynth.campaign.strategies import Strategy, strategy_from_config
from kinsynth.core.counts import positive_int
from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import FLOAT_FORMAT, atomic_target, check_target, overwrite_flag
from kinsynth.data.io import describe, read_raw
from kinsynth.data.location import data_file, is_unset

log = logging.getLogger(__name__)

#: the plate's columns beside the design: the prediction and its sd (``{}``: the target's name),
#: and the rank (1 = the best predicted; the strategy's own order where it predicts nothing)
PLATE_COLUMNS = ("predicted_{}", "uncertainty_{}", "rank")


def read_built(path: str | Path, columns: list[str], target: str,
               fixed: dict[str, float] | None = None,
               space: Space | None = None) -> pd.DataFrame:
    """A built-designs table (built.csv's format) from its file: see :func:`check_built`."""
    if not Path(path).expanduser().is_file():
        raise KinsynthError(f"data.path={path}: no such file of built designs")
    return check_built(read_raw(path), columns, target, fixed, describe(path), space)


def check_built(table: pd.DataFrame, columns: list[str], target: str,
                fixed: dict[str, float] | None = None, where: str = "built table",
                space: Space | None = None) -> pd.DataFrame:
    """A built-designs table checked cell by cell: one row per design, replicates averaged.

    ``valid`` defaults to "has a flux". ``fixed`` are the columns the campaign does not vary
    (``space.vary``) with their value: a lab that engineers six enzymes records six columns, so
    those others may be absent. With ``space``, fold changes outside its ranges are reported.
    """
    table = table.copy()
    for column, value in (fixed or {}).items():
        if column not in table.columns:
            table[column] = value
    missing = [c for c in [*columns, target] if c not in table.columns]
    if missing:
        raise KinsynthError(f"{where}: lacks column(s) {missing} (expected built.csv's format: "
                            f"the design columns and the measured {target})")
    if isinstance(space, PartSpace):  # part names, 0/1 genes and numeric levels, cell by cell
        designs = check_designs(table[columns], space, where)[columns]
    else:
        designs = pd.DataFrame({c: _fold_changes(table[c], c, where) for c in columns})
    flux = measured_response(table[target], target, where)
    valid = (valid_flags(table["valid"], where) if "valid" in table
             else pd.Series(np.isfinite(flux), index=table.index))
    produced = valid & np.isfinite(flux)
    if (valid & ~produced).any():
        row = int(np.flatnonzero((valid & ~produced).to_numpy())[0])
        raise KinsynthError(f"{where}: column '{target}' is empty at data row {row + 1} where "
                            f"'valid' says yes; expected the measured response, or valid=no for a "
                            "strain that did not produce")
    built = designs.assign(**{target: flux.where(produced), "valid": produced})
    if space is not None:
        _report_outside(designs, space, where)
    _report_negative(built[target], target, where)
    return _average_replicates(built, columns, target, where)


def _fold_changes(raw: pd.Series, column: str, where: str) -> pd.Series:
    """A design column: every cell a positive, finite fold change (a strategy works in logs)."""
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    numbers = values.to_numpy()
    empty = raw.isna().to_numpy()
    bad = empty | ~(np.isfinite(numbers) & (numbers > 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "an empty cell" if empty[row] else f"{cell(raw, row)!r}"
        raise KinsynthError(f"{where}: column '{column}' has {what} at data row {row + 1} "
                            f"({int(bad.sum())} bad cell(s) in all), expected a positive fold "
                            "change for every built design")
    return values


def _report_outside(designs: pd.DataFrame, space: Space, where: str) -> None:
    """Say which fold changes lie outside the space's ranges (a strain from a wider library)."""
    if not isinstance(space, DesignSpace):
        return
    values = designs[list(space.columns)].to_numpy(float)
    outside = (values < space.lows - 1e-12) | (values > space.highs + 1e-12)
    if not outside.any():
        return
    parts = []
    for j in np.flatnonzero(outside.any(axis=0)):
        row = int(np.flatnonzero(outside[:, j])[0])
        parts.append(f"'{space.columns[j]}' {int(outside[:, j].sum())} row(s), first data row "
                     f"{row + 1}: {values[row, j]:g} outside [{space.lows[j]:g}, "
                     f"{space.highs[j]:g}]")
    log.warning("%s: fold changes outside the design space, used as measured (proposals stay "
                "inside it): %s", where, "; ".join(parts))


def _report_negative(flux: pd.Series, target: str, where: str) -> None:
    negative = (flux < 0).to_numpy()
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        log.warning("%s: column '%s' holds %d negative flux value(s) (first at data row %d: %g); "
                    "used as measured, the strategies rank the highest flux first", where,
                    target, int(negative.sum()), row + 1, flux.iloc[row])


def _average_replicates(built: pd.DataFrame, columns: list[str], target: str,
                        where: str) -> pd.DataFrame:
    """One row per design: the mean flux of the replicates that produced; valid if any did."""
    codes, uniques = pd.factorize(pd.Series(design_keys(built, columns)))
    if len(uniques) == len(built):
        return built
    grouped = built.groupby(codes, sort=True)
    merged = grouped[columns].first()
    merged[target] = grouped[target].mean()  # NaN (did not produce) is skipped, as in a lab
    merged["valid"] = grouped["valid"].any()
    replicated = int((np.bincount(codes) > 1).sum())
    log.info("%s: %d rows hold %d designs (%d built more than once); each design's response is "
             "the mean of its replicates that produced, and it is valid when any did", where,
             len(built), len(merged), replicated)
    return merged.reset_index(drop=True)


def check_out(out: Any) -> Path:
    """``out=``, required: a file named ``None`` is nobody's plate."""
    if out in (None, "", "None", "null"):
        raise KinsynthError("out: step=propose writes the proposed designs to out=<file.csv>; "
                            "none was given")
    path = Path(str(out)).expanduser()
    if path.is_symlink() and not path.exists():
        raise KinsynthError(f"out={out}: is a symbolic link to a missing file "
                            f"({path.readlink()}); remove the link or choose another file")
    return path


def propose_from_table(cfg: DictConfig) -> pd.DataFrame:
    """Fit the configured strategy on ``cfg.data.path`` and write ``cfg.out``."""
    out = check_out(cfg.get("out"))
    overwrite = overwrite_flag(cfg.get("overwrite", False))
    check_target(out, overwrite)  # a link, a FIFO, a device or an existing file: refused now
    if is_unset(cfg.data.get("path")):
        raise KinsynthError("data.path: step=propose fits on the strains you built; pass "
                            "data.path=<built.csv> (the design columns and the measured response)")
    designs = propose_plate(cfg, data_file(cfg.data.path))
    with atomic_target(out, overwrite) as tmp:  # whole under its name, never through a link
        designs.to_csv(tmp, index=False, float_format=FLOAT_FORMAT)
    return designs


def plate_space(cfg: DictConfig) -> tuple[Space, str]:
    """The space a plate is drawn from and the built table's response column.

    A measured table (``space.landscape``) gives its designs; slots, sets or a candidate list
    without ``space.model_file`` (or ``space.vary``) give a library that needs no model, its
    response named by ``data.target`` or ``space.target``; anything else is a kinetic model's
    space, whose response is the model's output unless ``data.target`` renames it.
    """
    space_cfg = cfg.space
    target = _target_setting(cfg)
    if landscape_path(space_cfg) is not None:
        settings = plain(space_cfg)
        if target is not None:
            settings["target"] = target
        _, space, target = read_measured(settings)
        return space, target
    if wants_parts(space_cfg) and is_unset(space_cfg.get("model_file")) \
            and is_unset(space_cfg.get("vary")):
        if target is None:
            raise KinsynthError("data.target: a library of parts (space.factors, space.sets or "
                                "space.candidates) has no model to name its response; expected "
                                "data.target=<the built table's measured column>")
        return space_from_config(space_cfg), target
    landscape = make_landscape(cfg)
    return landscape.space, target or landscape.target


def _target_setting(cfg: DictConfig) -> str | None:
    """``data.target`` or ``space.target`` (the same column when both are given)."""
    given = {key: str(value) for key, value in (("data.target", cfg.data.get("target")),
                                                ("space.target", cfg.space.get("target")))
             if not is_unset(value) and str(value).strip()}
    if len(set(given.values())) > 1:
        raise KinsynthError(f"data.target={given['data.target']} and space.target="
                            f"{given['space.target']} name different columns; expected one "
                            "response column (set one of them)")
    return next(iter(given.values()), None)


def propose_plate(cfg: DictConfig, built: pd.DataFrame | Path) -> pd.DataFrame:
    """The next ``cfg.designs_per_cycle`` designs from a built table (a frame, or its CSV file),
    ranked, with the strategy's prediction and uncertainty (:data:`PLATE_COLUMNS`)."""
    n = positive_int("designs_per_cycle", cfg.get("designs_per_cycle"))
    space, target = plate_space(cfg)
    columns = list(space.columns)
    extra = plate_columns(target)
    clash = [c for c in extra if c in columns]
    if clash:
        raise KinsynthError(f"space: design column '{clash[0]}' is a name the plate gives its "
                            f"{'rank' if clash[0] == 'rank' else 'prediction'}; expected design "
                            f"columns other than {list(extra)}")
    if isinstance(built, pd.DataFrame):
        where = "built table"
        built = check_built(built, columns, target, space.fixed, where, space)
    else:
        where = describe(built)
        built = read_built(built, columns, target, space.fixed, space)
    strategy = strategy_from_config(cfg.strategy, space, target, int(cfg.seed))
    measured, needed = int(built["valid"].sum()), max(1, strategy.min_measured)
    if measured < needed:
        raise KinsynthError(f"{where}: {measured} built design(s) have a measured {target}; "
                            f"strategy={strategy.name} needs at least {needed}")
    rng = np.random.default_rng([int(cfg.seed), 2])
    designs = strategy.propose(built, n, rng)
    if len(designs) < n:  # a small library: every design is built once, so fewer are left
        log.warning("designs_per_cycle=%d: returning %d design(s), all the library has left "
                    "unbuilt (it holds %.0f, %d built)", n, len(designs), space.library_size,
                    len(built))
    return ranked_plate(designs, strategy, target)


def plate_columns(target: str) -> list[str]:
    """The names of the plate's prediction, uncertainty and rank columns for ``target``."""
    return [name.format(target) for name in PLATE_COLUMNS]


def ranked_plate(designs: pd.DataFrame, strategy: Strategy, target: str) -> pd.DataFrame:
    """``designs`` best first, with the strategy's predicted response, its sd and the rank.

    The rank follows the prediction (highest first); designs the strategy predicts nothing for
    keep its own order (a strategy returns its batch best first), after those it predicts.
    """
    predicted, spread = strategy.predict(designs.reset_index(drop=True))
    predicted = np.asarray(predicted, float).reshape(-1)
    spread = np.asarray(spread, float).reshape(-1)
    if len(predicted) != len(designs) or len(spread) != len(designs):
        raise KinsynthError(f"strategy={strategy.name}: predict() returned {len(predicted)} "
                            f"predictions and {len(spread)} uncertainties for {len(designs)} "
                            "designs; expected one each")
    order = np.argsort(-predicted, kind="stable")  # NaN last, ties in the strategy's order
    names = plate_columns(target)
    plate = designs.iloc[order].reset_index(drop=True)
    plate[names[0]] = predicted[order]
    plate[names[1]] = spread[order]
    plate[names[2]] = np.arange(1, len(plate) + 1)
    return plate
