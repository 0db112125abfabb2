"""A full disk in the middle of a write leaves nothing under the file's final name, and the
command says one line naming the file, for each command's own files."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
import yaml
from support import TOY_ANTIMONY, make_toy_table, run_cli


def _half_then_full(real: Callable, path_argument: int) -> Callable:
    """``real``, then the file it wrote cut to half its size and ENOSPC raised: what a writer
    leaves when the disk fills halfway through."""
    def failing(*args, **kwargs):
        real(*args, **kwargs)
        path = Path(args[path_argument])
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    return failing


def _training_sweep(root: Path) -> Path:
    """One finished job as train.py leaves it (the files the report reads)."""
    data = root / "toy.csv"
    make_toy_table().to_csv(data)
    job = root / "sweep" / "0"
    (job / ".hydra").mkdir(parents=True)
    config = {"seed": 0, "latent_dim": 3,
              "data": {"path": str(data), "target": "Product_I", "features": None,
                       "split": [0.8, 0.1, 0.1], "seed": 0},
              "model": {"_target_": "kinsynth.models.PPCAModel", "latent_dim": 3}}
    hydra = {"hydra": {"runtime": {"cwd": str(root), "output_dir": str(job),
                                   "choices": {"model": "ppca"}}}}
    (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    (job / "metrics.json").write_text(json.dumps({"recon_mse": 0.1, "kl": 1.0, "c2st_auc": 0.6}))
    synthetic = make_toy_table(n=120, seed=1)
    synthetic.index = np.arange(len(synthetic))
    synthetic.to_csv(job / "synthetic.csv")
    return root / "sweep"


def _campaign_sweep(root: Path) -> Path:
    """Two finished campaigns as dbtl.py leaves them (the files dbtl_report.py reads)."""
    for seed in (0, 1):
        run = root / "sweep" / str(seed)
        run.mkdir(parents=True)
        (run / "campaign.json").write_text(json.dumps({
            "strategy": "random", "seed": seed, "cumulative_top": 3 + seed,
            "best_true_flux": 1.5, "strains_to_q99": None, "top100_found": 1,
            "landscape_max": 2.0}))
        pd.DataFrame({"cycle": [0, 1], "n_built": [10, 20], "cumulative_top": [1, 3 + seed],
                      "batch_diversity": [0.5, 0.4], "batch_valid_fraction": [1.0, 0.9]}
                     ).to_csv(run / "cycles.csv", index=False)
    return root / "sweep"


def _simulate(root: Path) -> tuple[tuple[str, ...], Path]:
    (root / "toy.ant").write_text(TOY_ANTIMONY)
    (root / "ranges.yaml").write_text("flux: J_out\nparameters:\n"
                                      "  - {id: k_in, low: 0.5, high: 2}\n")
    return (("scripts/simulate.py", "n=20", "workers=1", "progress=false",
             f"model_file={root / 'toy.ant'}", f"ranges={root / 'ranges.yaml'}",
             f"out={root / 'data' / 'sim.csv'}"), root / "data")


def _report(root: Path) -> tuple[tuple[str, ...], Path]:
    return ("scripts/report.py", str(_training_sweep(root)), "--out", str(root / "out")), \
        root / "out"


def _dbtl_report(root: Path) -> tuple[tuple[str, ...], Path]:
    return ("scripts/dbtl_report.py", str(_campaign_sweep(root)), "--out", str(root / "out")), \
        root / "out"


def _campaign(root: Path) -> tuple[tuple[str, ...], Path]:
    return (("dbtl.py", "strategy=random", "initial_designs=6", "cycles=1",
             "designs_per_cycle=4", "pool.n=200", f"pool.cache_dir={root / 'pool'}",
             f"hydra.run.dir={root / 'run'}"), root / "run")


def _propose(root: Path) -> tuple[tuple[str, ...], Path]:
    from kinsynth.campaign.space import DesignSpace
    from kinsynth.simulate.model import load_model

    rng = np.random.default_rng(0)
    built = DesignSpace.from_spec(load_model()).sample(12, rng)
    built["Product_I"] = rng.uniform(0.5, 1.5, len(built))
    (root / "built.csv").write_text(built.to_csv(index=False))
    return (("dbtl.py", "step=propose", "strategy=random", f"data.path={root / 'built.csv'}",
             "designs_per_cycle=4", f"out={root / 'plate' / 'plate.csv'}"), root / "plate")


#: (command, the writer made to fail, its path argument, the final names it must not leave)
CASES = [
    (_campaign, (pd.DataFrame, "to_csv", 1), ["cycles.csv", "built.csv", "campaign.json"]),
    (_campaign, (matplotlib.figure.Figure, "savefig", 1), ["flux_per_cycle.png",
                                                            "campaign.json"]),
    (_propose, (pd.DataFrame, "to_csv", 1), ["plate.csv"]),
    (_simulate, (pd.DataFrame, "to_csv", 1), ["sim.csv"]),
    (_report, (pd.DataFrame, "to_csv", 1), ["jobs.csv", "report.csv", "report.md"]),
    (_report, (Path, "write_text", 0), ["report.md"]),
    (_report, (matplotlib.figure.Figure, "savefig", 1), ["report_figures", "report.md"]),
    (_dbtl_report, (Path, "write_text", 0), ["dbtl_report.md", "dbtl_cumulative_top.png"]),
    (_dbtl_report, (matplotlib.figure.Figure, "savefig", 1), ["dbtl_cumulative_top.png"]),
]


@pytest.mark.parametrize(("command", "writer", "final_names"), CASES,
                         ids=[f"{c.__name__[1:]}-{w[1]}" for c, w, _ in CASES])
def test_a_full_disk_leaves_no_file_under_its_final_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command, writer, final_names):
    args, out = command(tmp_path)
    owner, name, path_argument = writer
    monkeypatch.setattr(owner, name, _half_then_full(getattr(owner, name), path_argument))
    result = run_cli(*args, cwd=tmp_path, check=False)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on device" in lines[0], lines
    assert str(out) in lines[0]  # it names the file
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.exists() else []
    assert not [p for p in left if p.endswith(".tmp")], left
    assert not [p for p in left if p.split("/")[0] in final_names and not Path(out, p).is_dir()
                or p in final_names and not Path(out, p).is_dir()], left
