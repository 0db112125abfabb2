"""Opening a file a user hands in: a regular file of a sane size, or one line naming it.

A path on a command line or in a run directory someone passed on may name a FIFO (opening it
blocks for ever), a device (``/dev/zero`` is read until memory runs out), a directory, or a file
far larger than any file of its kind. Each is refused before a byte is read. The checks are made
on the opened descriptor (``fstat``), so what the path names cannot change between the check and
the read; ``O_NONBLOCK`` keeps the open itself from blocking on a FIFO.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kinsynth.core.errors import KinsynthError

MIB = 1 << 20
#: a model, a range table or a run's config is text a person or a tool wrote: a few MB at most
#: (the largest shipped model is under 1 MB)
TEXT_LIMIT = 64 * MIB


def _kind(mode: int) -> str | None:
    """What a file of ``mode`` is when it is no regular file, else None."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def where(key: str | None, path: str | Path) -> str:
    """How a message names an input: ``key=path`` as the user typed it, else ``'path'``."""
    return f"{key}={path}" if key else f"'{path}'"


def _size_line(size: int, limit: int) -> str:
    return f"is {size / MIB:.1f} MB, larger than any file of its kind (at most {limit // MIB} MB)"


def input_problem(path: str | Path, limit: int | None = None) -> str | None:
    """Why ``path`` cannot be read as an input file (missing, a directory, a FIFO, a device,
    over ``limit`` bytes), else None. A link counts as what it points at: reading through a link
    changes nothing."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    kind = _kind(info.st_mode)
    if kind is not None:
        return f"is {kind}, expected a regular file"
    if limit is not None and info.st_size > limit:
        return _size_line(info.st_size, limit)
    return None


def check_input_file(path: str | Path, key: str | None, limit: int | None = None,
                     error: type[KinsynthError] = KinsynthError) -> Path:
    """``path`` when it is a regular file of at most ``limit`` bytes, else one line
    ``<key>=<path>: <why>`` (``'<path>': <why>`` without a key) raised as ``error``."""
    problem = input_problem(path, limit)
    if problem is not None:
        raise error(f"{where(key, path)}: {problem}")
    return Path(path)


def read_input_bytes(path: str | Path, key: str | None, limit: int = TEXT_LIMIT,
                     error: type[KinsynthError] = KinsynthError) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, else one line."""
    check_input_file(path, key, limit, error)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as failure:
        raise error(f"{where(key, path)}: cannot be read ({failure.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)  # what was opened, whatever the path named at the check
        if kind is not None:
            raise error(f"{where(key, path)}: is {kind}, expected a regular file")
        os.set_blocking(fd, True)
        try:
            data = handle.read(limit + 1)
        except OSError as failure:
            raise error(f"{where(key, path)}: cannot be read ({failure.strerror})") from None
    if len(data) > limit:
        raise error(f"{where(key, path)}: {_size_line(len(data), limit)}")
    return data


def read_input_text(path: str | Path, key: str | None, limit: int = TEXT_LIMIT,
                    error: type[KinsynthError] = KinsynthError) -> str:
    """:func:`read_input_bytes` decoded as UTF-8 (a byte-order mark is dropped), else one line
    naming the first byte that is not UTF-8."""
    data = read_input_bytes(path, key, limit, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as failure:
        raise error(f"{where(key, path)}: not UTF-8 text ({failure.reason} at byte "
                    f"{failure.start}), expected a text file") from None
