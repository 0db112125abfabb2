"""How entry points report failure: one line for a user's mistake, no lost sweep for one bad job."""

from __future__ import annotations

import errno
import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kinsynth.core.errors import KinsynthError, RunInterrupted
from kinsynth.runs.contract import ERROR

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


def user_error(error: BaseException) -> str | None:
    """The one line to show for a user's mistake, else None (a bug: keep the traceback).

    Hydra wraps what a config's ``_target_`` raises ("Error in call to target ...", the cause
    chained): a ``KinsynthError`` anywhere in the chain is the user's mistake, and so is a
    ``ValueError``/``TypeError`` raised while instantiating a config node, which is named.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KinsynthError):
            return str(current)
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return no_space_line(current)
        current = current.__cause__ or current.__context__
    refused = config_error_line(error)
    if refused is not None:
        return refused
    from hydra.errors import InstantiationException

    if isinstance(error, InstantiationException):
        lines = str(error).splitlines()
        key = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("full_key:")), "")
        cause = error.__cause__
        if isinstance(cause, (ValueError, TypeError)):
            return " ".join(f"{key or 'config'}: {cause}".split())
        if lines and lines[0].startswith("Error locating target"):
            return " ".join(f"{key or 'config'}: {lines[0]}".split())
    return None


def config_error_line(error: BaseException) -> str | None:
    """Hydra's refusal of a config in one line, else None.

    An unknown key or a wrong type (the schemas in conf/schemas.py) reads
    ``space.levls: Key 'levls' not in 'SpaceConfig'`` or
    ``cycles=two: Value 'two' of type 'str' could not be converted to Integer``; a group member
    that does not exist reads ``Could not find 'model/nosuch' (options: bcvae, cppca, ...)``.
    Hydra's own report spreads these over several lines (the types, a hint about
    HYDRA_FULL_ERROR).
    """
    from hydra.errors import ConfigCompositionException, MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(error, MissingConfigException):
        # Hydra's text: the first line, then "Available options in 'model':" and one option a
        # line, then the config search path; a schema (conf/schemas.py) is no option to choose
        first, *rest = [line.strip() for line in str(error).splitlines() if line.strip()]
        options: list[str] = []
        for line in rest:
            if line.startswith("Config search path"):
                break
            if not line.startswith("Available options") and not line.endswith("_schema"):
                options.append(line)
        return f"{first} (options: {', '.join(options)})" if options else first
    if not isinstance(error, ConfigCompositionException):
        return None  # an OmegaConf error raised later, by code, is a bug: keep its traceback
    cause = error.__cause__
    if isinstance(cause, OmegaConfBaseException) and str(cause):
        # a wrong value is named as it was given (cycles=two), an unknown key by its path
        given = str(error).partition("Error merging override ")[2].split()
        key = given[0] if given else getattr(cause, "full_key", None)
        what = str(cause).splitlines()[0].strip()
        return f"{key}: {what}" if key else what
    return " ".join(str(error).split())


def run_app(app: Callable[[], Any]) -> None:
    """Run a ``@hydra.main`` app; a config Hydra refuses is ``error: <one line>``, exit 1.

    Hydra reports a refused config itself, over several lines, unless ``HYDRA_FULL_ERROR`` is
    set; set for this call, the error comes here and :func:`config_error_line` says it in one.
    A user who set ``HYDRA_FULL_ERROR=1`` gets Hydra's full report, as Hydra documents.
    """
    wants_full = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app()
    except Exception as error:
        line = None if wants_full == "1" else config_error_line(error)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        if wants_full is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = wants_full


def no_space_line(error: OSError, path: object = None) -> str:
    """A full disk in one line naming the file (the writer's, else the error's own)."""
    where = path if path is not None else (error.filename or "an output file")
    return (f"'{where}': no space left on device; nothing was left under its final name; "
            "free some space and rerun")


#: overrides that take a path: Hydra's grammar rejects one holding ``=``, ``,`` or brackets
PATH_KEYS = ("run", "resume", "data.path", "out", "hydra.run.dir", "hydra.sweep.dir")


def path_override_problem(argv: list[str]) -> str | None:
    """One line saying how to quote a path override Hydra cannot parse, else None.

    Hydra's own message (``mismatched input '=' expecting <EOF>``) names neither the key nor
    the fix; this runs before Hydra parses the command line.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for arg in argv:
        key, sep, value = arg.partition("=")
        if arg.startswith("-") or not sep or key.lstrip("+~") not in PATH_KEYS:
            continue
        try:
            parser.parse_override(arg)
        except Exception:  # Hydra raises its grammar errors under several types
            return (f"{key}={value}: Hydra cannot parse a path holding '=', ',', brackets or "
                    f"spaces unquoted; quote it for Hydra and the shell: '{key}=\"{value}\"'")
    return None


def exit_on_unparsable_paths(argv: list[str]) -> None:
    """Print :func:`path_override_problem`'s line and exit 2 (a usage error), if there is one."""
    problem = path_override_problem(argv)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)


def _write_error(job_dir: Path, text: str) -> None:
    """The job's error.txt; on a full disk the log line has to do."""
    try:
        (job_dir / ERROR).write_text(text + "\n")
    except OSError as error:
        log.error("could not write %s: %s", job_dir / ERROR, error.strerror)


def guarded(task: F) -> F:
    """Wrap a Hydra task function.

    A ``KinsynthError`` (also one Hydra wrapped, see :func:`user_error`) in a single run prints
    ``error: <message>`` and exits with status 1 (no traceback: the message already names the
    file, column or key). Inside a multirun any failure is logged, written to the job's
    ``error.txt`` (except in a directory refused as another run's own), and the job returns None
    so the sweep goes on with the other jobs (an Optuna study records a failed trial; a NaN would
    abort optuna 2.x studies).
    """

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        job_dir = _multirun_output_dir()
        if job_dir is not None:
            from kinsynth.sweeps.workers import end_with_parent

            end_with_parent()  # a worker process of a parallel sweep dies with the sweep
        try:
            return task(*args, **kwargs)
        except Exception as error:
            message = user_error(error)
            interrupted = isinstance(error, RunInterrupted)
            if job_dir is not None:
                from kinsynth.runs.lock import RunDirectoryRefused

                # a directory refused as another run's own gets nothing written into it
                if not isinstance(error, RunDirectoryRefused):
                    _write_error(job_dir, message or traceback.format_exc())
                first = (message or str(error) or type(error).__name__).splitlines()[0]
                if interrupted:  # the scheduler stops the whole sweep, not one job
                    from hydra.core.hydra_config import HydraConfig

                    from kinsynth.sweeps.summary import log_sweep_table

                    log.error("sweep stopped: %s", first)
                    log_sweep_table(Path(HydraConfig.get().sweep.dir), stopped=True)
                    raise SystemExit(RunInterrupted.exit_code) from None
                log.error("job failed, the sweep goes on: %s", first)
                return None
            if message is not None:
                print(f"error: {message}", file=sys.stderr)
                raise SystemExit(RunInterrupted.exit_code if interrupted else 1) from None
            raise

    return wrapper  # type: ignore[return-value]
