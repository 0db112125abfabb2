"""One meaning of ``data.path`` (``kinsynth.data.location``) wherever a command meets it."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from kinsynth.data.default import DEFAULT_DATA_PATH
from kinsynth.data.io import check_file
from kinsynth.data.location import data_file, is_embedded, is_unset
from kinsynth.runs import contract
from kinsynth.runs.names import run_hparams
from kinsynth.runs.resume import compare


@pytest.mark.parametrize("unset", [None, "", "None", "null"])
def test_every_spelling_of_unset_is_the_embedded_data_set(unset):
    assert is_unset(unset)
    assert data_file(unset) == DEFAULT_DATA_PATH
    assert data_file(unset, start="/lab") == DEFAULT_DATA_PATH
    assert is_embedded(unset)
    check_file(unset)  # train.py's early check reads the embedded header, refuses nothing
    assert run_hparams(OmegaConf.create({"data": {"path": unset}}))["data.path"] == \
        "embedded default"


def test_a_path_is_relative_to_where_the_run_started_and_home_is_expanded(tmp_path):
    assert data_file("data/x.csv") == Path("data/x.csv")  # as given: messages show it so
    assert data_file("data/x.csv", start="/lab") == Path("/lab/data/x.csv")
    assert data_file("/elsewhere/x.csv", start="/lab") == Path("/elsewhere/x.csv")
    assert data_file("~/x.csv", start="/lab") == Path.home() / "x.csv"
    assert not is_unset(Path("None")) and data_file(Path("None")) == Path("None")
    assert is_embedded(str(DEFAULT_DATA_PATH)) and not is_embedded(tmp_path / "x.csv")


def _run(tmp_path: Path, data_path: object, cwd: str = "/lab") -> Path:
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True, exist_ok=True)
    (run / contract.CONFIG).write_text(OmegaConf.to_yaml({"data": {"path": data_path}}))
    (run / contract.HYDRA).write_text(OmegaConf.to_yaml({"hydra": {"runtime": {"cwd": cwd}}}))
    return run


@pytest.mark.parametrize(("recorded", "read"), [
    ("~/x.csv", str(Path.home() / "x.csv")),
    ("data/x.csv", "/lab/data/x.csv"),
    ("None", None),
    (None, None),
])
def test_a_run_config_is_read_with_the_file_the_run_read(tmp_path, recorded, read):
    assert contract.read_config(_run(tmp_path, recorded)).data.path == read


def test_resuming_compares_the_files_named_not_their_spelling(tmp_path, monkeypatch):
    run = _run(tmp_path, "data/x.csv")
    old = contract.read_config(run, resolve_paths=False)

    def changes(new_path: object) -> list:
        return compare(old, OmegaConf.create({"data": {"path": new_path}}), run)

    monkeypatch.chdir(tmp_path)
    assert changes("/lab/data/x.csv") == []
    assert changes("data/x.csv") == [("data.path", "data/x.csv", "data/x.csv")]  # another cwd
    monkeypatch.chdir("/")
    assert changes("lab/data/x.csv") == []
    embedded = _run(tmp_path, None)
    old = contract.read_config(embedded, resolve_paths=False)
    assert compare(old, OmegaConf.create({"data": {"path": "None"}}), embedded) == []
    assert compare(old, OmegaConf.create({"data": {"path": str(DEFAULT_DATA_PATH)}}),
                   embedded) == []
