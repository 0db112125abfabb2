"""Design files written by pyarrow are byte for byte what pandas' ``%.6g`` writer gives."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from kinsynth.core import fast_csv
from kinsynth.core.writing import ChunkWriter

pytest.importorskip("pyarrow", reason="the fast CSV path needs pyarrow (the parquet extra)")


def _pandas_text(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.6g").encode()


def _awkward_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Every kind of value %.6g treats specially, and the near-ties and powers of ten between."""
    special = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.015625, 999999.5, 999999.4, 9.9999996,
               0.00009999995, 1e-4, 1e-5, 1.5e-7, 5e-324, 1.7e308, 1234565.0, 0.1234565]
    powers = [np.nextafter(10.0**k, d) for k in range(-7, 8) for d in (-np.inf, 0.0, np.inf)]
    mantissa = rng.integers(10**5, 10**6, n)
    ties = (mantissa + 0.5) * 10.0 ** rng.integers(-10, 2, n).astype(float)
    ties = np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)])
    wide = np.exp(rng.uniform(-25, 25, n)) * rng.choice([-1, 1], n)
    values = np.concatenate([special, powers, ties, wide])
    return rng.permutation(values)


def test_awkward_floats_are_written_exactly_as_pandas_writes_them():
    rng = np.random.default_rng(0)
    values = _awkward_values(rng, 20_000)
    frame = pd.DataFrame({
        "x": values,
        "folded": rng.uniform(1 / 3, 3.0, len(values)),
        "single": rng.normal(size=len(values)).astype(np.float32),
        "count": rng.integers(-10**12, 10**12, len(values)),
        'odd, "name"': np.resize([0.5, 1e6, np.nan], len(values)),
    })
    text = fast_csv.csv_bytes(frame, header=True)
    assert text == _pandas_text(frame)
    assert fast_csv.csv_bytes(frame, header=False) == _pandas_text(frame).split(b"\n", 1)[1]


def test_rounding_marks_for_python_only_what_pyarrow_cannot_write():
    x = np.array([0.605357123, 1.015625, 1e-5, 2e6, np.nan, 0.0, 9.9999996])
    rounded, by_python = fast_csv.round_to_digits(x)
    assert by_python.tolist() == [False, True, True, True, False, False, False]
    assert rounded[0] == 0.605357 and rounded[-1] == 10.0
    assert np.isnan(rounded[4]) and rounded[5] == 0.0


def test_a_chunk_with_text_or_booleans_is_left_to_pandas():
    frame = pd.DataFrame({"a": [1.5, 2.0], "valid": [True, False]})
    assert fast_csv.csv_bytes(frame, header=True) is None
    assert fast_csv.csv_bytes(pd.DataFrame({"name": ["x"]}), header=True) is None


def _chunks(n_chunks: int = 3, rows: int = 500) -> list[pd.DataFrame]:
    rng = np.random.default_rng(1)
    columns = ["vmax_forward_Enz_A", "km_substrate1_PDH", "Product_I"]
    return [pd.DataFrame(rng.uniform(0.3, 3.0, (rows, 3)), columns=columns)
            for _ in range(n_chunks)]


def _write(path, chunks) -> None:
    with ChunkWriter(path) as writer:
        for chunk in chunks:
            writer.write(chunk)


@pytest.mark.parametrize("name", ["designs.csv", "designs.csv.gz"])
def test_chunk_writer_gives_the_same_file_with_and_without_pyarrow(tmp_path, monkeypatch, name):
    chunks = _chunks()
    chunks[1].iloc[3, 1] = np.nan  # an invalid design: an empty field either way
    _write(tmp_path / "fast" / name, chunks)
    monkeypatch.setattr(fast_csv, "available", lambda: False)  # a machine without pyarrow
    _write(tmp_path / "pandas" / name, chunks)
    read = gzip.decompress if name.endswith(".gz") else (lambda data: data)
    fast = read((tmp_path / "fast" / name).read_bytes())
    assert fast == read((tmp_path / "pandas" / name).read_bytes())
    assert fast == _pandas_text(pd.concat(chunks, ignore_index=True))
    assert fast.startswith(b"vmax_forward_Enz_A,km_substrate1_PDH,Product_I\n")


def test_generated_rows_are_pinned_whatever_the_writer_and_chunk_size(
    compose_train, tmp_path, monkeypatch
):
    from kinsynth.generate.designs import generate_designs
    from kinsynth.models import load
    from kinsynth.train.run import run_training

    run = tmp_path / "run"
    cfg = compose_train(
        "model=cvae", "latent_dim=2", "trainer.max_epochs=1", "generate.n=50",
        "callbacks.evaluation.figures=false", "callbacks.evaluation.baselines=false",
        "callbacks.evaluation.n_conditional=10", output_dir=run,
    )
    run_training(cfg, run)
    files = {}
    for label, chunk in (("fast_1000", 1000), ("fast_77", 77)):
        files[label] = tmp_path / f"{label}.csv"
        generate_designs(run, 3000, "0.5:1.5", seed=7, out=files[label], chunk_size=chunk)
    monkeypatch.setattr(fast_csv, "available", lambda: False)
    files["pandas"] = tmp_path / "pandas.csv"
    generate_designs(run, 3000, "0.5:1.5", seed=7, out=files["pandas"], chunk_size=1000)
    texts = {label: path.read_bytes() for label, path in files.items()}
    assert texts["fast_1000"] == texts["pandas"] == texts["fast_77"]
    # the values are the model's rows to six significant digits
    sampled = pd.concat(list(load(run).iter_sample(3000, target="0.5:1.5", seed=7)))
    written = pd.read_csv(files["fast_1000"])
    assert list(written.columns) == list(sampled.columns) and len(written) == 3000
    np.testing.assert_allclose(written.to_numpy(), sampled.to_numpy(), rtol=5e-6)
