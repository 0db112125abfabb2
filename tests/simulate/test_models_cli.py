"""scripts/simulate.py with named models, SKiMpy files, library enumeration and worker errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from support import TOY_ANTIMONY, run_cli

from kinsynth.simulate import SimulationError, load_model, oracle, simulate_dataset
from kinsynth.simulate import library as lib
from kinsynth.simulate.cli import run
from kinsynth.simulate.model import named_models

CONF = Path(__file__).resolve().parents[2] / "conf" / "simulate.yaml"
SKIMPY = Path(__file__).parent / "models" / "skimpy_all_mechanisms.yml"
#: uptake 3 exceeds the drain's capacity 2 vmax_out = 2.4: the reference has no steady state
NO_STEADY_STATE = TOY_ANTIMONY.replace("k_in = 1; vmax_out = 2;", "k_in = 3; vmax_out = 1.2;")


def _cfg(**overrides):
    cfg = OmegaConf.load(CONF)
    cfg.pop("hydra")
    for key, value in overrides.items():
        cfg[key] = value
    return cfg


def _toy(tmp_path: Path, text: str = TOY_ANTIMONY) -> tuple[Path, Path]:
    model, ranges = tmp_path / "toy.ant", tmp_path / "ranges.yaml"
    model.write_text(text)
    ranges.write_text("flux: J_out\nparameters:\n  - {id: k_in, low: 0.5, high: 2}\n"
                      "  - {id: vmax_out, low: 0.5, high: 2}\n")
    return model, ranges


def test_shipped_models_are_found_by_name():
    assert {"pathway_I", "vanlent_pathway_A"} <= set(named_models())
    assert load_model("pathway_I").columns == load_model().columns
    with pytest.raises(SimulationError, match="did you mean vanlent_pathway_A"):
        load_model("vanlent_pathway_a")


def test_a_skimpy_yaml_through_the_cli(tmp_path):
    ranges = tmp_path / "ranges.yaml"
    ranges.write_text("parameters:\n  - {id: vmax_forward_RMM, low: 0.5, high: 2}\n")
    out = tmp_path / "sk.csv"
    summary = run(_cfg(model_file=str(SKIMPY), ranges=str(ranges), output="D_c",
                       objective="time_course", time=0.5, n=20, out=str(out), workers=1))
    assert "draws 20" in summary and out.is_file()


def test_worker_errors_are_one_line(tmp_path):
    model, ranges = _toy(tmp_path, NO_STEADY_STATE)
    spec_args = dict(model=model, ranges=ranges, workers=2)
    with pytest.raises(SimulationError, match="has no stable steady state") as info:
        simulate_dataset(300, seed=0, **spec_args)
    assert "\n" not in str(info.value) and "BrokenProcessPool" not in str(info.value)


def test_worker_errors_are_one_line_on_the_command_line(tmp_path):
    model, ranges = _toy(tmp_path, NO_STEADY_STATE)
    result = run_cli("scripts/simulate.py", "n=300", "workers=2", f"model_file={model}",
                     f"ranges={ranges}", f"out={tmp_path / 'x.csv'}", cwd=tmp_path, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the reference configuration"), lines


def test_library_enumeration_is_sharded_resumable_and_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(lib, "CHUNK", 4)
    model, ranges = _toy(tmp_path)
    common = dict(library=True, model_file=str(model), ranges=str(ranges), levels=[0.5, 1, 2],
                  n_shards=2, cache_dir=str(tmp_path / "cache"), out=str(tmp_path / "lib.npz"))
    first = run(_cfg(shard=0, **common))
    assert "run the other shards" in first and not (tmp_path / "lib.npz").exists()
    done = run(_cfg(shard=1, **common))
    assert "complete" in done
    library = lib.read_library(tmp_path / "lib.npz")
    designs = library.designs()
    assert len(designs) == 9 and designs.iloc[1].tolist() == [0.5, 1.0]  # product order
    expected = oracle(designs, model=load_model(model, ranges), workers=1)["flux"]
    np.testing.assert_allclose(library.flux, expected, equal_nan=True)
    # a rerun finds every chunk cached and refuses to overwrite the finished file
    with pytest.raises(SimulationError, match="exists"):
        run(_cfg(shard=0, **common))


def test_library_figure_of_a_partial_enumeration(tmp_path, monkeypatch):
    monkeypatch.setattr(lib, "CHUNK", 4)
    model, ranges = _toy(tmp_path)
    spec = load_model(model, ranges)
    lib.enumerate_library(spec, tmp_path / "cache", [0.5, 1, 2], shard=0, n_shards=2)
    partial = lib.partial(spec, tmp_path / "cache", [0.5, 1, 2])
    assert np.isnan(partial.flux).sum() >= 4  # shard 1's chunks are not simulated yet
    path = lib.cdf_figure(partial, tmp_path / "cdf.png", "J_out", reference_max=2.0)
    assert path.stat().st_size > 5000


def test_library_lookup_equals_the_enumeration(tmp_path, monkeypatch):
    monkeypatch.setattr(lib, "CHUNK", 4)
    model, ranges = _toy(tmp_path)
    spec = load_model(model, ranges)
    for shard in (0, 1):
        lib.enumerate_library(spec, tmp_path / "cache", [0.5, 1, 2], shard, 2)
    library = lib.read_library(lib.assemble(spec, tmp_path / "cache", tmp_path / "l.npz",
                                            [0.5, 1, 2]))
    shuffled = library.designs().sample(frac=1.0, random_state=0)
    np.testing.assert_array_equal(library.lookup(shuffled),
                                  library.flux[shuffled.index.to_numpy()])
    off = shuffled.iloc[:1].assign(k_in=0.7)
    with pytest.raises(SimulationError, match="off the library's levels"):
        library.lookup(off)
