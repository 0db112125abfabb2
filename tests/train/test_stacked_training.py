"""A stack of runs trained as one, then each run's Trainer replaying its epochs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from kinsynth.models import load
from kinsynth.train.replays import offer_stacked_training, take_stacked_training
from kinsynth.train.run import run_training
from kinsynth.train.stackable import stack_key
from kinsynth.train.stacked import fit_stack

FAST = ("experiment=thesis", "trainer.max_epochs=4", "callbacks.evaluation.level=fast",
        "callbacks.evaluation.n_conditional=50")


def _flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def test_runs_that_differ_in_latent_size_and_seed_share_a_key_and_others_do_not(
        compose_train, tmp_path: Path) -> None:
    key = stack_key(compose_train("model=cvae", "latent_dim=2", *FAST))
    assert key is not None
    assert stack_key(compose_train("model=cvae", "latent_dim=3", "seed=5", *FAST)) == key
    # Adam's step is linear in its rate: each stacked model keeps its own
    assert stack_key(compose_train("model=cvae", "latent_dim=2", "optimizer.lr=0.01", *FAST)) == key
    for other in ("optimizer.weight_decay=0.5", "optimizer=adamw", "model=vae",
                  "data.batch_size=16", "trainer.max_epochs=5"):
        assert stack_key(compose_train("model=cvae", "latent_dim=2", *FAST, other)) != key
    for alone in ("model=ppca", "+trainer.max_steps=10", f"resume={tmp_path}"):
        assert stack_key(compose_train("model=cvae", "latent_dim=2", *FAST, alone)) is None


@pytest.mark.slow(seconds=4)
def test_a_stacked_run_ends_where_the_run_alone_ends_and_replays_into_the_same_files(
        compose_train, tmp_path: Path) -> None:
    """Two CVAEs (latent 2 and 3, seeds 0 and 1, two learning rates) trained as one stack follow
    their runs alone to float rounding; a run handed its record writes a run directory of the
    same files, whose weights and optimizer state are the record's, and whose figures are the run
    alone's."""
    settings = [("latent_dim=2", "seed=0"), ("latent_dim=3", "seed=1", "optimizer.lr=0.003")]
    cfgs = {name: [compose_train("model=cvae", *s, *FAST, output_dir=tmp_path / name / str(i))
                   for i, s in enumerate(settings)] for name in ("alone", "stacked")}
    records = fit_stack(cfgs["stacked"])
    assert [r.epochs for r in records] == [4, 4] and records[0].members == 2
    for i in range(2):
        alone_dir, stacked_dir = tmp_path / "alone" / str(i), tmp_path / "stacked" / str(i)
        alone = run_training(cfgs["alone"][i], alone_dir)
        offer_stacked_training(stacked_dir, cfgs["stacked"][i], records[i])
        stacked = run_training(cfgs["stacked"][i], stacked_dir)
        torch.testing.assert_close(_flat(load(alone_dir)), records[i].parameters[-1],
                                   atol=1e-6, rtol=1e-5)
        assert torch.equal(_flat(load(stacked_dir)), records[i].parameters[-1])
        files = sorted(p.relative_to(alone_dir).parts[0] for p in alone_dir.rglob("*"))
        assert sorted(p.relative_to(stacked_dir).parts[0] for p in stacked_dir.rglob("*")) == files
        assert set(stacked) == set(alone)
        for key, value in alone.items():
            if not key.endswith("_seconds") and isinstance(value, float):
                assert stacked[key] == pytest.approx(value, rel=1e-3, abs=1e-3, nan_ok=True), key
        assert stacked["fit_seconds"] >= records[i].seconds
        # resume= continues from the replayed checkpoint's optimiser state
        state = torch.load(stacked_dir / "checkpoints" / "last.ckpt", weights_only=True)
        exp_avg = state["optimizer_states"][0]["state"][0]["exp_avg"].reshape(-1)
        first = next(iter(load(stacked_dir).parameters())).numel()
        assert torch.equal(exp_avg, records[i].optimizer_state["exp_avg"][-1, :first])
        assert json.loads((stacked_dir / "metrics.json").read_text())["epochs"] == 4
    # resumed for two more epochs, a replayed run continues as its run alone would: its
    # checkpoint holds the random state the run alone would have had
    longer = compose_train("model=cvae", *settings[1], *FAST, "trainer.max_epochs=6",
                           output_dir=tmp_path / "longer")
    run_training(longer, tmp_path / "longer")
    resumed_dir = tmp_path / "stacked" / "1"
    resumed = compose_train("model=cvae", *settings[1], *FAST, "trainer.max_epochs=6",
                            f"resume={resumed_dir}", output_dir=resumed_dir)
    run_training(resumed, resumed_dir)
    torch.testing.assert_close(_flat(load(resumed_dir)), _flat(load(tmp_path / "longer")),
                               atol=1e-6, rtol=1e-5)


def test_a_record_is_taken_only_by_the_run_it_was_computed_for(compose_train,
                                                               tmp_path: Path) -> None:
    cfg = compose_train("model=vae", "latent_dim=2", *FAST)
    other = compose_train("model=vae", "latent_dim=3", *FAST)
    records = fit_stack([cfg, other])
    offer_stacked_training(tmp_path / "a", cfg, records[0])
    assert take_stacked_training(tmp_path / "a", other) is None  # other settings: trains itself
    assert take_stacked_training(tmp_path / "a", cfg) is None  # an offer is taken once
    offer_stacked_training(tmp_path / "a", cfg, records[0])
    assert take_stacked_training(tmp_path / "b", cfg) is None  # another run directory
    assert take_stacked_training(tmp_path / "a", cfg) is records[0]


def test_a_stack_too_large_to_record_is_refused_before_it_trains(compose_train, monkeypatch):
    from kinsynth.train import stacked

    monkeypatch.setattr(stacked, "MAX_RECORD_BYTES", 10_000)
    cfgs = [compose_train("model=vae", f"latent_dim={k}", *FAST) for k in (2, 3)]
    with pytest.raises(stacked.StackRefused, match=r"MiB, more than"):
        fit_stack(cfgs)
