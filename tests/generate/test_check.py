"""check=true on a run trained on the embedded data: the simulator judges every design."""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

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
    assert result.messages[2].startswith("Spearman(request, oracle Product_I) = ")
