"""scripts/simulate.py's files: out= and figure= follow generate.py's rule, and a library of more
than 256 levels keeps every design apart."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from support import TOY_ANTIMONY, run_cli

from kinsynth.simulate import SimulationError, load_model, oracle
from kinsynth.simulate import library as lib
from kinsynth.simulate.cli import run

CONF = Path(__file__).resolve().parents[2] / "conf" / "simulate.yaml"
OUTSIDE = "a user's thesis\n"


def _cfg(tmp_path: Path, **overrides):
    model, ranges = tmp_path / "toy.ant", tmp_path / "ranges.yaml"
    model.write_text(TOY_ANTIMONY)
    ranges.write_text("flux: J_out\nparameters:\n  - {id: k_in, low: 0.5, high: 2}\n")
    cfg = OmegaConf.load(CONF)
    cfg.pop("hydra")
    settings = dict(model_file=str(model), ranges=str(ranges), n=6, workers=1, progress=False,
                    cache_dir=str(tmp_path / "cache"))
    for key, value in {**settings, **overrides}.items():
        cfg[key] = value
    return cfg


def test_an_existing_out_is_refused_before_simulating(tmp_path: Path):
    out = tmp_path / "simulated.csv"
    out.write_text(OUTSIDE)
    with pytest.raises(SimulationError, match=r"simulated.csv: file exists; .*overwrite=true"):
        run(_cfg(tmp_path, out=str(out)))
    assert out.read_text() == OUTSIDE
    assert "draws 6" in run(_cfg(tmp_path, out=str(out), overwrite=True))
    assert out.read_text().splitlines()[0] == ",k_in,J_out"


def test_out_a_link_is_replaced_never_written_through(tmp_path: Path):
    outside = tmp_path / "thesis.tex"
    outside.write_text(OUTSIDE)
    out = tmp_path / "simulated.csv"
    out.symlink_to(outside)
    with pytest.raises(SimulationError, match="file exists"):
        run(_cfg(tmp_path, out=str(out)))
    run(_cfg(tmp_path, out=str(out), overwrite="true"))
    assert outside.read_text() == OUTSIDE
    assert not out.is_symlink() and out.read_text().startswith(",k_in,J_out")


@pytest.mark.parametrize("key", ["out", "figure"])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, key: str):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    settings = {"out": str(tmp_path / "lib.npz"), "library": True, "levels": [0.5, 1, 2],
                key: str(fifo), "overwrite": True}
    signal.alarm(30)  # a plain open() of a FIFO blocks for ever
    try:
        with pytest.raises(SimulationError, match=rf"{key}=.*pipe.npz: is a FIFO"):
            run(_cfg(tmp_path, **settings))
    finally:
        signal.alarm(0)
    assert not (tmp_path / "cache").exists()  # refused before anything was simulated


def test_an_existing_figure_is_refused_unless_overwrite(tmp_path: Path):
    figure = tmp_path / "cdf.png"
    figure.write_text(OUTSIDE)
    settings = {"out": str(tmp_path / "lib.npz"), "library": True, "levels": [0.5, 1, 2],
                "figure": str(figure)}
    with pytest.raises(SimulationError, match=r"figure=.*cdf.png: file exists"):
        run(_cfg(tmp_path, **settings))
    assert figure.read_text() == OUTSIDE
    run(_cfg(tmp_path, **settings, overwrite=True))
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_the_command_says_one_line_for_an_existing_out(tmp_path: Path):
    (tmp_path / "simulated.csv").write_text(OUTSIDE)
    result = run_cli("scripts/simulate.py", "n=5", "workers=1", "progress=false",
                     cwd=tmp_path, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: out=simulated.csv: file exists; choose another name or pass overwrite=true"]
    assert (tmp_path / "simulated.csv").read_text() == OUTSIDE


def test_level_codes_past_256_do_not_wrap():
    codes = lib.chunk_codes(300, 1, 0)
    assert codes[:, 0].tolist() == list(range(300))
    assert lib.code_dtype(256) == np.uint8 and lib.code_dtype(257) == np.uint16


def test_a_library_of_300_levels_holds_300_different_designs(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(lib, "CHUNK", 128)
    levels = np.round(np.linspace(0.5, 2.0, 300), 6).tolist()
    cfg = _cfg(tmp_path, library=True, levels=levels, out=str(tmp_path / "lib.npz"))
    assert "complete" in run(cfg)
    library = lib.read_library(tmp_path / "lib.npz")
    designs = library.designs()
    assert designs["k_in"].tolist() == sorted(levels)  # level 256 is not level 0 again
    spec = load_model(cfg.model_file, cfg.ranges)
    expected = oracle(designs.iloc[250:270], model=spec, workers=1)["flux"]
    np.testing.assert_allclose(library.flux[250:270], expected, rtol=1e-9)
    assert lib.library_key(spec, levels) != lib.library_key(spec, levels[:256])
