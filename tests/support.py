"""Helpers shared by the tests: paths, a small kinetic-like table, running entry points.

A module of its own (not conftest.py) so test files can import it by a name no other folder uses.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinsynth.conf.schemas import register_configs

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_CSV = REPO_ROOT.parent / "shared" / "data" / "pathway_I_5000.csv"
CONF_DIR = REPO_ROOT / "conf"

# one thread per test process: the machine is small and shared
os.environ.setdefault("OMP_NUM_THREADS", "1")
# the YAMLs name their schemas (conf/schemas.py): every compose in a test process needs them, and
# every test process imports this module (conftest.py does)
register_configs()


#: a one-metabolite Antimony model: a steady state exists only while uptake (k_in) stays below the
#: drain's capacity (2 vmax_out), and then its flux J_out equals the uptake
TOY_ANTIMONY = """
model toy()
  J_in:  -> S;        k_in;
  J_out: S -> ;       vmax_out * S / (km_out + S);
  k_in = 1; vmax_out = 2; km_out = 1; S = 1;
end
"""


#: overrides of a cheap CVAE run that still writes every file of the run contract
FAST_CVAE = (
    "model=cvae",
    "trainer.max_epochs=2",
    "callbacks.evaluation.baselines=false",
    "callbacks.evaluation.figures=false",
    "callbacks.evaluation.n_conditional=50",
    "logger=csv",
)


def make_toy_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Uniform fold changes and a saturating, multiplicative flux, like a small pathway."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(n, 5))
    flux = x[:, 0] / (0.5 + x[:, 0]) * x[:, 1] ** 0.5 / (1.0 + 0.5 * x[:, 2])
    flux *= np.exp(rng.normal(0, 0.03, size=n))
    frame = pd.DataFrame(x, columns=[f"vmax_forward_Enz_{c}" for c in "ABCDE"])
    frame["Product_I"] = flux / np.median(flux)
    frame.index = np.arange(2, n + 2)
    return frame


#: the entry points ``run_cli`` runs in this process: the module whose ``main`` the script calls,
#: or the script itself where it holds its ``main`` (its return value is the exit status)
IN_PROCESS = {
    "train.py": "kinsynth.cli.train",
    "generate.py": "kinsynth.cli.generate",
    "dbtl.py": "kinsynth.cli.dbtl",
    "scripts/simulate.py": "kinsynth.cli.simulate",
    "scripts/report.py": REPO_ROOT / "scripts" / "report.py",
    "scripts/dbtl_report.py": REPO_ROOT / "scripts" / "dbtl_report.py",
}
#: Lightning's and torch's console noise that kinsynth filters (``kinsynth.train.console``): a
#: user's run must show none of it
CONSOLE_NOISE = (
    "litlogger",
    "LeafSpec",
    "`weights_only` was not set",
    "configure_optimizers` returned `None`",
)
#: what a user's shell gives the entry points in these tests
CLI_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "CI": "true", "HYDRA_FULL_ERROR": "0"}


def run_cli(*args: str, cwd: Path = REPO_ROOT, check: bool = True,
            subprocess_: bool = False) -> subprocess.CompletedProcess:
    """Run an entry point the way a user does: its ``main`` with this argv, exit code and output.

    In this process by default: a subprocess spends 6-7 s of CPU importing torch and Lightning
    before it does anything, which made the suite 20 minutes long. ``subprocess_=True`` keeps a
    real process, for what only one shows: signals, a child's exit status, a fresh interpreter.
    """
    script = args[0]
    if subprocess_ or script not in IN_PROCESS:
        result = _run_subprocess(args, cwd)
    else:
        result = _run_in_process(args, cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def _run_subprocess(args: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess:
    script = args[0]
    if script.endswith(".py") and not Path(script).is_absolute():
        args = (str(REPO_ROOT / script), *args[1:])
    env = {**os.environ, **CLI_ENVIRONMENT}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


def _run_in_process(args: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess:
    """``main()`` of the script's module with ``sys.argv``, the cwd and the environment set.

    Hydra configures its log handlers on ``ext://sys.stdout`` when the job starts, so swapping
    ``sys.stdout``/``sys.stderr`` for buffers captures the log as a subprocess's pipes would.
    """
    main = _entry_point(IN_PROCESS[args[0]])
    out, err = io.StringIO(), io.StringIO()
    saved = {key: os.environ.get(key) for key in CLI_ENVIRONMENT}
    argv, here = sys.argv, Path.cwd()
    os.environ.update(CLI_ENVIRONMENT)
    sys.argv = [args[0], *args[1:]]
    code: object = 0
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main()
            except SystemExit as done:
                code = done.code
    finally:
        sys.argv = argv
        os.chdir(here)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _drop_job_log_handlers(out, err)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        err.write(f"{code}\n")
        code = 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def needs_reference() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not REFERENCE_CSV.is_file(), reason=f"reference data set {REFERENCE_CSV} is absent"
    )


def _entry_point(where: str | Path):
    if isinstance(where, str):
        return importlib.import_module(where).main
    spec = importlib.util.spec_from_file_location(f"script_{where.stem}", where)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _drop_job_log_handlers(*buffers: io.StringIO) -> None:
    """Close the handlers Hydra's job logging left: the run's log file, and the captured streams."""
    for name in (None, "kinsynth"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            captured = getattr(handler, "stream", None) in buffers
            if captured or isinstance(handler, logging.FileHandler):
                logger.removeHandler(handler)
                handler.close()


def compose_dbtl(tmp_path: Path, *overrides: str):
    """conf/dbtl.yaml composed with ``overrides``, its pool cached under ``tmp_path``."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(REPO_ROOT / "conf"), version_base="1.3"):
        cfg = compose("dbtl", overrides=list(overrides))
    cfg = OmegaConf.to_container(cfg, resolve=False)
    cfg["pool"]["cache_dir"] = str(tmp_path / "pool_cache")
    cfg.pop("hydra", None)
    return OmegaConf.create(cfg)


def train_in_process(out: Path, *overrides: str) -> Path:
    """Train as ``train.py hydra.run.dir=<out> <overrides>`` does, in this process.

    Writes the run's ``.hydra/config.yaml`` and ``hydra.yaml`` (the working directory) as Hydra
    would, so generate.py's ``check=true`` and resume read it: a run for tests of what follows
    training, without a 5-second subprocess.
    """
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    import kinsynth.cli.resolvers  # noqa: F401  (the configs' resolvers)
    from kinsynth.train.run import run_training

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.output_dir={out}", "progress_bar=false",
                                          *overrides])
    (out / ".hydra").mkdir(parents=True, exist_ok=True)
    (out / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (out / ".hydra" / "hydra.yaml").write_text(
        OmegaConf.to_yaml({"hydra": {"runtime": {"cwd": str(Path.cwd())}}}))
    run_training(cfg, out)
    return out


def generate_in_process(*args: str):
    """``generate.py <args>`` in this process: composes conf/generate.yaml, returns its result."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from kinsynth.generate.designs import generate_from_settings, register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("generate", overrides=list(args))
    settings = OmegaConf.to_container(cfg)
    return generate_from_settings(settings, Path(str(settings.get("out") or "designs.csv")))


def hydra_parses(override: str) -> bool:
    """Whether Hydra's own override grammar accepts ``override`` (as a command line hands it)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        OverridesParser.create().parse_override(override)
    except Exception:  # Hydra raises its grammar errors under several types
        return False
    return True


def build_wheel(tmp_path: Path) -> Path:
    """A wheel of this checkout, built from a copy of it (no .git, venv or outputs) in
    ``tmp_path``, without build isolation: what a user's ``pip wheel .`` packs."""
    import shutil

    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "outputs", "build", "*.egg-info",
                                                  "__pycache__", ".pytest_cache", ".ruff_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", str(source), "-w", str(tmp_path / "dist")], check=True,
                   capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("kinsynth-*.whl")
    return wheel
