"""The one exception type users are meant to see.

Entry points catch :class:`KinsynthError`, print its message and exit with status 1 instead of
showing a traceback: the message itself must tell the user what to fix.
"""

from __future__ import annotations


class KinsynthError(Exception):
    """User-facing error: one line naming the file/column/key and what was expected.

    Entry points print it and exit 1 (no traceback). Newlines in the message are folded into
    spaces so that the "one line" promise holds even when a caller interpolates multi-line text.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class RunInterrupted(KinsynthError):
    """A run stopped by a signal (SIGTERM: a scheduler's time limit): not finished, resumable.

    Entry points exit 143 (128 + SIGTERM, what a scheduler expects of a job it stopped) with this
    one line, which says how to continue; a sweep stops after writing the job's ``error.txt`` and
    its table.
    """

    exit_code = 143
