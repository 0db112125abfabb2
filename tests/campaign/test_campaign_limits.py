"""Campaign sizes and the campaign's run directory: a huge batch, a tiny pool, one initial design,
two campaigns into one directory, and a refused process that must write nothing there."""

from __future__ import annotations

import logging
import tracemalloc

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from support import FAST_CVAE, run_cli

from kinsynth.campaign import run_campaign
from kinsynth.campaign.build import Builder
from kinsynth.campaign.loop import DIVERSITY_ROWS, batch_diversity
from kinsynth.campaign.pool import MIN_POOL, reference_pool
from kinsynth.campaign.space import DesignSpace
from kinsynth.cli.resolvers import hydra_subdir
from kinsynth.core.errors import KinsynthError
from kinsynth.runs.lock import RunDirectoryLock, RunDirectoryRefused

SMALL = ["cycles=1", "designs_per_cycle=3", "pool.n=300"]


def test_batch_diversity_of_a_huge_batch_is_a_capped_seeded_sample(pathway):
    space = DesignSpace.from_spec(pathway)
    batch = space.sample(3 * DIVERSITY_ROWS, np.random.default_rng(0))
    tracemalloc.start()
    value, n = batch_diversity(batch, space)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # all 6000 rows: 18 M pairs, 144 MB of distances; the 2000-row sample: 16 MB
    assert n == DIVERSITY_ROWS and peak < 40e6
    assert batch_diversity(batch, space) == (value, n)  # seeded: the same figure every time
    scale = (np.log(space.highs) - np.log(space.lows)) / np.sqrt(12)
    exact = pdist(np.log(batch.to_numpy(float)) / scale).mean()
    assert value == pytest.approx(exact, rel=0.01)
    small = batch.iloc[:50]  # below the cap: every pair
    assert batch_diversity(small, space) == (pytest.approx(pdist(
        np.log(small.to_numpy(float)) / scale).mean()), 50)


@pytest.mark.parametrize("n", [0, 1, MIN_POOL - 1, "abc"])
def test_a_pool_too_small_for_a_99th_percentile_is_refused(tmp_path, pathway, n):
    space, builder = DesignSpace.from_spec(pathway), Builder(pathway)
    with pytest.raises(KinsynthError, match=r"pool.n=.*(at least 100|positive integer)"):
        reference_pool(builder, space, n, 12345, tmp_path)
    assert not list(tmp_path.iterdir())  # refused before simulating anything


def test_a_pool_with_too_few_steady_states_says_to_raise_pool_n(tmp_path, pathway):
    space, builder = DesignSpace.from_spec(pathway), Builder(pathway)
    with pytest.raises(KinsynthError, match=r"pool.n=100: only \d+ of its designs have a steady "
                                            r"state.*at least 100; raise pool.n"):
        reference_pool(builder, space, MIN_POOL, 12345, tmp_path)


def test_initial_designs_below_the_strategys_need_is_one_line(tmp_path, compose_dbtl):
    cfg = compose_dbtl("strategy=generative", "initial_designs=1", *SMALL)
    with pytest.raises(KinsynthError, match=r"initial_designs=1: strategy=generative fits on at "
                                            r"least 5 built designs.*initial_designs >= 5"):
        run_campaign(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "cycles.csv").exists()


def test_a_cycle_with_too_few_measured_designs_builds_a_random_batch(tmp_path, compose_dbtl,
                                                                     caplog):
    # seed 0's one initial design has no steady state: nothing for the recommender to fit on
    cfg = compose_dbtl("strategy=recommender", "strategy.pool_size=100", "initial_designs=1",
                       *SMALL)
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        table = run_campaign(cfg, tmp_path / "run")
    assert table["n_built"].tolist() == [1, 4]
    assert any("cycle 1: 0 built design(s) have a flux, strategy=recommender needs 1; this "
               "batch is random" in r.getMessage() for r in caplog.records)


def test_a_second_campaign_into_a_busy_directory_is_refused(tmp_path, compose_dbtl):
    run = tmp_path / "run"
    busy = pytest.raises(RunDirectoryRefused, match="another kinsynth process is writing")
    with RunDirectoryLock(run), busy:  # another campaign is writing there
        run_campaign(compose_dbtl("strategy=random", *SMALL), run)
    assert sorted(p.name for p in run.iterdir()) == [".kinsynth.lock"]
    assert not (tmp_path / "pool_cache").exists()  # refused before anything was simulated


def test_a_refused_process_writes_nothing_into_the_running_jobs_log(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    log_file = run / "train.log"
    log_file.write_text("the running job's log\n")
    handler = logging.FileHandler(log_file)  # what Hydra opens before the task starts
    logging.getLogger().addHandler(handler)
    try:
        with RunDirectoryLock(run):
            assert hydra_subdir(None, str(run)) is None  # Hydra records no config there
            with pytest.raises(RunDirectoryRefused):
                RunDirectoryLock(run)
            logging.getLogger("kinsynth").error("job failed, the sweep goes on: refused")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert log_file.read_text() == "the running job's log\n"
    assert hydra_subdir(None, str(run)) == ".hydra"  # free again


@pytest.mark.slow  # a CLI sweep job into a directory another process holds
def test_a_refused_sweep_job_leaves_the_running_jobs_directory_as_it_was(tmp_path):
    job = tmp_path / "sweep" / "job"
    job.mkdir(parents=True)
    (job / "train.log").write_text("running\n")
    with RunDirectoryLock(job):
        result = run_cli("train.py", "-m", *FAST_CVAE, f"hydra.sweep.dir={tmp_path / 'sweep'}",
                         "hydra.sweep.subdir=job", cwd=tmp_path)
    assert "another kinsynth process is writing" in result.stdout + result.stderr
    assert (job / "train.log").read_text() == "running\n"
    assert sorted(p.name for p in job.iterdir()) == [".kinsynth.lock", "train.log"]
