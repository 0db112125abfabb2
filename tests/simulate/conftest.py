"""Shared fixtures: the embedded model spec and one simulated sample, computed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinsynth.simulate import load_model, simulate_dataset

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/data/pathway_I_5000.csv"


@pytest.fixture(scope="session")
def reference_path() -> Path:
    """The published reference CSV; tests that need it skip when it is absent."""
    if not REFERENCE.exists():
        pytest.skip(f"reference data {REFERENCE} not present")
    return REFERENCE


@pytest.fixture(scope="session")
def spec():
    return load_model()


@pytest.fixture(scope="session")
def sample():
    """1200 draws of the embedded model (about one second on one core)."""
    return simulate_dataset(1200, seed=7, workers=1)
