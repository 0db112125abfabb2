"""Writing tables a user is handed: streamed chunk by chunk, atomically, with the umask's mode.

A table of millions of generated rows never exists in memory at once: each chunk is appended to a
temporary file beside the destination, which is renamed into place only when every chunk is
written, so a failure never leaves half a file and never touches an earlier one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from kinsynth.errors import KinsynthError

#: About six significant digits: what a fold change or a flux is known to, and a third of the bytes
#: of Python's shortest round-trip form.
FLOAT_FORMAT = "%.6g"


def umask_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (mkstemp gives 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (no index column) atomically: a whole file or the earlier one untouched."""
    with ChunkWriter(path, overwrite=True) as writer:
        writer.write(frame)


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
        self.rows = 0
        self._tmp: Path | None = None
        self._parquet_writer: Any = None
        self._refuse_existing()

    def _refuse_existing(self) -> None:
        if self.path.is_dir():
            raise KinsynthError(f"out={self.path}: is a directory, expected a file name")
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
            if self._parquet_writer is None:
                self._parquet_writer = pq.ParquetWriter(self._tmp, table.schema)
            self._parquet_writer.write_table(table)
        else:
            chunk.to_csv(
                self._tmp,
                mode="w" if self.rows == 0 else "a",
                header=self.rows == 0,
                index=False,
                float_format=FLOAT_FORMAT,
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
            if self._parquet_writer is not None:
                self._parquet_writer.close()
            if kind is None:
                if not self.overwrite and self.path.exists():
                    self._refuse_existing()
                os.replace(self._tmp, self.path)
        finally:
            if self._tmp.exists():
                self._tmp.unlink()
