"""Where results go, said on the console: a campaign prints its directory; a simulation writes
its out= file and nothing else in the working folder."""

from __future__ import annotations

from pathlib import Path

from support import run_cli


def test_dbtl_prints_its_campaign_directory(tmp_path: Path):
    run = tmp_path / "campaign"
    result = run_cli("dbtl.py", "strategy=random", "initial_designs=5", "cycles=0",
                     "pool.n=200", f"pool.cache_dir={tmp_path / 'pool'}",
                     f"hydra.run.dir={run}", cwd=tmp_path)
    assert f"campaign directory {run}" in result.stdout
    assert (run / "campaign.json").is_file()


def test_simulate_writes_only_its_out_file_in_the_working_folder(tmp_path: Path):
    result = run_cli("scripts/simulate.py", "n=5", "workers=1", "out=sim.csv", cwd=tmp_path)
    assert result.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.csv"]  # no outputs/<date>/<time>/
