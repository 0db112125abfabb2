"""train.py and generate.py on tables with part names: every model, the run contract, names out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinsynth.models import load
from kinsynth.train.run import run_training

FAST = ("trainer.max_epochs=3", "callbacks.evaluation.figures=false", "latent_dim=2",
        "callbacks.evaluation.baselines=false", "callbacks.evaluation.n_conditional=50")
G8H = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "g8h_cpr" / "data.csv"


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 300
    promoter = rng.choice(["pCYC1", "pENO2", "pTEF1"], size=n)
    gene = rng.choice(["CroG8H", "SmusG8H"], size=n)
    strength = rng.uniform(0.5, 2.0, size=n)
    titre = strength * np.where(promoter == "pTEF1", 3.0, 1.0) + rng.normal(0, 0.1, n)
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"id": np.arange(n), "promoter": promoter, "gene": gene, "strength": strength,
                  "titre": titre}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("model", ["vae", "cvae", "bcvae", "ppca", "cppca"])
def test_every_model_trains_on_part_names(compose_train, tmp_path, mixed_csv, model) -> None:
    out = tmp_path / "run"
    cfg = compose_train(f"model={model}", f"data.path={mixed_csv}", "data.target=titre",
                        *FAST, output_dir=out)
    metrics = run_training(cfg, out)
    synth = pd.read_csv(out / "synthetic.csv")
    assert list(synth.columns) == ["promoter", "gene", "strength", "titre"]
    assert set(synth["promoter"]) <= {"pCYC1", "pENO2", "pTEF1"}
    assert set(synth["gene"]) <= {"CroG8H", "SmusG8H"}
    on_disk = json.loads((out / "metrics.json").read_text())
    for key in ("freq_tv_promoter", "freq_tv_gene", "freq_tv_mean", "cooccur_tv_mean",
                "c2st_auc", "recon_mse"):
        assert 0 <= on_disk[key] == pytest.approx(metrics[key]), key
    assert on_disk["freq_tv_mean"] <= 1
    model_back = load(out)
    assert model_back.levels == {"promoter": ["pCYC1", "pENO2", "pTEF1"],
                                 "gene": ["CroG8H", "SmusG8H"]}
    assert set(model_back.sample(20, seed=0)["gene"]) <= {"CroG8H", "SmusG8H"}


def test_generate_writes_part_names(compose_train, tmp_path, mixed_csv) -> None:
    from support import generate_in_process

    out = tmp_path / "run"
    cfg = compose_train("model=cvae", f"data.path={mixed_csv}", "data.target=titre", *FAST,
                        output_dir=out)
    run_training(cfg, out)
    designs = tmp_path / "designs.csv"
    generate_in_process(f"run={out}", "n=7", "target=4.0", f"out={designs}")
    written = pd.read_csv(designs)
    assert len(written) == 7 and set(written["promoter"]) <= {"pCYC1", "pENO2", "pTEF1"}
    assert (written["titre"] == 4.0).all()


@pytest.mark.skipif(not G8H.is_file(), reason="needs ../shared/data/g8h_cpr/data.csv")
def test_g8h_library_trains_on_its_four_slots(compose_train, tmp_path) -> None:
    out = tmp_path / "g8h"
    cfg = compose_train(f"data.path={G8H}", "data.target=strictosidine_pct_of_control",
                        "data.features=[G8H,pG8H,pCPR,CPR]", *FAST, output_dir=out)
    metrics = run_training(cfg, out)
    synth = pd.read_csv(out / "synthetic.csv")
    assert list(synth.columns) == ["G8H", "pG8H", "pCPR", "CPR", "strictosidine_pct_of_control"]
    assert set(synth["pG8H"]) <= {"pCYC1", "pENO2", "pPCK1", "pRPL15B"}
    assert np.isfinite(metrics["freq_tv_mean"]) and np.isfinite(metrics["c2st_auc"])
