"""Writing tables a user is handed: streamed chunk by chunk, atomically, with the umask's mode.

A table of millions of generated rows never exists in memory at once: each chunk is appended to a
temporary file beside the destination, which is renamed into place only when every chunk is
written, so a failure never leaves half a file and never touches an earlier one.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

# the ignore below: pandas-stubs leave out pandas.io.common, which pandas itself ships
import pandas as pd
from pandas.io.common import get_handle, infer_compression  # type: ignore[import-not-found]

from kinsynth.core import fast_csv
from kinsynth.core.errors import KinsynthError

#: About six significant digits: what a fold change or a flux is known to, and a third of the bytes
#: of Python's shortest round-trip form.
FLOAT_FORMAT = f"%.{fast_csv.DIGITS}g"
#: compressions whose streams may be concatenated chunk by chunk into one valid file (None: plain)
STREAMED_COMPRESSIONS = (None, "gzip", "bz2", "xz", "zstd")


def umask_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (mkstemp gives 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def no_space_left(path: str | Path) -> KinsynthError:
    """A full disk, in one line naming the file that could not be written."""
    return KinsynthError(
        f"'{path}': no space left on device; nothing was left under that name; "
        "free some space and rerun"
    )


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to ``path`` when the block ends without error.

    Beside it, so the rename is atomic (a move across filesystems is a copy, which a full disk
    leaves truncated under the final name). On any error the temporary file goes and ``path`` is
    untouched; a full disk is one line naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise no_space_left(path) from None
        raise KinsynthError(f"'{path}': cannot write there ({error.strerror})") from None
    os.close(handle)
    try:
        with _naming_a_full_disk(path):
            os.chmod(tmp, umask_mode())
            yield Path(tmp)
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (no index column) atomically: a whole file or the earlier one untouched."""
    with ChunkWriter(path, overwrite=True) as writer:
        writer.write(frame)


def not_a_regular_file(path: Path) -> str | None:
    """What ``path`` is when it exists and is no regular file (a device, FIFO, socket), else None.

    A symbolic link counts as what it points at (``/dev/stdout`` is a link to a device).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:  # absent, or a dangling link: a new file may be written there
        return None
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


@contextmanager
def _naming_a_full_disk(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise no_space_left(path) from None
        raise


class ChunkWriter:
    """Append DataFrame chunks to ``path`` (CSV, or Parquet when it ends in ``.parquet``).

    The file appears at ``path`` on a clean exit of the ``with`` block and not before; an
    exception discards the temporary file. ``overwrite=False`` refuses an existing ``path`` both
    before writing and at the rename, so a file created meanwhile is not replaced either.
    """

    def __init__(self, path: str | Path, overwrite: bool = False, key: str = "out") -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self.key = key
        self.parquet = self.path.suffix.lower() == ".parquet"
        # x.csv.gz is gzip (one member per chunk: still one valid gzip file), so that
        # data.path=x.csv.gz reads it back; also .bz2, .xz, .zst as pandas infers them
        self.compression = None if self.parquet else infer_compression(str(self.path), "infer")
        if self.compression not in STREAMED_COMPRESSIONS:  # an archive cannot be appended to
            raise KinsynthError(
                f"out={self.path}: {self.compression} output is not supported; write .csv, "
                ".csv.gz, .csv.bz2, .csv.xz, .csv.zst or .parquet"
            )
        self.rows = 0
        self._tmp: Path | None = None
        self._parquet_writer: Any = None
        self._refuse_existing()

    def _refuse_existing(self) -> None:
        check_target(self.path, self.overwrite, self.key)

    def __enter__(self) -> ChunkWriter:
        if self.parquet:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise KinsynthError(
                    f"out={self.path}: Parquet output needs pyarrow "
                    "(pip install 'kinsynth[parquet]'), or write a .csv"
                ) from None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as error:
            raise KinsynthError(f"out={self.path}: cannot write there ({error.strerror})") from None
        os.close(handle)
        os.chmod(tmp, umask_mode())
        self._tmp = Path(tmp)
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        """Append one chunk; the first one fixes the columns."""
        assert self._tmp is not None, "use ChunkWriter in a with block"
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(chunk, preserve_index=False)
            with _naming_a_full_disk(self.path):
                if self._parquet_writer is None:
                    self._parquet_writer = pq.ParquetWriter(self._tmp, table.schema)
                self._parquet_writer.write_table(table)
        else:
            # pyarrow's text of a numeric chunk is pandas' byte for byte, at a tenth of the cost
            text = fast_csv.csv_bytes(chunk, header=self.rows == 0)
            with _naming_a_full_disk(self.path):
                if text is not None:
                    self._append(text)
                else:
                    chunk.to_csv(
                        self._tmp,
                        mode="w" if self.rows == 0 else "a",
                        header=self.rows == 0,
                        index=False,
                        float_format=FLOAT_FORMAT,
                        compression=self.compression,
                    )
        self.rows += len(chunk)

    def _append(self, text: bytes) -> None:
        """Append CSV bytes, compressed as pandas would (one stream member per chunk)."""
        assert self._tmp is not None
        with get_handle(
            self._tmp, "wb" if self.rows == 0 else "ab", compression=self.compression,
            is_text=False,
        ) as handles:
            handles.handle.write(text)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._tmp is not None
        try:
            with _naming_a_full_disk(self.path):
                if self._parquet_writer is not None:
                    self._parquet_writer.close()
            if kind is None:
                self._refuse_existing()  # what appeared meanwhile is refused too
                os.replace(self._tmp, self.path)
        finally:
            if self._tmp.exists():
                self._tmp.unlink()


# ------------------------------------------------------------------ links and special files


def overwrite_flag(value: object, key: str = "overwrite") -> bool:
    """``overwrite=`` as a bool, read the same way by every command and the API.

    Hydra gives ``true``/``false`` as bools; a string (the API, a quoted override) must spell one
    of them. Anything else is one line: ``bool("false")`` is True, which would delete a run.
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise KinsynthError(f"{key}={value!r}: expected true or false")


def link_or_special(path: str | Path) -> str | None:
    """What ``path`` is when kinsynth must not write there: a symbolic link (dangling or not), or
    an existing file that is no regular file or directory; None for a regular file, a directory
    or nothing at all. The link itself is judged (``lstat``), never what it points at."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"unreadable ({error.strerror})"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _special_kind(mode)


def _special_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def refuse_link_or_special(path: str | Path,
                           hint: str = "remove it or choose another place") -> None:
    """One line when ``path`` is a link or a special file: kinsynth never writes, appends or
    truncates through a link or into a device or FIFO it did not create."""
    kind = link_or_special(path)
    if kind is not None:
        raise KinsynthError(
            f"'{path}': is {kind}; kinsynth never writes through a link or into a special "
            f"file: {hint}"
        )


def open_regular(path: str | Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that never follows a link and never blocks on a FIFO; the result is a
    descriptor of a regular file, else one line naming ``path`` (nothing was written).

    ``O_NOFOLLOW`` refuses a link (a dangling one would otherwise create its target) and
    ``O_NONBLOCK`` keeps a FIFO from blocking the open; the ``fstat`` check then refuses what was
    opened if it is no regular file, before a byte is written or a length truncated.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EMLINK) or link_or_special(path):
            refuse_link_or_special(path)
        raise
    kind = None if stat.S_ISREG(os.fstat(fd).st_mode) else _special_kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise KinsynthError(f"'{path}': is {kind}; kinsynth never writes through a link or into "
                            "a special file: remove it or choose another place")
    os.set_blocking(fd, True)
    return fd


class NoLinkFileHandler(logging.FileHandler):
    """A run's log file (Hydra's ``job_logging``), opened as :func:`open_regular` opens files.

    Hydra opens the log before the task starts, so a refusal here cannot print its line: the
    handler stays silent instead (``refused`` says why), and the run directory's own check
    (``kinsynth.runs.lock``) refuses the run in one line before it writes anything else.
    """

    def __init__(self, filename: str, mode: str = "a", encoding: str | None = None,
                 delay: bool = False, errors: str | None = None) -> None:
        self.refused: str | None = None
        super().__init__(filename, mode, encoding, delay, errors)

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in self.mode else os.O_TRUNC)
        try:
            fd = open_regular(self.baseFilename, flags, umask_mode())
        except (KinsynthError, OSError) as error:
            self.refused = str(error)
            return open(os.devnull, "w", encoding=self.encoding)  # noqa: SIM115
        return os.fdopen(fd, "a" if "a" in self.mode else "w", encoding=self.encoding,
                         errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        if self.refused is None:
            super().emit(record)


def check_target(path: str | Path, overwrite: bool, key: str = "out") -> Path:
    """The rule for a file a user names (``out=``, ``figure=``, ``--out``): not a directory,
    link-safe, no device or FIFO, and an existing file only with ``overwrite``.

    A link to a regular file may be replaced by the new file (a rename replaces the link
    itself, never what it points at); a dangling link or a link to a device is refused.
    """
    path = Path(path)
    if path.is_dir():
        raise KinsynthError(f"{key}={path}: is a directory, expected a file name")
    if path.is_symlink() and not path.exists():
        raise KinsynthError(f"{key}={path}: is a symbolic link to a missing file "
                            f"({os.readlink(path)}); remove the link or choose another file")
    kind = not_a_regular_file(path)
    if kind is not None:  # replacing /dev/null with a file breaks the machine
        raise KinsynthError(
            f"{key}={path}: is {kind}, not a regular file; kinsynth writes (and with "
            "overwrite=true replaces) only regular files: choose a file name"
        )
    if path.exists() and not overwrite:
        raise KinsynthError(
            f"{key}={path}: file exists; choose another name or pass overwrite=true"
        )
    return path


@contextmanager
def atomic_target(path: str | Path, overwrite: bool, key: str = "out") -> Iterator[Path]:
    """:func:`atomic_path` for a file a user names: :func:`check_target` before the work and
    again at the rename (a file that appeared meanwhile is refused too)."""
    path = check_target(path, overwrite, key)
    with atomic_path(path) as tmp:
        yield tmp
        check_target(path, overwrite, key)


def save_figure(figure: Any, path: str | Path, overwrite: bool = True, key: str = "figure",
                **savefig: Any) -> Path:
    """Save a matplotlib figure atomically under the target rule: whole under its name, or
    absent (a full disk is one line naming it)."""
    path = Path(path)
    form = path.suffix.lstrip(".").lower() or "png"
    with atomic_target(path, overwrite, key) as tmp:
        figure.savefig(tmp, format=form, **savefig)
    return path


def write_text(text: str, path: str | Path, overwrite: bool = True, key: str = "out") -> Path:
    """A text file (a report, a table already formatted) written atomically."""
    with atomic_target(path, overwrite, key) as tmp:
        Path(tmp).write_text(text)
    return Path(path)
