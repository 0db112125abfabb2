"""A run's metrics.json records the rows each capped figure used."""

from __future__ import annotations

import json
import logging

from kinsynth.train.run import run_training


def test_caps_from_the_config_reach_metrics_json(compose_train, tmp_path, caplog) -> None:
    cfg = compose_train(
        "model=cvae", "latent_dim=3", "trainer.max_epochs=2", "callbacks.evaluation.figures=false",
        "callbacks.evaluation.max_rows.c2st=40", "callbacks.evaluation.max_rows.memorisation=30",
        "callbacks.evaluation.max_rows.utility=100",
    )
    with caplog.at_level(logging.DEBUG, logger="kinsynth.evaluate.metrics"):
        run_training(cfg, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    # toy table: 600 rows -> 60 test rows, 480 training rows, 600 synthetic rows
    assert metrics["n_c2st"] == 80 and metrics["n_memorisation"] == 60
    assert metrics["n_utility"] == 200 and metrics["n_synthetic"] == 600
    assert metrics["n_conditional"] == 100
    timings = [r.getMessage() for r in caplog.records if " s on " in r.getMessage()]
    assert any(t.startswith("c2st_auc: ") and t.endswith("on 80 rows") for t in timings)
    assert any(t.startswith("memorisation_ratio: ") for t in timings)
