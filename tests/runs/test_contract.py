"""The run directory's contract: finished markers written atomically, the config read as trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.runs import contract


def test_a_marker_appears_whole_or_not_at_all(tmp_path: Path, monkeypatch) -> None:
    marker = tmp_path / "run" / contract.METRICS
    contract.write_marker(marker, {"recon_mse": 0.5, "warnings": []})
    assert json.loads(marker.read_text()) == {"recon_mse": 0.5, "warnings": []}
    assert contract.is_finished(tmp_path / "run")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies between writing and renaming

    monkeypatch.setattr(contract.os, "replace", killed)
    other = tmp_path / "other" / contract.CAMPAIGN
    with pytest.raises(KeyboardInterrupt):
        contract.write_marker(other, {"cumulative_top": 3})
    assert not contract.is_finished(tmp_path / "other")
    assert list((tmp_path / "other").iterdir()) == []  # no temporary file left behind either


def test_a_campaign_is_finished_by_its_own_marker(tmp_path: Path) -> None:
    (tmp_path / "cycles.csv").write_text("cycle\n0\n")
    assert not contract.is_finished(tmp_path)  # a table alone is no finished campaign
    contract.write_marker(tmp_path / contract.CAMPAIGN, {"cumulative_top": 1})
    assert contract.finished_marker(tmp_path) == tmp_path / contract.CAMPAIGN


def test_the_config_is_read_with_data_path_relative_to_where_the_run_started(tmp_path):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / contract.CONFIG).write_text(OmegaConf.to_yaml({
        "data": {"path": "data/x.csv"}, "paths": {"output_dir": "${hydra:runtime.output_dir}"}}))
    (run / contract.HYDRA).write_text(OmegaConf.to_yaml({"hydra": {"runtime": {"cwd": "/lab"}}}))
    config = contract.read_config(run)
    assert config.data.path == "/lab/data/x.csv" and config.paths.output_dir == str(run)
    assert contract.read_config(run, resolve_paths=False).data.path == "data/x.csv"
    assert contract.run_folder(run) == run and contract.read_config(tmp_path) is None


def test_a_broken_marker_or_config_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / contract.METRICS).write_text("{not json")
    with pytest.raises(KinsynthError, match="metrics.json': not valid JSON"):
        contract.read_marker(tmp_path / contract.METRICS)
    (tmp_path / ".hydra").mkdir()
    (tmp_path / contract.CONFIG).write_text("- a list\n")
    with pytest.raises(KinsynthError, match="config.yaml': expected a YAML mapping"):
        contract.read_config(tmp_path)


def test_one_list_of_identity_keys_and_of_headline_metrics() -> None:
    from kinsynth.runs.names import ordered_metrics

    assert set(contract.BUDGET).isdisjoint(contract.PLACEMENT)
    assert list(ordered_metrics(dict.fromkeys(["n_c2st", "mmd", *contract.HEADLINE_METRICS],
                                              0.0)))[:len(contract.HEADLINE_METRICS)] == list(
        contract.HEADLINE_METRICS)
