"""What ``out=`` and a run directory's config may point at: regular files only, gzip when asked."""

from __future__ import annotations

import gzip
import os
import socket
import stat

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import ChunkWriter
from kinsynth.data.io import read_table
from kinsynth.generate.check import run_oracle


@pytest.mark.parametrize("overwrite", [False, True])
def test_out_a_device_is_refused_and_left_as_it_is(overwrite):
    with pytest.raises(KinsynthError, match="character device, not a regular file") as refused:
        ChunkWriter("/dev/null", overwrite=overwrite)
    assert "\n" not in str(refused.value)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_out_a_fifo_a_socket_or_a_directory_is_refused(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.csv"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        for target, kind in ((fifo, "FIFO"), (sock_path, "socket"), (tmp_path, "directory")):
            with pytest.raises(KinsynthError, match=kind):
                ChunkWriter(target, overwrite=True)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISSOCK(os.stat(sock_path).st_mode)
    finally:
        server.close()


def test_overwrite_still_replaces_a_regular_file(tmp_path):
    out = tmp_path / "designs.csv"
    out.write_text("old\n")
    with ChunkWriter(out, overwrite=True) as writer:
        writer.write(pd.DataFrame({"a": [1.5]}))
    assert out.read_text() == "a\n1.5\n"


def test_out_csv_gz_is_gzip_and_reads_back_as_data_path(tmp_path):
    out = tmp_path / "designs.csv.gz"
    rng = np.random.default_rng(0)
    chunks = [pd.DataFrame(rng.uniform(0.5, 2, size=(50, 3)), columns=["a", "b", "Product_I"])
              for _ in range(3)]
    with ChunkWriter(out) as writer:
        for chunk in chunks:  # one gzip member per chunk: still one gzip file
            writer.write(chunk)
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    with gzip.open(out, "rt") as file:
        assert file.readline().strip() == "a,b,Product_I"
    table = read_table(out)  # data.path=designs.csv.gz
    expected = pd.concat(chunks, ignore_index=True)
    assert len(table.frame) == 150
    np.testing.assert_allclose(table.frame[["a", "b", "Product_I"]].to_numpy(),
                               expected.to_numpy(), rtol=1e-5)


def _copied_run(tmp_path, **data):
    run = tmp_path / "copied_run"
    (run / ".hydra").mkdir(parents=True)
    config = {"seed": 0, "data": {"_target_": "kinsynth.data.KineticDataModule", **data}}
    OmegaConf.save(OmegaConf.create(config), run / ".hydra" / "config.yaml")
    return run


def test_a_run_config_pointing_at_a_device_is_refused_before_reading(tmp_path):
    run = _copied_run(tmp_path, path="/dev/zero")
    with pytest.raises(KinsynthError, match="character device, not a regular file") as refused:
        run_oracle(run)
    assert "data.path=/dev/zero" in str(refused.value)


def test_a_run_config_pointing_at_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    with pytest.raises(KinsynthError, match="FIFO"):
        run_oracle(_copied_run(tmp_path, path=str(fifo)))


def test_an_unknown_data_key_in_a_run_config_is_one_line_naming_it(tmp_path):
    with pytest.raises(KinsynthError, match="unknown key.* under data: bogus") as refused:
        run_oracle(_copied_run(tmp_path, path=None, bogus=1))
    assert "\n" not in str(refused.value)


def test_out_an_archive_suffix_is_refused_in_one_line(tmp_path):
    with pytest.raises(KinsynthError, match="zip output is not supported"):
        ChunkWriter(tmp_path / "designs.csv.zip")
