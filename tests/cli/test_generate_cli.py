"""generate.py: streamed output, nothing clobbered, bad arguments one line.

What the library decides is checked in-process (``generate_in_process``); a few tests run the
command itself for what only it does: exit codes, one-line errors, Hydra's run directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import generate_in_process, run_cli, train_in_process

from kinsynth.core.errors import KinsynthError

FAST = [
    "trainer.max_epochs=2",
    "callbacks.evaluation.baselines=false",
    "callbacks.evaluation.figures=false",
    "callbacks.evaluation.n_conditional=50",
]
FEATURES = [f"vmax_forward_Enz_{c}" for c in "ABCDE"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, toy_csv: Path) -> Path:
    out = tmp_path_factory.mktemp("gen") / "cvae"
    return train_in_process(out, "model=cvae", f"data.path={toy_csv}", *FAST)


def generate(run: Path, cwd: Path, *args: str, check: bool = True):
    return run_cli("generate.py", f"run={run}", *args, cwd=cwd, check=check)


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    for word in words:
        assert word in last, last


def test_chunked_csv_equals_one_shot_parquet_and_no_hydra_dir(run: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    generate(run, tmp_path, "n=2500", "seed=3", "target=0.8:1.6", "chunk_size=700",
             f"out={tmp_path / 'chunked.csv'}")
    generate_in_process(f"run={run}", "n=2500", "seed=3", "target=0.8:1.6",
                        f"out={tmp_path / 'whole.parquet'}")
    chunked = pd.read_csv(tmp_path / "chunked.csv")
    whole = pd.read_parquet(tmp_path / "whole.parquet")
    assert list(chunked.columns) == [*FEATURES, "Product_I"]  # no unnamed index column
    assert len(chunked) == 2500 and list(whole.columns) == list(chunked.columns)
    # the CSV holds about 6 significant digits of the same rows
    np.testing.assert_allclose(chunked.to_numpy(), whole.to_numpy(), rtol=6e-6)
    assert chunked["Product_I"].between(0.8, 1.6).all()
    # out= given: nothing but the two files, no outputs/ run directory or log file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.csv", "whole.parquet"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "chunked.csv").stat().st_mode) == 0o666 & ~mask


def test_without_out_the_designs_go_to_a_hydra_run_dir(run: Path, tmp_path: Path) -> None:
    result = generate(run, tmp_path, "n=5")
    written = list((tmp_path / "outputs" / "generate" / "runs").glob("*/designs.csv"))
    assert len(written) == 1 and str(written[0]) in result.stdout
    assert len(pd.read_csv(written[0])) == 5


def test_existing_file_is_refused_unless_overwrite(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "designs.csv"
    out.write_bytes(b"precious,data\n1,2\n")
    result = generate(run, tmp_path, "n=10", f"out={out}", check=False)
    assert_one_line_error(result, str(out), "overwrite=true")
    assert out.read_bytes() == b"precious,data\n1,2\n"
    generate(run, tmp_path, "n=10", f"out={out}", "overwrite=true")
    assert len(pd.read_csv(out)) == 10
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_never_writes_into_checkpoints(run: Path, tmp_path: Path) -> None:
    checkpoint = run / "checkpoints" / "last.ckpt"
    before = checkpoint.read_bytes()
    for out in (checkpoint, run / "checkpoints" / "designs.csv"):
        with pytest.raises(KinsynthError, match="checkpoints"):
            generate_in_process(f"run={run}", "n=10", f"out={out}", "overwrite=true")
    assert checkpoint.read_bytes() == before
    assert not (run / "checkpoints" / "designs.csv").exists()


@pytest.mark.parametrize("args,words", [
    (["n=0"], ["n=0"]),
    (["target=nan"], ["target=", "finite"]),
    (["target=inf"], ["target=", "finite"]),
    (["chunk_size=-5"], ["chunk_size=-5"]),
])
def test_bad_arguments_are_one_line_errors(run: Path, tmp_path: Path, args, words) -> None:
    out = tmp_path / "never.csv"
    with pytest.raises(KinsynthError) as error:
        generate_in_process(f"run={run}", *args, f"out={out}")
    assert all(word in str(error.value) for word in words) and "\n" not in str(error.value)
    assert not out.exists()


def test_missing_run_and_directory_out_are_one_line_errors(run: Path, tmp_path: Path) -> None:
    result = run_cli("generate.py", "n=3", f"out={tmp_path / 'x.csv'}", cwd=tmp_path, check=False)
    assert_one_line_error(result, "run=", "missing")
    assert_one_line_error(generate(run, tmp_path, f"out={tmp_path}", check=False), "directory")


def test_target_outside_the_training_range_is_said_and_written(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "far.csv"
    result = generate_in_process(f"run={run}", "n=20", "target=50", f"out={out}")
    designs = pd.read_csv(out)
    bank_max = pd.read_csv(run / "synthetic.csv")["Product_I"].max()
    assert "outside the training range" in result.warnings[0]
    assert not any("outside the training range" in m for m in result.messages)  # said once
    assert (designs["Product_I"] == 50).all()  # the request stays in the target column
    used = designs["Product_I_used"]
    assert used.nunique() == 1 and used.iloc[0] < 5 and used.iloc[0] == pytest.approx(
        bank_max, rel=0.2)


def test_the_clipping_warning_is_printed_once(run: Path, tmp_path: Path) -> None:
    result = generate(run, tmp_path, "n=5", "target=2.0", f"out={tmp_path / 'far.csv'}")
    assert (result.stdout + result.stderr).count("outside the training range") == 1


def test_check_adds_the_oracle_flux_and_counts_the_hits(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "checked.csv"
    result = generate_in_process(f"run={run}", "n=200", "target=0.9:1.3", "check=true",
                                 f"out={out}")
    stdout = "\n".join(result.messages)
    designs = pd.read_csv(out)
    assert list(designs.columns) == [*FEATURES, "Product_I", "Product_I_oracle"]
    error = (designs["Product_I_oracle"] - designs["Product_I"]).abs() / designs["Product_I"]
    for tolerance in ("5%", "10%"):
        hits = int((error <= int(tolerance[:-1]) / 100).sum())
        assert f"{hits} of 200 designs" in stdout and f"±{tolerance}" in stdout
    assert "Spearman(request, oracle Product_I)" in stdout
