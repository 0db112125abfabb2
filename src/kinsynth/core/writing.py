"""Writing tables a user is handed: streamed chunk by chunk, atomically, with the umask's mode.

A table of millions of generated rows never exists in memory at once: each chunk is appended to a
temporary file beside the destination, which is renamed into place only when every chunk is
written, so a failure never leaves half a file and never touches an earlier one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
from pandas.io.common import infer_compression

from kinsynth.core.errors import KinsynthError

#: About six significant digits: what a fold change or a flux is known to, and a third of the bytes
#: of Python's shortest round-trip form.
FLOAT_FORMAT = "%.6g"
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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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

    def __init__(self, path: str | Path, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
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
        if self.path.is_dir():
            raise KinsynthError(f"out={self.path}: is a directory, expected a file name")
        kind = not_a_regular_file(self.path)
        if kind is not None:  # replacing /dev/null with a file breaks the machine
            raise KinsynthError(
                f"out={self.path}: is {kind}, not a regular file; kinsynth writes (and with "
                "overwrite=true replaces) only regular files: choose a file name"
            )
        if self.path.exists() and not self.overwrite:
            raise KinsynthError(
                f"out={self.path}: file exists; choose another name or pass overwrite=true"
            )

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
            with _naming_a_full_disk(self.path):
                chunk.to_csv(
                    self._tmp,
                    mode="w" if self.rows == 0 else "a",
                    header=self.rows == 0,
                    index=False,
                    float_format=FLOAT_FORMAT,
                    compression=self.compression,
                )
        self.rows += len(chunk)

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
