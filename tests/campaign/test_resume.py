"""A campaign keeps every finished cycle and continues with ``resume=`` exactly where it stopped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import compose_dbtl, run_cli

from kinsynth.campaign import loop, run_campaign
from kinsynth.core.errors import KinsynthError

SMALL = ["strategy=recommender", "strategy.pool_size=200", "initial_designs=10",
         "designs_per_cycle=6", "pool.n=400", "seed=4"]


def _stop_at(monkeypatch: pytest.MonkeyPatch, stop: int) -> None:
    """Make cycle ``stop`` fail as a killed process would: nothing after it runs."""
    propose = loop._propose

    def failing(cycle: int, *args: object, **kwargs: object) -> pd.DataFrame:
        if cycle == stop:
            raise KeyboardInterrupt
        return propose(cycle, *args, **kwargs)

    monkeypatch.setattr(loop, "_propose", failing)


def test_a_stopped_campaign_keeps_its_cycles_and_resumes_to_the_same_builds(tmp_path,
                                                                           monkeypatch):
    whole = run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=4"), tmp_path / "whole")
    run = tmp_path / "stopped"
    with monkeypatch.context() as patch:
        _stop_at(patch, 3)
        with pytest.raises(KeyboardInterrupt):
            run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=4"), run)
    assert not (run / "campaign.json").exists()  # not finished ...
    kept = pd.read_csv(run / "cycles.csv")  # ... but cycles 0-2 are on disk, whole
    assert list(kept["cycle"]) == [0, 1, 2] and len(pd.read_csv(run / "built.csv")) == 22
    with pytest.raises(KinsynthError, match=r"holds a stopped campaign \(resume=.* continues it"):
        run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=4"), run)
    with pytest.raises(KinsynthError, match=r"^resume=.*: seed was 4 in the stopped campaign, "
                                            r"now 5; a resumed campaign keeps its settings"):
        run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=4", "seed=5", f"resume={run}"), run)
    resumed = run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=4", f"resume={run}"), run)
    pd.testing.assert_frame_equal(pd.read_csv(run / "built.csv"),
                                  pd.read_csv(tmp_path / "whole" / "built.csv"))
    timing = ["propose_seconds", "build_seconds"]
    pd.testing.assert_frame_equal(resumed.drop(columns=timing), whole.drop(columns=timing))
    assert (run / "campaign.json").is_file()


def test_resume_extends_a_finished_campaign_and_refuses_when_nothing_is_left(tmp_path):
    run = tmp_path / "run"
    run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=1"), run)
    with pytest.raises(KinsynthError, match=r"already ran 1 cycles; raise cycles= to continue"):
        run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=0", f"resume={run}"), run)
    run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=2", f"resume={run}"), run)
    whole = tmp_path / "whole"
    run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=2"), whole)
    pd.testing.assert_frame_equal(pd.read_csv(run / "built.csv"),
                                  pd.read_csv(whole / "built.csv"))


def test_resume_of_a_folder_without_a_campaign_is_one_line(tmp_path):
    with pytest.raises(KinsynthError, match=r"holds no campaign to continue"):
        run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=1", f"resume={tmp_path}"),
                     tmp_path)


def test_a_replaced_campaign_keeps_none_of_the_old_ones_events(tmp_path):
    run = tmp_path / "run"
    run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=1"), run)
    run_campaign(compose_dbtl(tmp_path, *SMALL, "cycles=1", "seed=8", "overwrite=true"), run)
    events = sorted((run / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1  # one campaign shows as one run


def test_resume_from_the_command_line(tmp_path: Path):
    run = tmp_path / "run"
    common = [*SMALL, f"pool.cache_dir={tmp_path / 'pool'}"]
    run_cli("dbtl.py", *common, "cycles=1", f"hydra.run.dir={run}", cwd=tmp_path)
    run_cli("dbtl.py", *common, "cycles=2", f"resume={run}", cwd=tmp_path)
    assert list(pd.read_csv(run / "cycles.csv")["cycle"]) == [0, 1, 2]
    assert (run / ".hydra" / "config.yaml").is_file()  # the original record, untouched
    assert any(p.name.startswith("resume-") for p in (run / ".hydra").iterdir())
