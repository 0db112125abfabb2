"""Reading and validating kinetic-parameter tables.

Every problem a user can cause with an input file is turned into a one-line
:class:`~kinsynth.core.errors.KinsynthError` that names the file (and column/row where relevant) and
says what was expected. Downstream code (splitting, scaling, models) can then assume a clean,
finite, float64 table and never has to re-check.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.core.inputs import MIB, input_problem
from kinsynth.data.default import DEFAULT_DATA_PATH
from kinsynth.data.location import data_file

__all__ = ["KineticTable", "describe", "read_raw", "read_table"]

#: Delimiters we recognise when a file is not comma-separated, with the word used in messages.
_OTHER_DELIMITERS: dict[str, str] = {";": ";-separated", "\t": "tab-separated", "|": "|-separated"}
#: Header names that mark a first column as a row id rather than a feature.
_INDEX_NAMES = frozenset({"index", "id"})
_UNNAMED = re.compile(r"Unnamed: \d+")
#: How many names to show before eliding, so that messages stay one readable line.
_MAX_LISTED = 30
#: how far to look for the header line: a header of ten thousand long names is under 1 MB
HEADER_LIMIT = 4 * MIB
_LINE_END = re.compile(rb"[\r\n]")


@dataclass(frozen=True)
class KineticTable:
    """A validated table: finite float64 features (then target), ready for splitting.

    ``frame`` holds exactly ``features + [target]`` (or just ``features`` when ``target`` is
    None); its index is the file's index column when it has one, else a RangeIndex.
    ``dropped_constant`` lists feature columns removed because they hold one value only (they
    carry no information and break per-column scaling).

    ``levels`` maps each categorical feature (a column of part names) to its levels, sorted, so
    the same table always gives the same order; such a column holds ``str`` values in ``frame``.
    """

    frame: pd.DataFrame
    features: list[str]
    target: str | None
    path: str
    dropped_constant: list[str] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)

    @property
    def numeric(self) -> list[str]:
        """The columns that hold numbers (the features that are not part names, then target)."""
        return [name for name in self.columns if name not in self.levels]

    @property
    def columns(self) -> list[str]:
        """Features then target: the column order of ``frame``."""
        return self.features + ([self.target] if self.target is not None else [])

    def __len__(self) -> int:
        return len(self.frame)


def read_table(
    path: str | Path | None = None,
    target: str | None = "Product_I",
    features: Sequence[str] | None = None,
    dtype: type = np.float64,
    categorical: Sequence[str] | None = None,
) -> KineticTable:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet table of kinetic parameter sets; validate it.

    ``dtype`` is the numeric type of the returned columns: float32 halves the memory of a large
    table (the data module reads float32, the precision models train in).

    ``path=None`` reads the embedded default data set. ``target=None`` gives a features-only
    table. ``features=None`` selects every column except the target and an index-like first
    column (unnamed header, or ``index``/``id`` holding unique integers).

    A feature column whose every cell is text (no cell reads as a number) is categorical: its
    values are part names, kept as strings, with their sorted levels in ``levels``. ``categorical``
    declares such columns by name, so a column of integer codes can be read as names too. A column
    that mixes numbers and text is refused, naming its first text cell.

    Raises :class:`KinsynthError` (one line, naming file and column) on any malformed input.
    """
    file = data_file(path)
    where = describe(file)
    raw = read_raw(file, dtype)
    return _validated(raw, target, features, dtype, where, str(file), categorical)


def table_from_frame(
    frame: pd.DataFrame,
    target: str | None = "Product_I",
    features: Sequence[str] | None = None,
    dtype: type = np.float64,
    categorical: Sequence[str] | None = None,
) -> KineticTable:
    """Validate an in-memory table as :func:`read_table` validates a file (a notebook's frame).

    The frame's own index is kept; its column names must be unique strings.
    """
    where = "data frame"
    if not isinstance(frame, pd.DataFrame):
        raise KinsynthError(f"{where}: expected a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise KinsynthError(f"{where}: has no rows, expected at least one row")
    names = [str(c) for c in frame.columns]
    _check_duplicates(names, where)
    return _validated(frame.set_axis(names, axis=1), target, features, dtype, where, where,
                      categorical)


def _validated(
    raw: pd.DataFrame, target: str | None, features: Sequence[str] | None, dtype: type,
    where: str, source: str, categorical: Sequence[str] | None = None,
) -> KineticTable:
    """The checks on a parsed table, wherever it came from: columns, numbers, finite, constant."""
    requested = list(features) if features is not None else None
    index_col = _detect_index_column(raw, target, requested)
    if index_col is not None:
        raw = raw.set_index(index_col)
        if index_col == "" or _UNNAMED.fullmatch(index_col):
            raw.index.name = None  # an unnamed column becomes an unnamed index, as pandas does
    chosen = _choose_features(list(raw.columns), target, requested, where)
    named = _categorical_columns(raw, chosen, target, categorical, where)
    numeric = [name for name in chosen if name not in named]
    columns = numeric + ([target] if target is not None else [])
    frame = _to_float(raw, columns, where, dtype)
    _check_finite(frame, where)
    parts = {name: _part_names(raw[name], name, raw.index, where) for name in named}
    del raw
    kept, dropped = _drop_constant(frame, numeric, target, where, warn=False,
                                   others=len(named))
    kept_names = [name for name in named if len(frame) < 2 or parts[name].nunique() > 1]
    dropped += [name for name in named if name not in kept_names]
    if len(frame) >= 2 and dropped:
        _announce_dropped(where, dropped, any_kept=bool(kept or kept_names))
    else:
        dropped = []
    chosen = [name for name in chosen if name not in dropped]
    for name in kept_names:
        frame[name] = parts[name]
    columns = chosen + ([target] if target is not None else [])
    return KineticTable(
        frame=frame[columns],
        features=chosen,
        target=target,
        path=source,
        dropped_constant=dropped,
        levels={name: sorted(set(parts[name])) for name in kept_names if name in chosen},
    )


def _categorical_columns(
    raw: pd.DataFrame, chosen: list[str], target: str | None,
    declared: Sequence[str] | None, where: str,
) -> list[str]:
    """The chosen features that hold part names: declared ones, and those with no number at all.

    A column is inferred as categorical only when none of its cells reads as a number, so a
    numeric column with one stray word is still reported as a bad cell, not silently re-read.
    """
    names = [str(name) for name in declared or []]
    if target is not None and target in names:
        raise KinsynthError(
            f"{where}: target column '{target}' is declared categorical, expected a numeric target"
        )
    unknown = [name for name in names if name not in chosen]
    if unknown:
        raise KinsynthError(
            f"{where}: categorical column(s) {_listing(unknown)} are not among the features "
            f"{_listing(chosen)}"
        )
    inferred = [name for name in chosen if name not in names and _all_text(raw[name])]
    return [name for name in chosen if name in names or name in inferred]


def _all_text(values: pd.Series) -> bool:
    """Whether every non-empty cell is text that does not read as a number."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if _is_time(values):
        return False
    present = values.dropna()
    if present.empty or not all(isinstance(v, str) for v in present):
        return False
    return bool(pd.to_numeric(present, errors="coerce").isna().all())


def _part_names(values: pd.Series, name: str, index: pd.Index, where: str) -> pd.Series:
    """A categorical column as stripped strings; an empty cell names its row."""
    missing = (values.isna() | values.astype(str).str.strip().eq("")).to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise KinsynthError(
            f"{where}: column '{name}' has no part name at data row {row + 1}"
            f"{_row_label(index, row)} ({int(missing.sum())} empty cell(s) in total), "
            "expected a name in every cell"
        )
    return values.astype(str).str.strip().astype(object)


# --------------------------------------------------------------------------- file level checks


def describe(path: str | Path) -> str:
    """How every message names a data file."""
    return f"data file '{Path(path).expanduser()}'"


def read_raw(path: str | Path, dtype: type = np.float64) -> pd.DataFrame:
    """The file-level checks of :func:`read_table` (found, readable, commas, unique names, no
    ragged rows, some data), then the table as pandas parses it, before any column is chosen.

    For tables whose columns mean more than numbers (a lab's built designs: a ``valid`` column,
    an empty flux for a strain that did not produce), which their reader checks itself.
    """
    file = data_file(path)
    where = describe(file)
    if file.suffix.lower() == ".parquet":
        return _read_parquet(file, where)
    return _read_frame(file, _checked_header(file, where), where, dtype)


def check_file(path: str | Path | None) -> None:
    """:func:`read_raw`'s checks that need only the first line: found, readable, commas, unique
    names. ``train.py`` runs them before it loads torch and Lightning, so a mistyped
    ``data.path`` is reported in a second, not after eight; the run reads the table later."""
    file = data_file(path)
    where = describe(file)
    if file.suffix.lower() == ".parquet":
        _check_parquet_found(file, where)
    else:
        _checked_header(file, where)


def _checked_header(file: Path, where: str) -> list[str]:
    """The header's column names, after the checks a header alone allows."""
    header_line = _read_header_line(file, where)
    _check_delimiter(header_line, where)
    names = _parse_header(header_line, where)
    _check_duplicates(names, where)
    return names


def _read_header_line(file: Path, where: str) -> str:
    """Return the first non-blank line, turning every way of not having one into a message."""
    if not file.exists():
        hint = (
            " (the embedded default data set is missing; pass an explicit path, e.g. data.path=...)"
            if file == DEFAULT_DATA_PATH
            else ""
        )
        raise KinsynthError(f"{where}: file not found, expected a CSV file{hint}")
    if file.is_dir():
        raise KinsynthError(f"{where}: is a directory, expected a CSV file")
    try:
        line = _first_nonblank_line(file, where)
        if line is not None:
            return line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KinsynthError(
            f"{where}: not readable as UTF-8 text ({exc.reason} at byte {exc.start}), "
            "expected a comma-separated text file"
        ) from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        reason = getattr(exc, "strerror", None) or exc
        raise KinsynthError(f"{where}: cannot be read ({reason})") from None
    raise KinsynthError(f"{where}: file is empty, expected a header row and data rows")


def _first_nonblank_line(file: Path, where: str) -> bytes | None:
    """The first non-blank line's bytes, reading at most :data:`HEADER_LIMIT` of them.

    Bounded, because the "line" of a sparse file of NUL bytes or of a file with no newline is the
    whole file: gigabytes read into memory before a word could be said. The file must be a regular
    one (a FIFO would block, ``/dev/zero`` never ends): checked on what was opened.
    """
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as raw:
        problem = None if stat.S_ISREG(os.fstat(fd).st_mode) else input_problem(file)
        if problem is not None:
            raise KinsynthError(f"{where}: {problem.replace('a regular file', 'a CSV file')}")
        os.set_blocking(fd, True)
        handle = gzip.GzipFile(fileobj=raw) if file.suffix.lower() == ".gz" else raw
        buffer, seen = b"", 0
        while True:
            chunk = handle.read(1 << 16)
            seen += len(chunk)
            buffer = (buffer + chunk).lstrip()  # blank lines before the header
            end = _LINE_END.search(buffer)  # \n, \r\n or a lone \r, as the csv module splits
            if end is not None:
                return buffer[:end.start()]
            if not chunk:
                return buffer or None
            if seen > HEADER_LIMIT:
                raise KinsynthError(
                    f"{where}: no header line in its first {HEADER_LIMIT >> 20} MB (a binary or "
                    "sparse file?), expected a comma-separated text file"
                )


def _check_delimiter(header_line: str, where: str) -> None:
    """Reject ;/tab/|-separated files early: pandas would read them as a single column."""
    commas = header_line.count(",")
    for delimiter, word in _OTHER_DELIMITERS.items():
        if header_line.count(delimiter) > commas:
            raise KinsynthError(f"{where}: looks {word}, expected commas")


def _parse_header(header_line: str, where: str) -> list[str]:
    """Split the raw header with the csv module: the names before pandas mangles them."""
    try:
        return [name.strip() for name in next(csv.reader([header_line]))]
    except csv.Error as exc:  # a name over the csv module's 128 KB field limit, a stray quote
        raise KinsynthError(f"{where}: malformed header line ({exc}), expected column "
                            "names") from None


def _check_duplicates(names: list[str], where: str) -> None:
    """Duplicates must be found on the raw header: pandas silently renames them to ``x.1``."""
    counts = Counter(names)
    duplicated = [name for name, count in counts.items() if count > 1]
    if duplicated:
        shown = ", ".join(f"'{name}' ({counts[name]}x)" for name in duplicated)
        raise KinsynthError(f"{where}: duplicate column names {shown}, expected unique names")


def _check_parquet_found(file: Path, where: str) -> None:
    if not file.exists():
        raise KinsynthError(f"{where}: file not found, expected a Parquet file")
    problem = input_problem(file)  # a FIFO would block the read, a device never end it
    if problem is not None:
        raise KinsynthError(f"{where}: {problem.replace('a regular file', 'a Parquet file')}")


def _read_parquet(file: Path, where: str) -> pd.DataFrame:
    """A Parquet table as pandas reads it (needs pyarrow, an optional extra)."""
    _check_parquet_found(file, where)
    try:
        frame = pd.read_parquet(file)
    except ImportError:
        raise KinsynthError(
            f"{where}: reading Parquet needs pyarrow (pip install 'kinsynth[parquet]')"
        ) from None
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise KinsynthError(f"{where}: not a readable Parquet file ({exc})") from None
    if len(frame) == 0:
        raise KinsynthError(f"{where}: has no data rows, expected at least one row")
    frame.columns = [str(name) for name in frame.columns]
    return frame.reset_index(drop=isinstance(frame.index, pd.RangeIndex))


def _read_frame(file: Path, names: list[str], where: str, dtype: type) -> pd.DataFrame:
    """Parse with pandas, keeping the raw (stripped) names and rejecting ragged rows.

    A clean numeric file is parsed straight into ``dtype`` (every column but a possible index
    column first): one pass, no float64 copy. Anything else is parsed generally, so that the
    checks after this can name the bad cell.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        # a cell beyond a narrow dtype's range (1e308 in float32) overflows in pandas' cast with
        # a RuntimeWarning; the general reader below reads float64 and names the cell
        warnings.simplefilter("error", RuntimeWarning)
        try:
            frame = pd.read_csv(
                file, encoding="utf-8-sig", index_col=False,
                dtype=dict.fromkeys(range(1, len(names)), dtype),
            )
            if len(names) == frame.shape[1] and len(frame):
                frame.columns = names
                return frame
        except (ValueError, TypeError, RuntimeWarning, pd.errors.ParserError,
                pd.errors.ParserWarning):
            pass  # the general reader below says what is wrong
    with warnings.catch_warnings():
        # index_col=False stops pandas from silently turning an extra leading field into an index;
        # it then warns instead, which we promote to an error.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(file, encoding="utf-8-sig", index_col=False)
        except pd.errors.ParserWarning:
            raise KinsynthError(
                f"{where}: some data rows have more fields than the header ({len(names)} names), "
                "expected the same number of fields on every line"
            ) from None
        except pd.errors.ParserError as exc:
            detail = " ".join(str(exc).split()).removeprefix("Error tokenizing data. C error: ")
            raise KinsynthError(f"{where}: malformed CSV ({detail})") from None
        except pd.errors.EmptyDataError:
            raise KinsynthError(
                f"{where}: file is empty, expected a header row and data rows"
            ) from None
    if len(frame) == 0:
        raise KinsynthError(f"{where}: has a header but no data rows, expected at least one row")
    if len(names) == frame.shape[1]:
        frame.columns = names  # stripped raw names: "" stays "" instead of "Unnamed: 0"
    return frame


# ---------------------------------------------------------------------------- column selection


def _detect_index_column(
    frame: pd.DataFrame, target: str | None, requested: list[str] | None
) -> str | None:
    """Name of an index-like first column, or None.

    A column the user asked for explicitly (as target or feature) is never treated as an index.
    """
    if frame.shape[1] < 2:
        return None
    first = frame.columns[0]
    if first == target or (requested is not None and first in requested):
        return None
    if first == "" or _UNNAMED.fullmatch(first):
        return first
    values = frame[first]
    if first.lower() in _INDEX_NAMES and pd.api.types.is_integer_dtype(values) and values.is_unique:
        return first
    return None


def _choose_features(
    available: list[str], target: str | None, requested: list[str] | None, where: str
) -> list[str]:
    """Validate target/feature names against the header and return the feature list."""
    if target is not None and target not in available:
        raise KinsynthError(
            f"{where}: target column '{target}' not found; available columns: {_listing(available)}"
        )
    if requested is None:
        chosen = [name for name in available if name != target]
        if not chosen:
            raise KinsynthError(
                f"{where}: no feature columns besides target '{target}', expected at least one"
            )
        return chosen
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise KinsynthError(
            f"{where}: unknown feature column(s) {_listing(unknown)}; available columns: "
            f"{_listing(available)}"
        )
    repeated = sorted({name for name in requested if requested.count(name) > 1})
    if repeated:
        raise KinsynthError(f"{where}: feature(s) {_listing(repeated)} requested more than once")
    if target is not None and target in requested:
        raise KinsynthError(f"{where}: target '{target}' is also listed as a feature")
    if not requested:
        raise KinsynthError(f"{where}: empty feature list, expected at least one feature column")
    return requested


def _listing(names: Sequence[str]) -> str:
    """Quote and join names, eliding long lists so the message stays one line."""
    quoted = [f"'{name}'" for name in names[:_MAX_LISTED]]
    more = len(names) - _MAX_LISTED
    return ", ".join(quoted) + (f", ... ({more} more)" if more > 0 else "")


# ------------------------------------------------------------------------------- value checks


def _to_float(frame: pd.DataFrame, columns: list[str], where: str, dtype: type) -> pd.DataFrame:
    """Convert the used columns to ``dtype``, naming the first non-numeric cell if any."""
    converted = {}
    for name in columns:
        values = frame[name]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            values = _coerce_numeric(values, name, frame.index, where)
        _check_range(values, name, frame.index, where, dtype)
        converted[name] = values.to_numpy(dtype=dtype)
    return pd.DataFrame(converted, index=frame.index, columns=columns)


def _check_range(values: pd.Series, name: str, index: pd.Index, where: str, dtype: type) -> None:
    """Refuse a finite cell that ``dtype`` cannot hold: cast, 1e308 would become inf in float32
    and be reported as an infinite value the file does not contain."""
    if not np.issubdtype(np.dtype(dtype), np.floating):
        return
    largest = float(np.finfo(dtype).max)
    numbers = values.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(numbers) & (np.abs(numbers) > largest)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise KinsynthError(
            f"{where}: column '{name}' has {float(numbers[row])!r} at data row {row + 1}"
            f"{_row_label(index, row)}, out of {np.dtype(dtype).name} range "
            f"({int(bad.sum())} such value(s) in total), expected magnitudes up to {largest:.4g}"
        )


def _row_label(index: pd.Index, row: int) -> str:
    """``, index 'x'`` when the file has its own index column (its label names the row too)."""
    if index.equals(pd.RangeIndex(len(index))):
        return ""
    return f", index {index[row : row + 1].tolist()[0]!r}"


def _is_time(values: pd.Series) -> bool:
    """A date, time span or period column, timezone-aware or not."""
    kind = values.dtype
    return (pd.api.types.is_datetime64_any_dtype(kind) or pd.api.types.is_timedelta64_dtype(kind)
            or isinstance(kind, pd.PeriodDtype))


def _coerce_numeric(values: pd.Series, name: str, index: pd.Index, where: str) -> pd.Series:
    """Parse text cells as numbers (pandas leaves e.g. 'inf' as text when a column mixes)."""
    if _is_time(values):  # pd.to_numeric turns a date into nanoseconds: 1.7e18, no number
        raise KinsynthError(
            f"{where}: column '{name}' holds dates or times ({values.dtype}), expected numbers"
        )
    if pd.api.types.is_bool_dtype(values):
        bad = np.ones(len(values), dtype=bool)
        numbers = values
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = values.iloc[row : row + 1].tolist()[0]  # a plain Python value: clean repr
        raise KinsynthError(
            f"{where}: column '{name}' has non-numeric value {value!r} at data row "
            f"{row + 1}{_row_label(index, row)} ({int(bad.sum())} bad value(s) in total), "
            "expected numbers"
        )
    return numbers


def _check_finite(frame: pd.DataFrame, where: str) -> None:
    """Reject NaN/empty and infinite cells, counting them per column."""
    values = frame.to_numpy()
    n_nan = np.isnan(values).sum(axis=0)
    n_inf = np.isinf(values).sum(axis=0)
    problems = []
    for name, nan_count, inf_count in zip(frame.columns, n_nan, n_inf, strict=True):
        if nan_count:
            problems.append(f"'{name}' has {nan_count} NaN/empty")
        if inf_count:
            problems.append(f"'{name}' has {inf_count} infinite")
    if problems:
        raise KinsynthError(
            f"{where}: column(s) with missing or infinite values: {'; '.join(problems)}; "
            "expected finite numbers in every cell"
        )


def _drop_constant(
    frame: pd.DataFrame, features: list[str], target: str | None, where: str,
    warn: bool = True, others: int = 0,
) -> tuple[list[str], list[str]]:
    """Drop single-valued feature columns (with a warning); a constant target is an error.

    With a single row every column is trivially constant, so nothing is checked then (the
    split step reports that case as "too few rows"). ``others`` counts features outside
    ``frame`` (part names, checked by the caller): while there are any, every numeric feature may
    be dropped, and ``warn=False`` leaves the one warning for all columns to the caller.
    """
    if len(frame) < 2:
        return features, []
    values = frame.to_numpy()
    constant = frame.columns[values.min(axis=0) == values.max(axis=0)].tolist()
    if target is not None and target in constant:
        value = float(frame[target].iloc[0])
        raise KinsynthError(
            f"{where}: target column '{target}' is constant (always {value!r}), "
            "expected varying values"
        )
    dropped = [name for name in features if name in constant]
    if not dropped:
        return features, []
    kept = [name for name in features if name not in constant]
    if not warn:
        return kept, dropped
    _announce_dropped(where, dropped, any_kept=bool(kept or others))
    return kept, dropped


def _announce_dropped(where: str, dropped: list[str], any_kept: bool) -> None:
    """The one warning naming the constant feature columns dropped, or one line refusing a table
    whose every feature is constant."""
    if not any_kept:
        raise KinsynthError(
            f"{where}: every feature column is constant ({_listing(dropped)}), "
            "expected at least one varying feature"
        )
    warnings.warn(
        f"{where}: dropping constant feature column(s) {_listing(dropped)}",
        UserWarning,
        stacklevel=4,
    )
