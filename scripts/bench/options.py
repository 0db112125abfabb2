"""The sizes of one benchmark run: :data:`FULL` is the documented one, :data:`QUICK` CI-sized."""

from __future__ import annotations

from dataclasses import dataclass

from bench.configs import default_data_path


@dataclass(frozen=True)
class Options:
    """Sizes of one benchmark run, shared by the training, sampling and simulator measurements."""

    epochs: int = 400  # the full thesis run (run_training, evaluation included)
    timing_epochs: int = 100  # each interleaved ours/bare measurement
    repeats: int = 3  # interleaved rounds; the best of them is reported
    cvae_epochs: int | None = None  # default model's run; None = its config (300)
    sample_rows: int = 1_000_000
    simulate_n: int = 5000
    data: str | None = None  # None: the reference CSV when present, else the embedded data set

    def data_overrides(self) -> list[str]:
        """The ``data.path`` override of every run; none means the embedded data set."""
        path = self.data if self.data is not None else default_data_path()
        return [] if path is None else [f"data.path={path}"]


FULL = Options()
QUICK = Options(
    epochs=10, timing_epochs=10, repeats=2, cvae_epochs=3, sample_rows=100_000, simulate_n=100
)
