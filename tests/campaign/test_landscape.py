"""A lab's measured table replayed as a landscape: a build draws one measured row of the design
with the campaign's seed (or their mean), failures are failures, zeros are zeros, "top" comes
from per-design means with random's exact expectation beside it, and ``resume=`` continues it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare
from support import compose_dbtl

from kinsynth.campaign import loop, run_campaign
from kinsynth.campaign.landscape import MeasuredLandscape, make_landscape
from kinsynth.campaign.space import design_keys
from kinsynth.core.errors import KinsynthError

#: 5 homologs x 5 promoters = 25 designs; design i (in this order) has mean response i
DESIGNS = list(itertools.product([f"H{i}" for i in range(5)], [f"p{i}" for i in range(5)]))
REPLAY = ["metrics.judge=false", "noise.kind=none"]


def measured_table() -> pd.DataFrame:
    """Two replicates per design, i - 1 and i + 1 (mean i), with these exceptions:
    design 0 failed twice (valid=no, then an empty cell: never top), design 1 measured zero
    twice (a real zero), design 24 (the best) has rows 23, 25 and an empty cell."""
    rows = []
    for i, (homolog, promoter) in enumerate(DESIGNS):
        values: list[tuple[object, str]] = [(i - 1, "yes"), (i + 1, "yes")]
        if i == 0:
            values = [(3.0, "no"), ("", "yes")]
        elif i == 1:
            values = [(0.0, "yes"), (0.0, "yes")]
        elif i == 24:
            values = [(23, "yes"), (25, "yes"), ("", "yes")]
        rows += [{"homolog": homolog, "promoter": promoter, "titre": v, "valid": ok}
                 for v, ok in values]
    return pd.DataFrame(rows)


@pytest.fixture
def table_path(tmp_path: Path) -> Path:
    path = tmp_path / "measured.csv"
    measured_table().to_csv(path, index=False)
    return path


def replay(tmp_path: Path, table_path: Path, *overrides: str) -> MeasuredLandscape:
    cfg = compose_dbtl(tmp_path, f"space.landscape={table_path}", "space.target=titre",
                       *REPLAY, *overrides)
    landscape = make_landscape(cfg)
    assert isinstance(landscape, MeasuredLandscape)
    return landscape


def one_design(index: int, n: int) -> pd.DataFrame:
    homolog, promoter = DESIGNS[index]
    return pd.DataFrame({"homolog": [homolog] * n, "promoter": [promoter] * n})


def test_the_space_is_the_tables_designs_and_the_truth_their_means(tmp_path, table_path):
    landscape = replay(tmp_path, table_path)
    assert landscape.space.columns == ("homolog", "promoter")
    assert landscape.space.library_size == 25
    designs, means = landscape.library()
    by_key = dict(zip(design_keys(designs, landscape.space.columns), means, strict=True))
    assert np.isnan(by_key[("H0", "p0")])  # valid=no and an empty cell: failed, no mean
    assert by_key[("H0", "p1")] == 0.0  # zeros are measured zeros
    assert by_key[("H4", "p4")] == 24.0  # the empty cell is skipped, not counted as zero
    assert [by_key[DESIGNS[i]] for i in range(2, 24)] == list(range(2, 24))


def test_a_build_draws_one_of_the_designs_rows_with_the_seed(tmp_path, table_path):
    landscape = replay(tmp_path, table_path, "seed=3")
    measured, true, valid = landscape.build(one_design(24, 6000))
    assert (true == 24.0).all()
    # rows 23, 25 and an empty cell, each drawn a third of the time: the empty one fails
    counts = pd.Series(np.where(valid, measured, -1.0)).value_counts()
    assert sorted(counts.index) == [-1.0, 23.0, 25.0]
    assert chisquare(counts.to_numpy()).pvalue > 1e-3
    assert np.isnan(measured[~valid]).all()
    again = replay(tmp_path, table_path, "seed=3").build(one_design(24, 6000))[0]
    other = replay(tmp_path, table_path, "seed=4").build(one_design(24, 6000))[0]
    np.testing.assert_array_equal(measured, again)  # the same seed, the same draws
    assert not np.array_equal(np.nan_to_num(measured), np.nan_to_num(other))


def test_failures_fail_and_a_zero_is_a_measured_zero(tmp_path, table_path):
    landscape = replay(tmp_path, table_path)
    measured, true, valid = landscape.build(one_design(0, 50))
    assert not valid.any() and np.isnan(measured).all() and np.isnan(true).all()
    measured, true, valid = landscape.build(one_design(1, 50))
    assert valid.all() and (measured == 0.0).all() and (true == 0.0).all()


def test_replicates_mean_builds_the_mean(tmp_path, table_path):
    landscape = replay(tmp_path, table_path, "space.replicates=mean")
    designs = pd.concat([one_design(i, 3) for i in (0, 1, 7, 24)], ignore_index=True)
    measured, true, valid = landscape.build(designs)
    np.testing.assert_array_equal(measured[3:], [0.0] * 3 + [7.0] * 3 + [24.0] * 3)
    np.testing.assert_array_equal(measured[3:], true[3:])
    assert valid.tolist() == [False] * 3 + [True] * 9


def test_top10_and_randoms_expectation_are_exact(tmp_path, table_path):
    landscape = replay(tmp_path, table_path)
    assert landscape.true_top() == set(DESIGNS[15:25])  # means 15 ... 24
    assert landscape.maximum() == 24.0
    # 10 of the 25 designs are top: n distinct random designs hold 10 n / 25 of them
    assert landscape.random_expected(5) == pytest.approx(2.0)
    assert landscape.random_expected(40) == pytest.approx(10.0)
    run = tmp_path / "run"
    table = run_campaign(compose_dbtl(tmp_path, f"space.landscape={table_path}",
                                      "space.target=titre", *REPLAY, "strategy=random",
                                      "initial_designs=6", "cycles=2", "designs_per_cycle=4"),
                         run)
    built = pd.read_csv(run / "built.csv")
    assert len(built) == 14 and len(set(design_keys(built, ["homolog", "promoter"]))) == 14
    top = set(DESIGNS[15:25])
    by_hand = [len(top & set(design_keys(built.iloc[:n], ["homolog", "promoter"])))
               for n in (6, 10, 14)]
    assert table["top10_found"].tolist() == by_hand
    assert table["random_top10_found"].tolist() == pytest.approx([2.4, 4.0, 5.6])


def test_top_k_counts_the_table_designs_best_means(tmp_path, table_path):
    landscape = replay(tmp_path, table_path, "space.top=3")
    assert landscape.true_top() == {DESIGNS[22], DESIGNS[23], DESIGNS[24]}
    assert landscape.random_expected(5) == pytest.approx(3 * 5 / 25)


def test_a_top_of_one_is_refused_in_one_line(tmp_path, table_path):
    # top1_found is the builds above the pool's 99th percentile: a top-1 count would overwrite it
    with pytest.raises(KinsynthError, match=r"^space.top=1: expected an integer >= 2$"):
        replay(tmp_path, table_path, "space.top=1")


SMALL = ["strategy=recommender", "strategy.pool_size=200", "initial_designs=6",
         "designs_per_cycle=4", "seed=2", "cycles=3"]


def test_a_stopped_replay_resumes_to_the_same_builds(tmp_path, table_path, monkeypatch):
    space = [f"space.landscape={table_path}", "space.target=titre", *REPLAY, *SMALL]
    whole = run_campaign(compose_dbtl(tmp_path, *space), tmp_path / "whole")
    run = tmp_path / "stopped"
    propose = loop._propose

    def failing(cycle: int, *args: object, **kwargs: object) -> pd.DataFrame:
        if cycle == 2:
            raise KeyboardInterrupt
        return propose(cycle, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(loop, "_propose", failing)
        with pytest.raises(KeyboardInterrupt):
            run_campaign(compose_dbtl(tmp_path, *space), run)
    assert len(pd.read_csv(run / "built.csv")) == 10
    resumed = run_campaign(compose_dbtl(tmp_path, *space, f"resume={run}"), run)
    assert (run / "built.csv").read_bytes() == (tmp_path / "whole" / "built.csv").read_bytes()
    timing = ["propose_seconds", "build_seconds"]
    pd.testing.assert_frame_equal(resumed.drop(columns=timing), whole.drop(columns=timing))
