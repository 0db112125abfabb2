"""The run directory's contract: what a run (training or a campaign) leaves, and how it is read.

Everything that writes or reads a run directory (training, resume, ``generate.py check=true``,
the sweep summary and report, campaigns) goes through these names and functions, so the layout is
written down once:

```
<run>/.hydra/config.yaml     the composed config (data.path relative to hydra.yaml's runtime.cwd)
<run>/.hydra/hydra.yaml      Hydra's own settings: runtime.cwd, the group choices
<run>/.hydra/overrides.yaml  the command line's overrides
<run>/metrics.json           finished marker of a training run (its test-split figures)
<run>/campaign.json          finished marker of a campaign (its summary)
<run>/checkpoints/last.ckpt  the final weights, which metrics.json describes
<run>/error.txt              why a sweep job failed
```

A finished marker is written last and atomically (a temporary file, then a rename), so a run
killed at any point never looks finished. The identity keys say which settings make a run the run
it is: a resumed run must keep them, and ``skip_finished`` skips only a job that matches them all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.data.location import data_file, is_unset

CONFIG = Path(".hydra") / "config.yaml"
HYDRA = Path(".hydra") / "hydra.yaml"
OVERRIDES = Path(".hydra") / "overrides.yaml"
METRICS = "metrics.json"
CAMPAIGN = "campaign.json"
#: a campaign's results, rewritten atomically after every cycle, and the state resume= reads
CYCLES = "cycles.csv"
BUILT = "built.csv"
CAMPAIGN_FIGURE = "flux_per_cycle.png"
CAMPAIGN_STATE = "campaign_state.npz"
CAMPAIGN_FILES = (CYCLES, BUILT, CAMPAIGN_FIGURE, CAMPAIGN_STATE)
#: finished markers: a training run's, a campaign's
MARKERS = (METRICS, CAMPAIGN)
ERROR = "error.txt"
SYNTHETIC = "synthetic.csv"
CHECKPOINTS = "checkpoints"
LAST_CHECKPOINT = Path(CHECKPOINTS) / "last.ckpt"
LOCK = ".kinsynth.lock"
#: what a training run writes; ``overwrite=true`` removes exactly these before a new run
RUN_OUTPUTS = (METRICS, SYNTHETIC, CHECKPOINTS, "figures", "tensorboard", "csv")
#: the files a run writes inside each output folder: ``overwrite=true`` removes these and no
#: other file (a user's ``csv/raw_measurements.csv`` beside a run is never a run's output)
OWN_FILES = {
    CHECKPOINTS: ("*.ckpt", ".*.tmp"),
    "figures": ("*.png", ".*.tmp"),
    "tensorboard": ("events.out.tfevents.*", "hparams.yaml"),
    "csv": ("metrics.csv", "hparams.yaml"),
}
#: every name a run (training or campaign) writes, appends to or truncates in its directory,
#: folders included (everything below them counts): none may be a link or a special file.
#: ``*.log`` is Hydra's job log (``train.log``, ``dbtl.log``). Extend it with a new file a run
#: writes; tests/runs/test_no_writes_through_links.py tests each name.
WRITTEN = (LOCK, "*.log", METRICS, CAMPAIGN, *CAMPAIGN_FILES, SYNTHETIC, ERROR, ".hydra",
           CHECKPOINTS, "figures", "tensorboard", "csv")

# ---------------------------------------------------------------------------------- identity

#: subtrees and keys that define the run; a resumed run must keep them. The optimiser's other
#: settings (weight decay, betas) live in its restored state, which would silently override them
IDENTITY = ("seed", "latent_dim", "data", "model", "optimizer")
#: keys a resumed run may change; a finished job with other values is another job
BUDGET = ("trainer.max_epochs", "optimizer.lr")
#: data keys that say where, not what: never part of the identity
PLACEMENT = ("data.device",)
#: keys holding a path, compared after resolving against the directory each run started in
PATH_KEYS = ("data.path",)
#: override prefixes that say where or how a run is written or shown, not what it is: left out of
#: run and job names (TensorBoard versions, sweep job folders)
NOT_IN_NAMES = ("hydra.", "paths.", "callbacks.", "logger", "resume=", "overwrite=",
                "skip_finished=", "progress_bar=", "progress_lines=", "threads=")
#: a sweep job's folder also leaves out where its data lives (a path is no folder name)
NOT_IN_FOLDER_NAMES = (*NOT_IN_NAMES, "data.path=")

# -------------------------------------------------------------------------- headline metrics

#: the figures a user reads first: the console's summary line, the sweep table (first four),
#: the head of TensorBoard's HParams columns and of the sweep report's rows
HEADLINE_METRICS = ("c2st_auc_joint", "cond_spearman", "hit_rate", "std_ratio_min",
                    "std_ratio_max", "c2st_auc", "recon_mse", "kl")

# ----------------------------------------------------------------------------- the marker


def write_marker(path: Path, content: dict[str, Any]) -> None:
    """Write a finished marker as JSON atomically: the whole file appears, or none at all."""
    from kinsynth.core.writing import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w") as file:
        json.dump(content, file, indent=2, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())


def _is_marker(path: Path) -> bool:
    """A readable JSON object: an empty or truncated file (a full disk, a copy) is no marker."""
    try:
        return path.is_file() and isinstance(json.loads(path.read_text()), dict)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False


def finished_marker(run: Path) -> Path | None:
    """The run's finished marker (metrics.json or campaign.json), None while it is unfinished."""
    for name in MARKERS:
        if _is_marker(Path(run) / name):
            return Path(run) / name
    return None


def is_finished(run: Path) -> bool:
    """A run (training or campaign) that got to its end."""
    return finished_marker(run) is not None


def read_marker(path: Path) -> dict[str, Any]:
    """A finished marker's content; a file that is not a JSON object is one line."""
    return _parsed(path, lambda: json.loads(Path(path).read_text()), dict, "valid JSON",
                   "a JSON object")


def holds_a_run(run: Path) -> bool:
    """Anything a training run writes: a finished run, or an interrupted one's checkpoints."""
    checkpoints = Path(run) / CHECKPOINTS
    return is_finished(run) or (checkpoints.is_dir() and any(checkpoints.glob("*.ckpt")))


def error_line(run: Path) -> str | None:
    """The informative line of a job's error.txt (its message, or a traceback's last line)."""
    path = Path(run) / ERROR
    if not path.is_file():
        return None
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "error.txt is empty"


# ----------------------------------------------------------------------------- the config


def run_folder(path: Path) -> Path | None:
    """The run directory of a run directory or of a checkpoint file inside one (has .hydra/)."""
    path = Path(path)
    candidates = [path.parent, path.parent.parent] if path.is_file() else [path]
    return next((folder for folder in candidates if (folder / CONFIG).is_file()), None)


def _parsed(path: Path, load: Callable[[], Any], kind: type, readable: str, shape: str) -> Any:
    """``load()``'s result; an unreadable file or another shape is one line naming the file."""
    try:
        loaded = load()
    except Exception as error:  # OSError, a YAML or JSON error: either way, one line
        raise KinsynthError(f"'{path}': not {readable} ({error})") from None
    if not isinstance(loaded, kind):
        raise KinsynthError(f"'{path}': expected {shape}")
    return loaded


def _mapping(path: Path, load: Callable[[], Any]) -> DictConfig:
    return _parsed(path, load, DictConfig, "a readable run config", "a YAML mapping")


def hydra_settings(run: Path) -> DictConfig:
    """The run's ``.hydra/hydra.yaml`` ``hydra`` node (empty for a run made without Hydra)."""
    path = Path(run) / HYDRA
    if not path.is_file():
        return OmegaConf.create({})
    node = _mapping(path, lambda: OmegaConf.load(path)).get("hydra")
    return node if isinstance(node, DictConfig) else OmegaConf.create({})


def original_cwd(run: Path) -> Path:
    """Where the run was started: what its relative paths are relative to."""
    cwd = OmegaConf.select(hydra_settings(run), "runtime.cwd")
    return Path(str(cwd)) if cwd else Path.cwd()


def read_config(run: Path, resolve_paths: bool = True) -> DictConfig | None:
    """The run's composed config, None for a run made without Hydra.

    Hydra leaves ``${hydra:runtime.*}`` in config.yaml, which only resolves inside that run; they
    are replaced by the run's own values. With ``resolve_paths`` ``data.path`` is the file the
    run read (``kinsynth.data.location.data_file``: a relative path made absolute against the
    directory the run was started in, ``~`` expanded), so a run reads the same file whatever
    directory it is read from; unset is ``null`` (the embedded data set), however it was spelled.
    """
    run = Path(run)
    path = run / CONFIG
    if not path.is_file():
        return None
    cwd = original_cwd(run)
    text = path.read_text(errors="replace")
    for key, value in (("cwd", cwd), ("output_dir", run)):
        text = text.replace(f"${{hydra:runtime.{key}}}", str(value))
    config = _mapping(path, lambda: OmegaConf.create(text))
    if resolve_paths:
        for key in PATH_KEYS:
            value = OmegaConf.select(config, key, default=None)
            resolved = None if is_unset(value) else str(data_file(value, cwd))
            if resolved != value:
                OmegaConf.update(config, key, resolved)
    return config


def read_overrides(run: Path) -> list[str] | None:
    """The command line's overrides of the run, None when not recorded."""
    path = Path(run) / OVERRIDES
    if not path.is_file():
        return None
    import yaml

    try:
        listed = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return [str(o) for o in listed] if isinstance(listed, list) else None
