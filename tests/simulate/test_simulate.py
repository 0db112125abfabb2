"""Schema, reference point, determinism, sharding and the oracle of the embedded simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinsynth.simulate import (
    SimulationError,
    merge_shards,
    oracle,
    read_dataset,
    simulate_dataset,
    write_dataset,
)


def test_schema_matches_reference_layout(spec, sample):
    assert list(sample.frame.columns) == spec.columns + ["Product_I"]
    assert len(spec.columns) == 19
    assert sample.frame.index.is_monotonic_increasing
    assert sample.n_draws == 1200 and len(sample.frame) + sample.n_failed == 1200
    assert sum(sample.failures.values()) == sample.n_failed
    folds = sample.frame[spec.columns]
    assert (folds.min() >= spec.lows).all() and (folds.max() <= spec.highs).all()


@pytest.mark.reference
def test_columns_in_reference_order(spec, reference_path):
    header = pd.read_csv(reference_path, nrows=0, index_col=0).columns
    assert list(header) == spec.columns + ["Product_I"]


def test_reference_configuration_gives_one(spec):
    ones = pd.DataFrame(np.ones((1, 19)), columns=spec.columns)
    result = oracle(ones, workers=1)
    assert result["valid"].item() and result["flux"].item() == pytest.approx(1.0, abs=1e-9)


def test_oracle_flags_pentose_overflow(spec):
    # RPI at a third of its reference capacity cannot pass on the oxidative branch's inflow.
    table = pd.DataFrame(np.ones((2, 19)), columns=spec.columns, index=["ok", "overflow"])
    table.loc["overflow", "vmax_forward_RPI"] = 0.3
    table["extra"] = "ignored"
    result = oracle(table, workers=1)
    assert list(result.index) == ["ok", "overflow"]
    assert result["valid"].tolist() == [True, False]
    assert np.isnan(result.loc["overflow", "flux"])


def test_oracle_names_missing_column(spec):
    table = pd.DataFrame(np.ones((1, 18)), columns=spec.columns[1:])
    with pytest.raises(ValueError, match="vmax_forward_Enz_A"):
        oracle(table)
    with pytest.raises(SimulationError):
        oracle(table)


def test_same_result_for_any_worker_count():
    one = simulate_dataset(600, seed=3, workers=1)
    two = simulate_dataset(600, seed=3, workers=2)
    pd.testing.assert_frame_equal(one.frame, two.frame)
    assert one.failures == two.failures


def test_shards_equal_unsharded(tmp_path):
    whole = simulate_dataset(300, seed=5, workers=1).frame
    paths = []
    for k in range(3):
        part = simulate_dataset(300, seed=5, workers=1, shard=k, n_shards=3).frame
        paths.append(write_dataset(part, tmp_path / f"part{k}.csv"))
    merged = merge_shards(reversed(paths))
    # written with ~6 significant digits (FLOAT_FORMAT)
    pd.testing.assert_frame_equal(merged, whole, rtol=1e-5, check_index_type=False)


def test_csv_round_trips(tmp_path, sample):
    path = write_dataset(sample.frame, tmp_path / "data.csv")
    assert path.read_text().startswith(",vmax_forward_Enz_A,")
    back = read_dataset(path)
    pd.testing.assert_frame_equal(back, sample.frame, rtol=1e-5, check_index_type=False)
    # about six significant digits, not the 17 of an exact round trip
    cells = path.read_text().splitlines()[1].split(",")[1:]
    assert max(len(c.replace(".", "").replace("-", "").lstrip("0")) for c in cells) <= 6


def test_bad_shard_arguments():
    with pytest.raises(SimulationError, match="shard"):
        simulate_dataset(10, shard=2, n_shards=2)
