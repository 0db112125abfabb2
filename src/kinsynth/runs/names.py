"""Names a person can read in TensorBoard: which model a run is, and what its sweep job changed.

Hydra names runs by timestamp and sweep jobs by number, so ``tensorboard --logdir outputs`` lists
``runs/2026-11-28_17-17-25-170044`` and ``0``, ``1``, ... and nobody can tell a CVAE from a PPCA.
These helpers derive names from the config group choices and the command-line overrides, and the
flattened settings the HParams tab compares runs by; and they claim a new run's directory, named
to the second, for the console scripts and ``kinsynth.fit`` alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from kinsynth.data.location import is_unset
from kinsynth.runs.contract import HEADLINE_METRICS, NOT_IN_FOLDER_NAMES, NOT_IN_NAMES

if TYPE_CHECKING:
    from hydra.conf import HydraConf

_MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9_.,=+\-\[\]]+")
#: characters Hydra's override grammar reads in an unquoted value (no ``=``, ``,``, brackets):
#: a job folder made of these can be handed to ``run=`` or ``resume=`` as printed
_HYDRA_UNSAFE = re.compile(r"[^A-Za-z0-9_.+\-]+")

#: bookkeeping goes last in the HParams table, after the headline figures and the rest
_BOOKKEEPING = re.compile(r"^(n_.*|.*_seconds|epochs|oracle_is_simulator)$")


def safe_name(text: str) -> str:
    """A file-system-safe, bounded version of ``text`` (a hash keeps long names distinct)."""
    name = _UNSAFE.sub("_", text).strip("_.")
    if len(name) > _MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:_MAX_NAME - 9]}-{digest}"
    return name


_CLAIMED: dict[str, str] = {}


def claim_fresh_dir(path: str) -> str:
    """``path`` itself, created now, or ``path-2``, ``path-3``... when another run took it first.

    Run directories are named to the second (microseconds made every name unreadable); creating
    the directory here, atomically, is what keeps two runs started in the same second apart.
    Remembered per process, so resolving the same config twice names the same directory.
    """
    if path not in _CLAIMED:
        base = Path(path)
        candidate, k = base, 1
        while True:
            try:
                candidate.mkdir(parents=True)
                break
            except FileExistsError:
                k += 1
                candidate = base.with_name(f"{base.name}-{k}")
        _CLAIMED[path] = str(candidate)
    return _CLAIMED[path]


_MAX_VALUE = 24


def _split_overrides(override_dirname: str) -> list[str]:
    """``a=1,b=[1,2]`` -> ``["a=1", "b=[1,2]"]``: Hydra joins with commas that lists contain too."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(override_dirname):
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(override_dirname[start:i])
            start = i + 1
    items.append(override_dirname[start:])
    return [item for item in items if item]


#: significant digits a number keeps in a name: Optuna's suggestions carry 16
_NAME_DIGITS = 4


def readable_number(value: str) -> str:
    """``0.2583472849201745`` -> ``0.2583``: a name shows a sampled number to 4 significant digits
    (the job's own config keeps it whole); integers and anything else are unchanged."""
    if len(value) <= _NAME_DIGITS + 4 or not re.fullmatch(r"[-+]?\d*\.\d+([eE][-+]?\d+)?", value):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    short = f"{number:.{_NAME_DIGITS}g}"
    return short if len(short) < len(value) else value


def _short_item(item: str) -> str:
    """A long value (a list of 6 column names) becomes a hash, so its key and the others stay."""
    key, _, value = item.partition("=")
    if len(value) <= _MAX_VALUE:
        return item
    return f"{key}=hash-{hashlib.sha1(value.encode()).hexdigest()[:8]}"


def job_dir_name(override_dirname: str, num: int | str) -> str:
    """A sweep job's folder: its number (for order; no two jobs share one) and its overrides.

    Written without Hydra's grammar characters (``14_model-cvae_latent_dim-3``), so the folder
    kinsynth prints can be pasted into ``run=`` or ``resume=`` unquoted.

    Hydra sorts the overrides by key, so cutting a long name at its end would drop whatever sorts
    last (``strategy=...`` behind a long ``space.vary=[...]``); long values are hashed instead.
    """
    # the same rule as the TensorBoard version: how a job is evaluated or logged is not its name
    items = [_readable_item(item) for item in _split_overrides(str(override_dirname))
             if not item.lstrip("+~").startswith(NOT_IN_FOLDER_NAMES)]
    if len(",".join(items)) > _MAX_NAME:
        items = [_short_item(item) for item in items]
    name = safe_name("_".join(_grammar_free(item) for item in items))
    return f"{num}_{name}" if name else str(num)


def _readable_item(item: str) -> str:
    key, sep, value = item.partition("=")
    return f"{key}{sep}{readable_number(value)}"


def _grammar_free(item: str) -> str:
    """``latent_dim=3`` -> ``latent_dim-3``, ``levels=[0.5,1]`` -> ``levels-0.5-1``."""
    key, _, value = item.partition("=")
    return "-".join(_HYDRA_UNSAFE.sub("-", part).strip("-") for part in (key, value))


#: what a run composed without Hydra's launcher (``kinsynth.fit``) chose: the model group and the
#: settings it was given, which Hydra would otherwise report as choices and overrides
_COMPOSED: ContextVar[tuple[str | None, tuple[str, ...]]] = ContextVar("_COMPOSED",
                                                                       default=(None, ()))


@contextmanager
def composed_run(model: str, overrides: Sequence[str] = ()) -> Iterator[None]:
    """Name the runs started inside after ``model`` and ``overrides`` (``key=value``), as
    Hydra's choices and command line name a ``train.py`` run: ``cvae,latent_dim=2``."""
    token = _COMPOSED.set((str(model), tuple(overrides)))
    try:
        yield
    finally:
        _COMPOSED.reset(token)


def _hydra() -> HydraConf | None:
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.get()
    except (ImportError, ValueError):
        return None


def model_choice(cfg: DictConfig) -> str:
    """The model group choice (``cvae``) under Hydra, else the model class (compose() callers)."""
    hydra = _hydra()
    if hydra is not None and hydra.runtime.choices.get("model"):
        return str(hydra.runtime.choices["model"])
    composed, _ = _COMPOSED.get()
    if composed:
        return composed
    target = str(OmegaConf.select(cfg, "model._target_", default="model") or "model")
    return target.rsplit(".", 1)[-1].lower()


def key_overrides() -> list[str]:
    """The command line's overrides that change what is trained (``data.path`` by its file name)."""
    hydra = _hydra()
    overrides = list(hydra.overrides.task) if hydra is not None else list(_COMPOSED.get()[1])
    shown = []
    for override in overrides:
        if override.lstrip("+~").startswith(NOT_IN_NAMES) or override.startswith("model="):
            continue
        key, _, value = override.partition("=")
        if key == "data.path":
            value = value.rstrip("/").rsplit("/", 1)[-1]
        shown.append(f"{key}={readable_number(value)}")
    return shown


def run_label(cfg: DictConfig) -> str:
    """The TensorBoard version name of a run: ``cvae,latent_dim=11``."""
    return safe_name(",".join([model_choice(cfg), *key_overrides()]))


def run_hparams(cfg: DictConfig) -> dict[str, Any]:
    """The composed settings runs are compared by, flattened to the keys TensorBoard shows."""
    def pick(key: str) -> Any:
        value = OmegaConf.select(cfg, key, default=None)
        if value is None or isinstance(value, (int, float, str, bool)):
            return value
        return str(value)

    return {
        "model": model_choice(cfg),
        "latent_dim": pick("latent_dim"),
        "optimizer.lr": pick("optimizer.lr"),
        "optimizer.weight_decay": pick("optimizer.weight_decay"),
        "data.transform": pick("data.transform"),
        "data.batch_size": pick("data.batch_size"),
        "data.path": "embedded default" if is_unset(pick("data.path")) else pick("data.path"),
        "trainer.max_epochs": pick("trainer.max_epochs"),
        "seed": pick("seed"),
    }


def ordered_metrics(results: Mapping[str, float]) -> dict[str, float]:
    """Headline figures first, then the rest alphabetically, bookkeeping (n_*, timings) last."""
    head = [k for k in HEADLINE_METRICS if k in results]
    rest = sorted(k for k in results if k not in head and not _BOOKKEEPING.match(k))
    tail = sorted(k for k in results if k not in head and _BOOKKEEPING.match(k))
    return {k: results[k] for k in head + rest + tail}
