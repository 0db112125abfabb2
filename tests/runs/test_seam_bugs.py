"""The three bugs issue 17 found in the seams between modules, each pinned by a test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from kinsynth.train.checks import finished_job_metrics


def _finished_run(tmp_path: Path, cfg) -> Path:
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (run / "metrics.json").write_text(json.dumps({"recon_mse": 0.5}))
    return run


@pytest.mark.parametrize("change", ["trainer.max_epochs=50", "optimizer.lr=0.01"])
def test_skip_finished_reruns_a_job_whose_budget_or_lr_changed(compose_train, tmp_path, change):
    run = _finished_run(tmp_path, compose_train("model=cvae", "trainer.max_epochs=3"))
    same = compose_train("model=cvae", "trainer.max_epochs=3", "skip_finished=true")
    assert finished_job_metrics(same, run) == {"recon_mse": 0.5}
    changed = compose_train("model=cvae", "trainer.max_epochs=3", change, "skip_finished=true")
    assert finished_job_metrics(changed, run) is None  # not the old metrics as if they were new


def _parses(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        OverridesParser.create().parse_override(override)
    except Exception:  # Hydra raises its grammar errors under several types
        return False
    return True


@pytest.mark.parametrize("overrides", [
    "experiment=thesis,latent_dim=3,model=cvae",
    "model.hidden=[64,64],seed=1",
    "space.levels=[0.5,1,2],space.vary=[" + ",".join(f"vmax_forward_Enz_{c}" for c in "ABCDEF")
    + "],strategy=random",
])
def test_a_printed_job_folder_can_be_pasted_into_run_and_resume(overrides: str) -> None:
    from kinsynth.runs.names import job_dir_name

    folder = f"outputs/train/multirun/2026-12-02_00-25-17/{job_dir_name(overrides, 14)}"
    for key in ("run", "resume"):
        assert _parses(f"{key}={folder}"), folder


def test_a_path_hydra_cannot_parse_gets_one_line_saying_how_to_quote_it() -> None:
    from kinsynth.cli.guard import path_override_problem

    path = "outputs/train/multirun/t/14_experiment=thesis,latent_dim=3"
    line = path_override_problem(["n=10", f"run={path}"])
    assert line is not None and "\n" not in line and line.startswith(f"run={path}: ")
    quoted = line.rsplit("'", 2)[1]  # the suggestion, as the shell hands it to Hydra
    assert quoted == f'run="{path}"' and _parses(quoted)
    assert path_override_problem(["n=10", "run=outputs/train/runs/2026-12-02_00-25-17"]) is None


def test_check_reads_the_data_the_run_was_trained_on_from_another_directory(
    compose_train, tmp_path, monkeypatch
) -> None:
    from support import make_toy_table

    from kinsynth.generate.check import run_oracle

    trained_in, checked_from = tmp_path / "project", tmp_path / "elsewhere"
    trained_in.mkdir()
    checked_from.mkdir()
    table = make_toy_table(300)
    table.to_csv(trained_in / "toy.csv")
    # another file of the same name where the check runs: three columns, not five
    table.drop(columns=table.columns[:2]).to_csv(checked_from / "toy.csv")
    run = _finished_run(tmp_path, compose_train("model=cvae", "data.path=toy.csv"))
    (run / ".hydra" / "hydra.yaml").write_text(
        OmegaConf.to_yaml({"hydra": {"runtime": {"cwd": str(trained_in)}}})
    )
    monkeypatch.chdir(checked_from)
    oracle, simulator = run_oracle(run)
    assert not simulator
    features = [c for c in table.columns if c != "Product_I"]
    flux = oracle(table[features].head(50))
    assert len(flux) == 50 and abs(float(flux.mean()) - table["Product_I"].head(50).mean()) < 0.2
