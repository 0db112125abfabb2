"""How entry points report failure: one line for a user's mistake, no lost sweep for one bad job."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kinsynth.errors import KinsynthError

log = logging.getLogger("kinsynth")
F = TypeVar("F", bound=Callable[..., Any])


def _multirun_output_dir() -> Path | None:
    """The job's output directory when running inside a Hydra multirun, else None."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        config = HydraConfig.get()
    except (ImportError, ValueError):
        return None
    if config.mode != RunMode.MULTIRUN:
        return None
    return Path(config.runtime.output_dir)


def in_multirun() -> bool:
    """True inside a Hydra multirun job (no progress bars there: many jobs share one terminal)."""
    return _multirun_output_dir() is not None


def guarded(task: F) -> F:
    """Wrap a Hydra task function.

    A ``KinsynthError`` in a single run prints ``error: <message>`` and exits with status 1 (no
    traceback: the message already names the file, column or key). Inside a multirun any failure is
    logged, written to the job's ``error.txt``, and the job returns None so the sweep goes on with
    the other jobs (an Optuna study records a failed trial; a NaN would abort optuna 2.x studies).
    """

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        job_dir = _multirun_output_dir()
        try:
            return task(*args, **kwargs)
        except Exception as error:
            if job_dir is not None:
                message = str(error) if isinstance(error, KinsynthError) else traceback.format_exc()
                (job_dir / "error.txt").write_text(message + "\n")
                log.error("job failed, the sweep goes on: %s", str(error).splitlines()[0])
                return None
            if isinstance(error, KinsynthError):
                print(f"error: {error}", file=sys.stderr)
                raise SystemExit(1) from None
            raise

    return wrapper  # type: ignore[return-value]
