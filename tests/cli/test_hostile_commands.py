"""Every command turns a bad input, a read-only place, Ctrl-C, SIGTERM and a bug into one line.

In this process where a library call shows it (``run_cli``); a real process for a signal and for
permissions (root writes anywhere, so a read-only folder is tried as an unprivileged user).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import CLI_ENVIRONMENT, REPO_ROOT, TOY_ANTIMONY, run_cli

from kinsynth.core.errors import KinsynthError

CHECKPOINT = REPO_ROOT / "tests" / "models" / "fixtures" / "cvae_v0.1.0.ckpt"
OK_RANGES = "flux: J_out\nparameters:\n  - {id: k_in, low: 0.5, high: 1.5}\n"
IRREVERSIBLE = ("reactions:\n  R1:\n    mechanism: {class: IrrevMichaelisMenten, substrate1: A, "
                "product1: B, mechanism_stoichiometry: {substrate1: -1, product1: 1}}\n")
#: (file name, its content, the model_file= / ranges= override, what the line must say)
BAD_SIMULATOR_INPUTS = [
    ("r.yaml", "flux: J_out\nparameters:\n  - {id: k_in, low: 0.5, high: .inf}\n", "ranges",
     "high is inf, expected a finite number"),
    ("r.yaml", "flux: J_out\nparameters:\n  - {id: k_in, low: 0.5, high: 1e400}\n", "ranges",
     "high is '1e400', expected a finite number"),
    ("r.yaml", "flux: J_out\nparameters:\n  - {id: k_in, low: abc, high: 2}\n", "ranges",
     "low is 'abc'"),
    ("r.yaml", "flux: J_out\nparameters:\n  - k_in\n", "ranges", "row 0 is 'k_in', expected a "
     "mapping"),
    ("r.yaml", "flux: J_out\nparameters: " + "[" * 100_000 + "]" * 100_000 + "\n", "ranges",
     "nested deeper than"),
    ("m.yml", "reactions:\n  R1:\n    mechanism: ReversibleMichaelisMenten\n", "model_file",
     "R1's mechanism is 'ReversibleMichaelisMenten', expected a mapping"),
    ("m.yml", IRREVERSIBLE + "parameters: [1, 2]\n", "model_file",
     "'parameters' is [1, 2], expected a mapping"),
    ("m.yml", IRREVERSIBLE + "parameters: {vmax_forward_R1: abc}\n", "model_file",
     "parameters vmax_forward_R1 is 'abc', expected a number"),
    ("m.yml", IRREVERSIBLE.replace("}}\n", "}}\n    modifiers: {m1: {class: "
                                   "FirstOrderSmallMoleculeModifier}}\n"), "model_file",
     "modifier m1 names no 'small_molecule'"),
    ("m.ant", b"model toy()\n \xff\xfe end\n", "model_file", "not UTF-8 text"),
]


def assert_one_line(result: subprocess.CompletedProcess, code: int = 1) -> str:
    """The command failed with ``code`` and said so in exactly one line, no traceback."""
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize(("name", "content", "key", "says"), BAD_SIMULATOR_INPUTS)
def test_simulate_refuses_a_bad_model_or_range_table_in_one_line(
    tmp_path: Path, name: str, content: str | bytes, key: str, says: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "toy.ant").write_text(TOY_ANTIMONY)
    (tmp_path / "ok.yaml").write_text(OK_RANGES)
    files = {"model_file": "toy.ant", "ranges": "ok.yaml", key: name}
    result = run_cli("scripts/simulate.py", "n=5", *(f"{k}={v}" for k, v in files.items()),
                     f"out={tmp_path / 'o.csv'}", f"hydra.run.dir={tmp_path / 'run'}",
                     cwd=tmp_path, check=False)
    assert says in assert_one_line(result)
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(("extra", "says"), [
    ("time=abc", "time=abc: Value 'abc' of type 'str' could not be converted to Float"),
    ("out=folder", "out=folder: is a directory")])
def test_simulate_refuses_a_bad_time_or_out_in_one_line(tmp_path, extra, says) -> None:
    (tmp_path / "toy.ant").write_text(TOY_ANTIMONY)
    (tmp_path / "ok.yaml").write_text(OK_RANGES)
    (tmp_path / "folder").mkdir()
    result = run_cli("scripts/simulate.py", "n=5", "model_file=toy.ant", "ranges=ok.yaml", extra,
                     f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, check=False)
    assert says in assert_one_line(result)


def test_dbtl_refuses_a_noise_level_that_is_no_number(tmp_path: Path) -> None:
    result = run_cli("dbtl.py", "noise.level=abc", "noise.kind=homoscedastic", "cycles=1",
                     f"pool.cache_dir={tmp_path / 'cache'}", f"hydra.run.dir={tmp_path / 'run'}",
                     check=False)
    # the config's schema refuses it while the config is composed, before anything runs
    assert "noise.level=abc: Value 'abc' of type 'str' could not be converted to Float" in \
        assert_one_line(result)


@pytest.mark.parametrize("damage", ["truncated", "empty", "object array", "wrong length"])
def test_a_damaged_pool_cache_names_the_file_to_delete(tmp_path: Path, damage: str) -> None:
    from kinsynth.campaign.pool import _cached_flux

    path = tmp_path / "pool-abc.npy"
    if damage == "truncated":
        np.save(path, np.arange(1000.0))
        path.write_bytes(path.read_bytes()[:500])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "object array":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        np.save(path, np.arange(10.0))

    def never() -> None:
        raise AssertionError("simulated although a cache file exists")

    with pytest.raises(KinsynthError, match=rf"'{path}': a damaged pool cache .*delete it and "
                       "rerun") as error:
        _cached_flux(path, "the reference pool", never, None, 1000)
    assert "\n" not in str(error.value)


def _campaign(folder: Path, cycles: str) -> None:
    folder.mkdir(parents=True)
    summary = {"strategy": "random", "seed": 0, "cumulative_top": 1, "best_true_flux": 1.0,
               "strains_to_q99": None, "top100_found": 0}
    (folder / "campaign.json").write_text(json.dumps(summary))
    (folder / "cycles.csv").write_text(cycles)


def test_dbtl_report_refuses_a_truncated_cycles_table_in_one_line(tmp_path: Path) -> None:
    _campaign(tmp_path / "sweep" / "0", "cycle,n_built,cumulative_top,batch_div")
    result = run_cli("scripts/dbtl_report.py", str(tmp_path / "sweep"), check=False)
    line = assert_one_line(result)
    assert "cycles.csv': lacks column(s) batch_diversity, batch_valid_fraction" in line


@pytest.mark.parametrize(("script", "where"), [
    ("generate.py", "kinsynth.cli.generate.generate_from_settings"),
    ("scripts/simulate.py", "kinsynth.cli.simulate.run"),
    ("dbtl.py", "kinsynth.campaign.run_campaign"),
])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, monkeypatch, script, where) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(where, interrupted)
    args = {"generate.py": [f"run={CHECKPOINT}", "n=10", f"out={tmp_path / 'd.csv'}"],
            "scripts/simulate.py": ["n=5"],
            "dbtl.py": [f"pool.cache_dir={tmp_path / 'cache'}"]}[script]
    result = run_cli(script, *args, f"hydra.run.dir={tmp_path / 'run'}", check=False)
    assert "interrupted (Ctrl-C)" in assert_one_line(result, 130)


def test_a_bug_is_one_line_and_keeps_its_traceback_behind_kinsynth_debug(
    tmp_path, monkeypatch
) -> None:
    def bug(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr("kinsynth.cli.simulate.run", bug)
    result = run_cli("scripts/simulate.py", "n=5", f"hydra.run.dir={tmp_path / 'a'}", check=False)
    assert "unexpected ZeroDivisionError: division by zero" in assert_one_line(result)
    assert "KINSYNTH_DEBUG=1" in result.stderr
    monkeypatch.setenv("KINSYNTH_DEBUG", "1")
    result = run_cli("scripts/simulate.py", "n=5", f"hydra.run.dir={tmp_path / 'b'}", check=False)
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr


# ------------------------------------------------------------------------- real processes


def _unprivileged() -> list[str]:
    """The command prefix that runs Python as a user a read-only folder applies to."""
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be tried")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    # the checkout itself must be readable by that user (a clone in a 0700 temporary folder is
    # not): the test is about a read-only output folder, not an unreadable program
    probe = subprocess.run([*prefix, "-c", "import sys; open(sys.argv[1]).close()",
                            str(REPO_ROOT / "train.py")], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("the checkout is not readable by an unprivileged user (e.g. a clone in a "
                    "0700 folder): a read-only output folder cannot be tried as one")
    return prefix


@pytest.fixture
def shared_tmp() -> Path:
    """A folder another user can enter (pytest's own is the owner's alone)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="kinsynth-read-only-"))
    folder.chmod(0o777)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


@pytest.mark.slow
def test_a_read_only_place_is_one_line_before_any_work(shared_tmp: Path) -> None:
    tmp_path = shared_tmp
    read_only = tmp_path / "read_only"
    read_only.mkdir(mode=0o555)
    read_only.chmod(0o555)
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)
    sweep = tmp_path / "sweep"
    _campaign(sweep / "0", "cycle,n_built,cumulative_top,batch_diversity,batch_valid_fraction\n"
              "0,50,1,0.5,1.0\n")
    job = tmp_path / "train_sweep" / "0"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("model: {_target_: m.CVAE}\nlatent_dim: 3\n")
    (job / "metrics.json").write_text('{"mmd": 0.1}')
    for path in tmp_path.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    read_only.chmod(0o555)
    home.chmod(0o777)
    env = {**os.environ, **CLI_ENVIRONMENT, "HOME": str(home),
           "PYTHONPATH": str(REPO_ROOT / "src")}
    cases = [
        (["train.py", f"hydra.run.dir={read_only}/run"], "hydra.run.dir="),
        (["dbtl.py", f"hydra.run.dir={read_only}/run"], "hydra.run.dir="),
        (["scripts/simulate.py", "n=5", f"hydra.run.dir={read_only}/run"], "hydra.run.dir="),
        (["scripts/simulate.py", "n=5", f"out={read_only}/o.csv", f"hydra.run.dir={home}/s"],
         f"out={read_only}/o.csv: cannot write there"),
        (["dbtl.py", "cycles=1", f"pool.cache_dir={read_only}/cache", f"hydra.run.dir={home}/d"],
         f"pool.cache_dir={read_only}/cache: cannot write there"),
        (["scripts/dbtl_report.py", str(sweep), "--out", f"{read_only}/report"],
         f"--out={read_only}/report: cannot write there"),
        (["scripts/report.py", str(job.parent), "--out", f"{read_only}/report"],
         f"--out={read_only}/report: cannot write there"),
    ]
    for args, says in cases:
        began = time.monotonic()
        result = subprocess.run([*_unprivileged(), str(REPO_ROOT / args[0]), *args[1:]],
                                cwd=home, env=env, capture_output=True, text=True, timeout=300)
        line = assert_one_line(result)
        assert says in line and "cannot write there" in line, (args, line)
        assert time.monotonic() - began < 60, f"{args}: found only after the work"
    assert list(read_only.iterdir()) == []


@pytest.mark.slow
def test_sigterm_stops_generate_in_one_line_and_leaves_no_temporary_file(tmp_path) -> None:
    out = tmp_path / "designs.csv"
    env = {**os.environ, **CLI_ENVIRONMENT}
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "generate.py"), f"run={CHECKPOINT}", "n=50000000",
         f"out={out}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".designs.csv.*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(tmp_path.glob(".designs.csv.*")), "generate.py never began writing"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert "stopped by SIGTERM" in assert_one_line(result, 143)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_background_writer_on_a_full_disk_prints_no_traceback_before_the_line(capsys) -> None:
    """TensorBoard writes its events from a thread: its ENOSPC traceback used to come first."""
    import errno
    import threading

    from kinsynth.cli.guard import guarded

    def full_disk(path: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    @guarded
    def task(fails: bool) -> None:
        writer = threading.Thread(target=full_disk, args=("events.out.tfevents.1",))
        writer.start()
        writer.join()
        if fails:
            raise OSError(errno.ENOSPC, "No space left on device", "last.ckpt")

    with pytest.raises(SystemExit) as stopped:
        task(True)
    err = capsys.readouterr().err
    assert stopped.value.code == 1 and "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()] and "'last.ckpt': no space left" in err
    task(False)  # only the writer met the full disk: the command ends, with one warning line
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert "'events.out.tfevents.1': no space left on device while writing" in err


@pytest.mark.parametrize("case", ["train data FIFO", "train data sparse", "generate FIFO ckpt",
                                  "simulate merge device", "report alias bomb"])
def test_each_command_refuses_a_hostile_file_in_one_line_without_hanging(tmp_path, case) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as handle:
        handle.truncate(1 << 30)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    os.mkfifo(run / "checkpoints" / "last.ckpt")
    job = tmp_path / "sweep" / "0"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text(
        "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)))
    (job / "metrics.json").write_text('{"mmd": 0.1}')
    args, says = {
        "train data FIFO": (["train.py", f"data.path={fifo}"], "is a FIFO"),
        "train data sparse": (["train.py", f"data.path={sparse}"], "no header line"),
        "generate FIFO ckpt": (["generate.py", f"run={run}", "n=5", f"out={tmp_path / 'd.csv'}"],
                               "last.ckpt': is a FIFO"),
        "simulate merge device": (["scripts/simulate.py", "merge=[/dev/zero]",
                                   f"out={tmp_path / 'm.csv'}"], "merge=/dev/zero: is a character"),
        "report alias bomb": (["scripts/report.py", str(tmp_path / "sweep"), "--no-figures"],
                              "through YAML aliases"),
    }[case]
    if not args[0].startswith("scripts/report"):
        args.append(f"hydra.run.dir={tmp_path / 'out'}")
    def hung(signum, frame):
        raise AssertionError(f"{case}: still running after 60 s")

    # a FIFO read blocks for ever, a device is read until memory runs out: fail, do not hang
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        result = run_cli(*args, cwd=tmp_path, check=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert says in assert_one_line(result)
