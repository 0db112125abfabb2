"""Files a user is handed that would hang, crash or exhaust memory: each refused in one line.

YAML alias bombs and deep nesting, SBML entity declarations, FIFOs and devices where a file is
expected, a data file with no line end for gigabytes, and a sample larger than memory. Every case
runs under an alarm: what used to hang or read until memory ran out fails the test instead.
"""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from support import REPO_ROOT, TOY_ANTIMONY, run_cli

import kinsynth
from kinsynth.core.errors import KinsynthError
from kinsynth.core.inputs import read_input_text
from kinsynth.core.yamlfile import MAX_DEPTH, parse_yaml
from kinsynth.data.io import HEADER_LIMIT, check_file
from kinsynth.runs.contract import read_config
from kinsynth.simulate import SimulationError, load_model
from kinsynth.simulate.dataset import merge_shards

CHECKPOINT = REPO_ROOT / "tests" / "models" / "fixtures" / "cvae_v0.1.0.ckpt"
#: 9 levels of 9 aliases: 600 bytes that expand to 9**9 strings
ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
) + "\n"


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail (not hang) when the block takes longer: a FIFO opened for reading blocks for ever."""
    def expired(signum, frame):
        raise AssertionError(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text
    return text


# --------------------------------------------------------------------------------- YAML


def test_the_safe_loader_bounds_aliases_and_nesting_and_reads_plain_yaml() -> None:
    with within(10), pytest.raises(KinsynthError, match=r"f.yaml: line \d+: expands to more "
                                   r"than 1,000,000 values through YAML aliases"):
        parse_yaml(ALIAS_BOMB, "f.yaml")
    with within(10), pytest.raises(KinsynthError, match="a YAML alias that contains itself"):
        parse_yaml("a: &a [1, *a]", "f.yaml")
    with within(10), pytest.raises(KinsynthError, match=rf"nested deeper than {MAX_DEPTH}"):
        parse_yaml("[" * 100_000 + "]" * 100_000, "f.yaml")
    with pytest.raises(KinsynthError, match="not valid YAML"):
        parse_yaml("x: !!python/object/apply:os.system [ls]", "f.yaml")
    # plain YAML reads unchanged; OmegaConf's flavour keeps its float spellings
    assert parse_yaml("a: 1e3\nb: [1, x]", "f.yaml") == {"a": "1e3", "b": [1, "x"]}
    assert parse_yaml("a: 1e3", "f.yaml", omegaconf=True) == {"a": 1000.0}
    # a shared value, as PyYAML writes one (SKiMpy's models hold such aliases), reads unchanged
    shared = "a: &id001 [1, 2]\nb: *id001\n"
    assert parse_yaml(shared, "f.yaml") == {"a": [1, 2], "b": [1, 2]}


def _ranges(path: Path, name: str = "k_in") -> Path:
    path.write_text(f"flux: J_out\nparameters:\n  - {{id: k_in, name: {name}, low: 0.5, "
                    "high: 1.5}\n")
    return path


def test_an_alias_bomb_in_a_skimpy_model_or_a_range_table_is_one_line(tmp_path: Path) -> None:
    model = tmp_path / "m.yml"
    model.write_text(ALIAS_BOMB + "reactions:\n  R1:\n    mechanism: {class: *a8}\n")
    with within(20), pytest.raises(SimulationError, match=r"model_file=.*m.yml: line \d+: expands "
                                   "to more than") as error:
        load_model(model, _ranges(tmp_path / "r.yaml"))
    one_line(error)
    ant = tmp_path / "toy.ant"
    ant.write_text(TOY_ANTIMONY)
    table = tmp_path / "bomb.yaml"
    table.write_text(ALIAS_BOMB + "flux: J_out\nparameters:\n  - {id: k_in, name: *a8, low: 0.5,"
                     " high: 1.5}\n")
    with within(20), pytest.raises(SimulationError, match=r"ranges=.*bomb.yaml: line \d+: expands"):
        load_model(ant, table)


def _run_with_config(run: Path, text: str) -> Path:
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(text)
    (run / "metrics.json").write_text('{"mmd": 0.1}')
    return run


def test_an_alias_bomb_in_a_run_config_is_one_line_for_every_reader(tmp_path: Path) -> None:
    run = _run_with_config(tmp_path / "sweep" / "0", ALIAS_BOMB + "model: {latent_dim: 3}\n")
    with within(20), pytest.raises(KinsynthError, match=r"config.yaml': line \d+: expands to "
                                   "more than"):
        read_config(run)
    with within(60):
        result = run_cli("scripts/report.py", str(tmp_path / "sweep"), "--no-figures",
                         check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "through YAML aliases" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# --------------------------------------------------------------------------------- SBML


def test_sbml_declaring_entities_is_refused_before_libroadrunner_reads_it(tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY e{i} "' + f"&e{i - 1};" * 10 + '">' for i in range(1, 8))
    sbml = tmp_path / "bomb.xml"
    sbml.write_text(textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE sbml [<!ENTITY e0 "lol">{entities}]>
        <sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
          <model id="m"><notes>&e7;</notes></model>
        </sbml>
        """))
    with within(20), pytest.raises(SimulationError, match=r"model_file=.*bomb.xml: line 2 "
                                   "declares a DOCTYPE") as error:
        load_model(sbml, _ranges(tmp_path / "r.yaml"))
    one_line(error)


def test_an_invalid_model_libroadrunner_compiled_is_one_line(monkeypatch, tmp_path) -> None:
    """libsbml accepts some invalid documents that fail only when their structure is read."""
    from kinsynth.simulate import model as model_module

    class Invalid:
        def getFullStoichiometryMatrix(self):  # noqa: N802 - libroadrunner's name
            raise RuntimeError("Invalid SBML Model")

    ant = tmp_path / "toy.ant"
    ant.write_text(TOY_ANTIMONY)
    monkeypatch.setattr(model_module, "compile_model", lambda sbml, spare=False: Invalid())
    with pytest.raises(SimulationError, match="cannot read model file .*toy.ant: Invalid SBML"):
        load_model(ant, _ranges(tmp_path / "r.yaml"))


# ------------------------------------------------------------------------ special files


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def test_a_fifo_or_a_device_as_any_input_is_one_line_without_blocking(tmp_path, fifo) -> None:
    ant = tmp_path / "toy.ant"
    ant.write_text(TOY_ANTIMONY)
    ranges = _ranges(tmp_path / "r.yaml")
    csv_fifo = tmp_path / "pipe.csv"
    os.mkfifo(csv_fifo)
    cases = [
        (lambda: load_model(fifo, ranges), r"model_file=.*pipe.yaml: is a FIFO"),
        (lambda: load_model(csv_fifo, ranges), r"model_file=.*pipe.csv: is a FIFO"),
        (lambda: load_model("/dev/zero", ranges), r"model_file=/dev/zero: is a character device"),
        (lambda: load_model(ant, fifo), r"ranges=.*pipe.yaml: is a FIFO"),
        (lambda: load_model(ant, csv_fifo), r"ranges=.*pipe.csv: is a FIFO"),
        (lambda: load_model(ant, "/dev/zero"), r"ranges=/dev/zero: is a character device"),
        (lambda: merge_shards(["/dev/zero"]), r"merge=/dev/zero: is a character device"),
        (lambda: merge_shards([csv_fifo]), r"merge=.*pipe.csv: is a FIFO"),
        (lambda: check_file(csv_fifo), r"data file .*pipe.csv.: is a FIFO"),
        (lambda: check_file("/dev/zero"), r"data file '/dev/zero': is a character device"),
    ]
    for call, message in cases:
        with within(20), pytest.raises(KinsynthError, match=message) as error:
            call()
        one_line(error)


def test_a_run_whose_checkpoint_is_a_fifo_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    os.mkfifo(tmp_path / "checkpoints" / "last.ckpt")
    with within(20), pytest.raises(KinsynthError, match=r"last.ckpt': is a FIFO"):
        kinsynth.load(tmp_path)


def test_an_oversized_model_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.ant"
    with open(big, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: no disk used
    with within(20), pytest.raises(KinsynthError, match=r"big.ant: is 1024.0 MB, larger than"):
        read_input_text(big, "model_file")
    binary = tmp_path / "binary.ant"
    binary.write_bytes(b"model m()\n\xff\xfe end")
    with pytest.raises(SimulationError, match=r"binary.ant: not UTF-8 text .* at byte 10"):
        load_model(binary, _ranges(tmp_path / "r.yaml"))


# ------------------------------------------------------------------ a data file's first line


def test_a_data_file_without_a_line_end_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as handle:
        handle.truncate(2 << 30)  # 2 GB of NUL bytes, no newline
    with within(20), pytest.raises(KinsynthError, match=rf"no header line in its first "
                                   rf"{HEADER_LIMIT >> 20} MB") as error:
        check_file(sparse)
    one_line(error)
    wide = tmp_path / "wide.csv"
    wide.write_text('"' + "x" * 200_000 + '",y\n1,2\n')
    with within(20), pytest.raises(KinsynthError, match=r"wide.csv.: malformed header line"):
        check_file(wide)


# ---------------------------------------------------------------------- a sample too large


@pytest.fixture(scope="module")
def model():
    return kinsynth.load(CHECKPOINT)


def test_a_sample_larger_than_memory_is_refused_up_front(model, monkeypatch) -> None:
    from kinsynth.models import base

    monkeypatch.setattr(base, "available_bytes", lambda: 1 << 30)
    columns = len(model.columns) + 1
    needed = 2 * 10**9 * columns * 8 / (1 << 30)
    with within(20), pytest.raises(KinsynthError, match=rf"sample\(n=1000000000\): 1000000000 "
                                   rf"rows of {columns} columns need about {needed:.1f} GB of "
                                   r"memory, 1.0 GB is available") as error:
        model.sample(10**9)
    one_line(error)
    assert len(model.sample(1000, seed=0)) == 1000  # a sample that fits is made


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.sample(10, target={"a": 1}), r"target=\{'a': 1\}: expected a number"),
        (lambda m: m.sample(10, seed=-1), r"seed=-1: expected an integer >= 0"),
        (lambda m: m.reconstruct(m.sample(3, seed=0).assign(**{m.columns[0]: "abc"})),
         r"input table: column .* holds .* values, expected numbers"),
        (lambda m: m.encode(m.sample(3, seed=0).to_numpy()),
         r"input table: expected a pandas DataFrame, got ndarray"),
    ],
)
def test_the_model_api_refuses_bad_arguments_in_one_line(model, call, message) -> None:
    with pytest.raises(KinsynthError, match=message) as error:
        call(model)
    one_line(error)


@pytest.mark.parametrize("edit", ["rename", "reshape"])
def test_a_checkpoint_with_edited_weights_is_one_line(tmp_path: Path, edit: str) -> None:
    checkpoint = torch.load(CHECKPOINT, weights_only=True)
    weights = checkpoint["state_dict"]
    key = next(k for k, v in weights.items() if v.ndim == 2)
    if edit == "rename":
        weights[key + "_renamed"] = weights.pop(key)
    else:
        weights[key] = torch.zeros(weights[key].shape[0] + 1, weights[key].shape[1])
    path = tmp_path / "edited.ckpt"
    torch.save(checkpoint, path)
    with pytest.raises(KinsynthError, match=r"edited.ckpt: its weights do not fit the") as error:
        kinsynth.load(path)
    one_line(error)
