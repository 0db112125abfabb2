"""kinsynth's TensorBoard logger writes a row as one event and flushes rarely, with the charts
Lightning's logger gives: the same (tag, step, value) points, the epoch chart left out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pytorch_lightning.loggers import TensorBoardLogger

from kinsynth.train.tensorboard import EpochStepTensorBoardLogger

ROWS = [
    {"train/loss": torch.tensor(3.25), "train/kl": 0.1 + 0.2, "train/beta": 1, "epoch": 0},
    {"train/loss": torch.tensor(2.5), "train/kl": float("nan"), "train/beta": 1, "epoch": 1},
    {"val/loss": 7.0, "epoch": 1},
]


def _events(folder: Path) -> list:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    (path,) = folder.glob("events.out.tfevents.*")
    return [e for e in EventFileLoader(str(path)).Load() if e.HasField("summary")]


def _points(folder: Path) -> dict[str, list[tuple[int, float]]]:
    points: dict[str, list[tuple[int, float]]] = {}
    for event in _events(folder):
        for value in event.summary.value:
            points.setdefault(value.tag, []).append((event.step, value.simple_value))
    return points


def test_a_row_is_one_event_with_the_points_lightning_writes(tmp_path):
    ours = EpochStepTensorBoardLogger(tmp_path, name="ours", version="", prefix="run")
    lightnings = TensorBoardLogger(tmp_path, name="lightning", version="", prefix="run")
    for step, row in enumerate(ROWS):
        for logger in (ours, lightnings):
            logger.log_metrics(row, step=step)
    for logger in (ours, lightnings):
        logger.finalize("success")

    expected = {tag: points for tag, points in _points(tmp_path / "lightning").items()
                if tag != "run-epoch"}
    got = _points(tmp_path / "ours")
    assert got.keys() == expected.keys() == {"run-train/loss", "run-train/kl", "run-train/beta",
                                             "run-val/loss"}
    for tag, points in expected.items():  # NaN compares by its bits, as the file stores it
        assert [(s, torch.tensor(v).view(torch.int32).item()) for s, v in got[tag]] == [
            (s, torch.tensor(v).view(torch.int32).item()) for s, v in points]
    assert [len(e.summary.value) for e in _events(tmp_path / "ours")] == [3, 3, 1]
    with pytest.raises(ValueError, match="train/loss='high': expected a number to log"):
        ours.log_metrics({"train/loss": "high"}, step=3)


def test_the_event_file_is_flushed_at_most_every_interval_and_at_the_end(tmp_path, monkeypatch):
    import kinsynth.train.tensorboard as tensorboard

    clock = [100.0]
    monkeypatch.setattr(tensorboard.time, "monotonic", lambda: clock[0])
    logger = EpochStepTensorBoardLogger(tmp_path, name="tb", version="")
    flushes = []
    writer = logger.experiment
    monkeypatch.setattr(writer, "flush", lambda: flushes.append(clock[0]))
    for epoch in range(30):  # a row and a save an epoch, an epoch every half second
        clock[0] = 100.0 + 0.5 * epoch
        logger.log_metrics({"train/loss": float(epoch), "epoch": epoch}, step=epoch)
        logger.save()
    assert flushes == [100.0, 100.0 + EpochStepTensorBoardLogger.FLUSH_SECONDS]
    assert (tmp_path / "tb" / "hparams.yaml").is_file()  # Lightning's first save writes it
    monkeypatch.undo()
    logger.finalize("success")
    assert [p[0] for p in _points(tmp_path / "tb")["train/loss"]] == list(range(30))
