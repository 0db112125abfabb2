"""The entry points as a user runs them: train.py (single and multirun) and generate.py.

Each command's ``main`` runs in this process with a shell's argv, cwd and environment
(``support.run_cli``): exit codes, one-line errors, the run contract. The same commands as real
processes: ``tests/integration/test_commands.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from support import generate_in_process, run_cli, train_in_process

from kinsynth.sweeps.plan import job_folder

FAST = [
    "trainer.max_epochs=2",
    "callbacks.evaluation.baselines=false",
    "callbacks.evaluation.figures=false",
    "callbacks.evaluation.n_conditional=50",
]


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, toy_csv: Path) -> dict[str, Path]:
    """One conditional and one unconditional run, trained once for all generate.py tests."""
    root = tmp_path_factory.mktemp("runs")
    runs = {}
    runs["cvae"] = root / "cvae"
    run_cli("train.py", "model=cvae", f"data.path={toy_csv}", f"hydra.run.dir={runs['cvae']}",
            *FAST)
    runs["vae"] = train_in_process(root / "vae", "model=vae", f"data.path={toy_csv}", *FAST)
    return runs


def test_train_writes_its_own_run_directory(trained_runs: dict[str, Path]) -> None:
    run = trained_runs["cvae"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["recon_mse"] > 0 and metrics["fit_seconds"] > 0
    assert (run / ".hydra" / "config.yaml").is_file()
    assert len(pd.read_csv(run / "synthetic.csv")) == 600


@pytest.mark.parametrize("target,check", [
    ("1.4", lambda t: (t == 1.4).all()),
    ("1.2:1.5", lambda t: t.between(1.2, 1.5).all() and t.nunique() > 10),
    (None, lambda t: t.nunique() > 10),
])
def test_generate_for_a_number_a_range_or_the_training_targets(
    trained_runs: dict[str, Path], tmp_path: Path, target: str | None, check
) -> None:
    out = tmp_path / "designs.csv"
    args = [f"run={trained_runs['cvae']}", "n=200", f"out={out}"]
    if target is not None:
        args.append(f"target={target}")
    result = generate_in_process(*args)
    designs = pd.read_csv(out)
    assert len(designs) == 200 and result.rows == 200 and result.path == out
    assert list(designs.columns)[:5] == [f"vmax_forward_Enz_{c}" for c in "ABCDE"]
    assert check(designs["Product_I"])
    assert (designs.drop(columns="Product_I") > 0).all().all()


def test_generate_from_a_checkpoint_file_and_unconditional_model(
    trained_runs: dict[str, Path], tmp_path: Path
) -> None:
    checkpoint = trained_runs["vae"] / "checkpoints" / "last.ckpt"
    out = tmp_path / "joint.csv"
    run_cli("generate.py", f"run={checkpoint}", "n=50", f"out={out}", cwd=tmp_path)
    assert pd.read_csv(out).shape == (50, 6)


def test_target_for_an_unconditional_model_is_a_one_line_error(
    trained_runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "never.csv"
    result = run_cli("generate.py", f"run={trained_runs['vae']}", "target=1.4", f"out={out}",
                     cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: target= was given")
    assert "Traceback" not in result.stderr and not out.exists()


def test_bad_data_path_is_a_one_line_error_and_leaves_no_output(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = run_cli("train.py", f"data.path={missing}", f"hydra.run.dir={tmp_path / 'run'}",
                     check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and str(missing) in last
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_multirun_goes_on_when_one_job_fails(toy_csv: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_cli("train.py", "-m", "model=ppca", "latent_dim=2,9", f"data.path={toy_csv}",
                     f"hydra.sweep.dir={sweep}", *FAST)
    assert result.returncode == 0
    assert json.loads((job_folder(sweep, 0) / "metrics.json").read_text())["recon_mse"] > 0
    assert "latent_dim=9" in (job_folder(sweep, 1) / "error.txt").read_text()
    assert not (job_folder(sweep, 1) / "metrics.json").exists()


@pytest.mark.slow  # several CLI runs end to end: CI runs it, -m 'not slow' skips it
def test_resume_from_the_command_line_keeps_the_original_config(toy_csv: Path, tmp_path: Path):
    run = tmp_path / "run"
    run_cli("train.py", "model=cvae", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST)
    run_cli("train.py", "model=cvae", f"data.path={toy_csv}", f"resume={run}",
            *FAST[1:], "trainer.max_epochs=4")
    original = (run / ".hydra" / "config.yaml").read_text()
    resumed = list((run / ".hydra").glob("resume-*/config.yaml"))
    assert "max_epochs: 2" in original and len(resumed) == 1
    assert "max_epochs: 4" in resumed[0].read_text()
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 4


@pytest.mark.parametrize("override,expected", [
    ("latent_dim=abc", "latent_dim=abc: Value 'abc' of type 'str' could not be converted"),
    ("latent_dim=1000000000", "latent_dim=1000000000: expected a positive integer at most 1024"),
    ("trainer.max_epochs=0", "trainer.max_epochs=0: expected a positive integer"),
    ("threads=0", "threads=0: expected a positive integer"),
    ("data.split=[0.5,0.5,0.5]", "data.split: fractions [0.5, 0.5, 0.5] must sum to 1"),
    ("data.transform=bogus", "unknown transform 'bogus'"),
    ("data.batch_size=abc", "data.batch_size=abc: Value 'abc' of type 'str' could not be"),
])
def test_bad_training_argument_is_one_line_and_writes_no_run(
    toy_csv: Path, tmp_path: Path, override: str, expected: str
) -> None:
    from kinsynth.cli.guard import user_error

    run = tmp_path / "run"
    with pytest.raises(Exception) as raised:
        train_in_process(run, f"data.path={toy_csv}", *FAST, override)
    line = user_error(raised.value)  # what train.py prints after "error: ", exiting 1
    assert line is not None and expected in line and "\n" not in line, raised.value
    assert not (run / "metrics.json").exists() and not (run / "checkpoints").exists()


def test_a_bad_training_argument_exits_1_with_one_line(toy_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST,
                     "latent_dim=abc", check=False)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == ("error: latent_dim=abc: Value 'abc' of type 'str' could not be converted to "
                    "Integer"), last
    assert not (run / "metrics.json").exists() and not (run / "checkpoints").exists()


def test_a_path_hydra_cannot_parse_is_one_line_saying_how_to_quote_it(tmp_path: Path) -> None:
    result = run_cli("generate.py", "run=outputs/x/14_latent_dim=3,model=cvae", "n=1",
                     cwd=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: run=outputs/x/14_latent_dim=3,model=cvae: Hydra cannot parse a path holding "
        "'=', ',', brackets or spaces unquoted; quote it for Hydra and the shell: "
        "'run=\"outputs/x/14_latent_dim=3,model=cvae\"'"]
