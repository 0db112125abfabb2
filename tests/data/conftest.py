"""Fixtures that write small kinetic-style CSVs to tmp_path (never the reference data)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinsynth.core.errors import KinsynthError

REFERENCE_CSV = Path(__file__).resolve().parents[2].parent / "shared/data/pathway_I_5000.csv"


def _kinetic_frame(n_rows: int = 50, n_features: int = 3, seed: int = 0) -> pd.DataFrame:
    """Random fold changes (some negative, to prove nothing assumes positivity) plus a target."""
    rng = np.random.default_rng(seed)
    data = {f"k{j}": rng.normal(1.0, 0.8, n_rows) for j in range(n_features)}
    data["Product_I"] = rng.normal(0.5, 0.2, n_rows)
    frame = pd.DataFrame(data)
    frame.index = rng.permutation(10 * n_rows)[:n_rows]  # like the reference's draw ids
    return frame


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """Write raw text to a CSV file in tmp_path and return its path."""

    def write(text: str, name: str = "table.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_frame(tmp_path: Path) -> Callable[..., Path]:
    """Write a DataFrame as pandas does (unnamed index column first) and return its path."""

    def write(frame: pd.DataFrame, name: str = "table.csv", index: bool = True) -> Path:
        path = tmp_path / name
        frame.to_csv(path, index=index)
        return path

    return write


@pytest.fixture
def kinetic_csv(write_frame: Callable[..., Path]) -> Path:
    """A 50-row, 3-feature table with an unnamed index column and a Product_I target."""
    return write_frame(_kinetic_frame())


@pytest.fixture
def kinetic_frame() -> Callable[..., pd.DataFrame]:
    """Factory: ``kinetic_frame(n_rows=50, n_features=3, seed=0)``."""
    return _kinetic_frame


@pytest.fixture
def reference_csv() -> Path:
    """The thesis reference file; skips the test when it is absent."""
    if not REFERENCE_CSV.exists():
        pytest.skip(f"reference data absent: {REFERENCE_CSV}")
    return REFERENCE_CSV


@pytest.fixture
def assert_one_line() -> Callable[..., str]:
    """Checker: ``assert_one_line(excinfo, *parts)``."""
    return _assert_one_line


def _assert_one_line(error: pytest.ExceptionInfo[KinsynthError], *parts: str) -> str:
    """The message is one line and mentions every part (file name, column, expectation)."""
    message = str(error.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message
