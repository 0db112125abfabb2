"""How entry points report failure: one line for a user's mistake, no lost sweep for one bad job."""

from __future__ import annotations

import errno
import functools
import logging
import os
import signal
import sys
import threading
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


#: the user's own debugging settings while :func:`run_app` overrides them for Hydra
_USER_SETTINGS: dict[str, str] = {}


def run_app(app: Callable[[], Any]) -> None:
    """Run a ``@hydra.main`` app; a config Hydra refuses is ``error: <one line>``, exit 1.

    Hydra reports a refused config itself, over several lines, unless ``HYDRA_FULL_ERROR`` is
    set; set for this call, the error comes here and :func:`config_error_line` says it in one.
    A user who set ``HYDRA_FULL_ERROR=1`` gets Hydra's full report, as Hydra documents.
    """
    from kinsynth.sweeps.workers import mark_parent

    mark_parent()  # a parallel sweep's workers end with this process
    wants_full = os.environ.get("HYDRA_FULL_ERROR")
    _USER_SETTINGS["HYDRA_FULL_ERROR"] = wants_full or ""
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app()
    except Exception as error:
        line = None if wants_full == "1" else config_error_line(error)
        if line is None:
            if wants_full == "1":
                raise
            # a bug under KINSYNTH_DEBUG=1: its traceback, exit 1, as Hydra itself reports one
            traceback.print_exc()
            raise SystemExit(1) from None
        print(f"error: {line}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        _USER_SETTINGS.pop("HYDRA_FULL_ERROR", None)
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


#: the directories Hydra creates and writes before a task (and its one-line errors) can run
HYDRA_DIR_KEYS = ("hydra.run.dir", "hydra.sweep.dir")


def unwritable_dir_problem(argv: list[str]) -> str | None:
    """One line when a run or sweep directory on the command line cannot be written, else None.

    Hydra creates the directory and writes its record before the task starts, so a read-only
    place would be a ``PermissionError`` traceback from Hydra's own code; checked here first,
    on the nearest folder that exists (what ``mkdir`` would need to write in).
    """
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key.lstrip("+~") not in HYDRA_DIR_KEYS or "${" in value:
            continue
        folder = Path(value).expanduser().absolute()
        try:
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
        except OSError as error:  # a folder above it this user may not even look into
            return f"{key}={value}: cannot write there ({error.strerror}); choose another {key}"
        if not folder.is_dir():
            return f"{key}={value}: '{folder}' is not a directory; choose another {key}"
        if not os.access(folder, os.W_OK | os.X_OK):
            return (f"{key}={value}: cannot write there ('{folder}' is not writable for this "
                    f"user); choose another {key}")
    return None


def exit_on_bad_command_line(argv: list[str]) -> None:
    """Before Hydra starts: a path it cannot parse exits 2 (:func:`exit_on_unparsable_paths`),
    a run or sweep directory it cannot write exits 1 (:func:`unwritable_dir_problem`)."""
    exit_on_unparsable_paths(argv)
    problem = unwritable_dir_problem(argv)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(1)


def _write_error(job_dir: Path, text: str) -> None:
    """The job's error.txt; on a full disk the log line has to do."""
    try:
        (job_dir / ERROR).write_text(text + "\n")
    except OSError as error:
        log.error("could not write %s: %s", job_dir / ERROR, error.strerror)


#: what a shell reports for a command stopped by Ctrl-C (128 + SIGINT)
CTRL_C_EXIT = 130
#: environment variables under which every failure keeps its traceback (for a bug report)
DEBUG_VARIABLES = ("KINSYNTH_DEBUG", "HYDRA_FULL_ERROR")


def debugging() -> bool:
    """Whether the user asked for tracebacks (``KINSYNTH_DEBUG=1`` or ``HYDRA_FULL_ERROR=1``).

    :func:`run_app` sets ``HYDRA_FULL_ERROR`` for Hydra's sake while an app runs; what counts
    here is the user's own setting, which it keeps in ``_USER_SETTINGS``.
    """
    values = {name: os.environ.get(name, "") for name in DEBUG_VARIABLES}
    values.update(_USER_SETTINGS)
    return any(str(value).strip() not in ("", "0") for value in values.values())


def bug_line(error: BaseException) -> str:
    """The one line for an exception no check foresaw: what it was, and how to see more."""
    first = (str(error).strip().splitlines() or [""])[0][:300]
    return (f"unexpected {type(error).__name__}{': ' + first if first else ''} (a bug in "
            "kinsynth or a case it does not check: rerun with KINSYNTH_DEBUG=1 for the "
            "traceback and report it)")


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM as an exception: ``finally`` blocks and the atomic writer then remove what is
    unfinished (the default action ends the process where it stands, leaving temporary files)."""
    raise RunInterrupted("stopped by SIGTERM before it finished; nothing unfinished was left "
                         "under its final name: rerun the command")


class _QuietFullDisk:
    """A ``threading.excepthook`` for the length of a command: a background writer (TensorBoard's
    event thread) that hits a full disk would print its traceback before kinsynth's one line;
    the error is kept instead, and said in one line when nothing else was."""

    def __init__(self) -> None:
        self.errors: list[OSError] = []
        self.previous = threading.excepthook

    def __call__(self, args: Any) -> None:
        error = args.exc_value
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            self.errors.append(error)
            return
        self.previous(args)

    def __enter__(self) -> _QuietFullDisk:
        threading.excepthook = self
        return self

    def __exit__(self, *exc: object) -> None:
        threading.excepthook = self.previous

    def report(self) -> None:
        """One line for a full disk only a background writer met (the command itself ended)."""
        if self.errors:
            where = self.errors[0].filename or "a background writer's file"
            print(f"warning: '{where}': no space left on device while writing in the background "
                  "(TensorBoard's events); free some space", file=sys.stderr)


def guarded(task: F | None = None, *, sigterm: bool = True) -> Any:
    """Wrap a Hydra task function.

    A ``KinsynthError`` (also one Hydra wrapped, see :func:`user_error`) in a single run prints
    ``error: <message>`` and exits with status 1 (no traceback: the message already names the
    file, column or key); Ctrl-C prints one line and exits 130; with ``sigterm`` a SIGTERM stops
    the single run as an exception (one line, exit 143, temporary files removed); a command that
    handles SIGTERM itself (training stops at an epoch's end) passes ``sigterm=False``. Any other
    exception is a bug: one line too (:func:`bug_line`), exit 1. Under :func:`debugging` every
    failure keeps its traceback. Inside a multirun any failure is logged, written to the job's
    ``error.txt`` (except in a directory refused as another run's own), and the job returns None
    so the sweep goes on with the other jobs (an Optuna study records a failed trial; a NaN would
    abort optuna 2.x studies).
    """
    if task is None:
        return functools.partial(guarded, sigterm=sigterm)

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        job_dir = _multirun_output_dir()
        if job_dir is not None:
            from kinsynth.sweeps.workers import end_with_parent

            end_with_parent()  # a worker process of a parallel sweep dies with the sweep
        previous = None
        if sigterm and job_dir is None and _in_main_thread():
            previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        quiet = _QuietFullDisk().__enter__()  # until kinsynth's own line is out, below
        try:
            result = task(*args, **kwargs)
            quiet.report()
            return result
        except KeyboardInterrupt:
            if debugging():
                raise
            print("error: interrupted (Ctrl-C); nothing unfinished was left under its final "
                  "name", file=sys.stderr)
            raise SystemExit(CTRL_C_EXIT) from None
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
            if debugging():
                raise
            if message is None:  # a bug: one line too, its traceback behind KINSYNTH_DEBUG=1
                message = bug_line(error)
            print(f"error: {message}", file=sys.stderr)
            raise SystemExit(RunInterrupted.exit_code if interrupted else 1) from None
        finally:
            quiet.__exit__()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _in_main_thread() -> bool:
    """Signal handlers can only be set from the main thread (an in-process test may not be)."""
    import threading

    return threading.current_thread() is threading.main_thread()
