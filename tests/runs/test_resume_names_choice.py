"""A resume refused because the command forgot the original run's model= names the choice."""

from __future__ import annotations

from pathlib import Path

from support import FAST_CVAE, run_cli


def test_a_resume_without_the_model_choice_says_which_to_add(toy_csv: Path, tmp_path: Path):
    run = tmp_path / "run"
    assert "model=cvae" in FAST_CVAE
    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST_CVAE)
    others = [o for o in FAST_CVAE if o != "model=cvae"]
    result = run_cli("train.py", f"data.path={toy_csv}", f"resume={run}", *others,
                     "trainer.max_epochs=4", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "in the original run" in last and "add model=cvae (the original run's choice)" in last
    # with the choice repeated, the same resume runs
    run_cli("train.py", f"data.path={toy_csv}", f"resume={run}", *FAST_CVAE,
            "trainer.max_epochs=4")
