"""check=true: the simulator judges every design of a run trained on the embedded data, and a run
trained on a table is judged by an oracle fitted to the table it was trained on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from support import make_toy_table

from kinsynth.generate.check import run_oracle
from kinsynth.generate.designs import generate_designs
from kinsynth.train.run import run_training


def test_simulator_check_adds_flux_and_validity(compose_train, tmp_path) -> None:
    run = tmp_path / "run"
    cfg = compose_train(
        "data.path=null", "model=cvae", "latent_dim=3", "trainer.max_epochs=1", "generate.n=100",
        "callbacks.evaluation.figures=false", "callbacks.evaluation.n_conditional=20",
        output_dir=run,
    )
    run_training(cfg, run)
    (run / ".hydra").mkdir(exist_ok=True)  # what train.py's Hydra writes; the oracle reads it
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    out = tmp_path / "checked.csv"
    result = generate_designs(run, 40, "0.6:1.2", seed=0, out=out, check=True)
    designs = pd.read_csv(out)
    assert list(designs.columns[-3:]) == ["Product_I", "Product_I_oracle", "valid"]
    assert designs["Product_I"].between(0.6, 1.2).all()
    valid = designs["valid"].to_numpy()
    assert np.isfinite(designs["Product_I_oracle"][valid]).all()
    assert designs["Product_I_oracle"][~valid].isna().all()
    error = (designs["Product_I_oracle"] - designs["Product_I"]).abs() / designs["Product_I"]
    assert f"{int((error <= 0.10).sum())} of 40 designs" in result.messages[1]
    assert result.messages[2].startswith(f"{int((~valid).sum())} of 40 designs (")
    assert "are invalid" in result.messages[2]
    assert result.messages[3].startswith("Spearman(request, oracle Product_I) = ")


def test_check_reads_the_data_the_run_was_trained_on_from_another_directory(
    compose_train, tmp_path, monkeypatch
) -> None:
    trained_in, checked_from = tmp_path / "project", tmp_path / "elsewhere"
    trained_in.mkdir()
    checked_from.mkdir()
    table = make_toy_table(300)
    table.to_csv(trained_in / "toy.csv")
    # another file of the same name where the check runs: three columns, not five
    table.drop(columns=table.columns[:2]).to_csv(checked_from / "toy.csv")
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    cfg = compose_train("model=cvae", "data.path=toy.csv")
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (run / "metrics.json").write_text(json.dumps({"recon_mse": 0.5}))
    (run / ".hydra" / "hydra.yaml").write_text(
        OmegaConf.to_yaml({"hydra": {"runtime": {"cwd": str(trained_in)}}})
    )
    monkeypatch.chdir(checked_from)
    oracle, simulator = run_oracle(run)
    assert not simulator
    features = [c for c in table.columns if c != "Product_I"]
    flux = oracle(table[features].head(50))
    assert len(flux) == 50 and abs(float(flux.mean()) - table["Product_I"].head(50).mean()) < 0.2
