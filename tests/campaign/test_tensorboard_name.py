"""A lone campaign's TensorBoard run carries its strategy's name."""

from __future__ import annotations


def test_a_lone_campaign_shows_in_tensorboard_under_its_strategy(compose_dbtl, tmp_path):
    from kinsynth.campaign import run_campaign

    cfg = compose_dbtl("strategy=random", "initial_designs=5", "cycles=1", "designs_per_cycle=5",
                       "pool.n=200")
    run_campaign(cfg, tmp_path / "run")
    (run,) = (tmp_path / "run" / "tensorboard").iterdir()
    assert run.name == "random" and any(run.glob("events.out.tfevents.*"))
