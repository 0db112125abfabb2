"""van Lent et al.'s protocol around any strategy: their noise (absolute sd, clipped at 0), their
unequal batch schedules, and their figure of merit (a judge model's predicted top 100)."""

from __future__ import annotations

import numpy as np
import pytest

from kinsynth.campaign.build import Builder
from kinsynth.core.errors import KinsynthError


def fixed_flux_builder(pathway, flux, **noise) -> Builder:
    builder = Builder(pathway, **noise)
    builder.true_flux = lambda designs: (np.asarray(flux, float), np.isfinite(flux))
    return builder


def test_homoscedastic_noise_has_an_absolute_sd_and_clips_at_the_floor(pathway):
    flux = np.full(20000, 0.1)
    flux[:10] = np.nan  # invalid builds: no measurement, clip or not
    builder = fixed_flux_builder(pathway, flux, noise_kind="homoscedastic", noise_level=0.15,
                                 noise_clip=0.0)
    measured, true, _ = builder.build(None)
    assert np.isnan(measured[:10]).all() and np.isnan(true[:10]).all()
    values = measured[10:]
    assert values.min() == 0.0  # never below the floor
    # N(0.1, 0.15) falls below 0 with probability Phi(-2/3) = 0.2525; those read exactly 0
    assert np.mean(values == 0.0) == pytest.approx(0.2525, abs=0.015)
    above = values[values > 0]
    assert np.std(above) < 0.15  # the sd of the part above 0: truncated, smaller
    # without a floor: the absolute sd whatever the flux
    unclipped = fixed_flux_builder(pathway, np.full(20000, 5.0), noise_kind="homoscedastic",
                                   noise_level=0.15).build(None)[0]
    assert np.std(unclipped) == pytest.approx(0.15, rel=0.03) and unclipped.min() < 5 - 0.3


@pytest.mark.parametrize(("noise", "message"), [
    ({"noise_level": -0.15}, "noise.level=-0.15: expected a non-negative number"),
    ({"noise_clip": "zero"}, "noise.clip='zero': expected a number"),
    ({"noise_clip": float("nan")}, "noise.clip=nan: expected a number"),
])
def test_bad_noise_is_one_line(pathway, noise, message):
    with pytest.raises(KinsynthError, match=message) as caught:
        Builder(pathway, "homoscedastic", **{"noise_level": 0.15, **noise})
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------- schedules

def test_a_schedule_is_one_size_per_cycle():
    from kinsynth.campaign.schedule import batch_sizes

    assert batch_sizes(50, 4) == [50, 50, 50, 50]
    assert batch_sizes([50, 25, 25, 25], 4) == [50, 25, 25, 25]
    assert batch_sizes(["7", 3.0], 2) == [7, 3]
    assert batch_sizes([], 0) == []


@pytest.mark.parametrize(("sizes", "message"), [
    ("[50,25,25]", r"designs_per_cycle=\[50,25,25\]: expected one size per cycle \(4, as "
                   r"cycles=4\), got 3"),
    ("[50,0,25,25]", r"designs_per_cycle\[1\]=0: expected a positive integer"),
    ("[50,-5,25,25]", r"designs_per_cycle\[1\]=-5: expected a positive integer"),
    ("[50,2.5,25,25]", r"designs_per_cycle\[1\]=2.5: expected a positive integer"),
])
def test_a_bad_schedule_is_one_line_before_anything_is_built(tmp_path, compose_dbtl, sizes,
                                                              message):
    from kinsynth.campaign import run_campaign

    cfg = compose_dbtl("strategy=random", "cycles=4", f"designs_per_cycle={sizes}")
    with pytest.raises(KinsynthError, match=message) as caught:
        run_campaign(cfg, tmp_path / "run")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run" / "cycles.csv").exists()


def test_unequal_cycles_build_their_own_sizes_and_the_report_reads_them(tmp_path, compose_dbtl):
    from kinsynth.campaign import run_campaign
    from kinsynth.campaign.report import write_report

    for seed in (0, 1):
        cfg = compose_dbtl("strategy=random", "initial_designs=6", "cycles=3",
                           "designs_per_cycle=[4,1,2]", "pool.n=200", f"seed={seed}")
        table = run_campaign(cfg, tmp_path / "sweep" / f"{seed}")
        assert list(table["n_built"]) == [6, 10, 11, 13]
        assert table["top100_predicted"].isna().all()  # continuous: no library to judge
    text = write_report([tmp_path / "sweep"], tmp_path / "sweep")
    assert "| random | 2 |" in text
    assert (tmp_path / "sweep" / "dbtl_cumulative_top.png").is_file()


# ------------------------------------------------------------------------------------ the judge

class Shifted:
    """A fitted model whose prediction of library design i is (i + 50) % 300."""

    def predict(self, features):
        return (np.arange(len(features)) + 50.0) % 300


def test_the_judge_counts_its_predicted_top100_in_the_true_top100(monkeypatch):
    from kinsynth.campaign import judge as judge_module
    from kinsynth.campaign.space import DesignSpace

    fits = []
    monkeypatch.setattr(judge_module, "tuned_regressor",
                        lambda x, y, *settings: fits.append((x, y, settings)) or Shifted())
    flux = np.arange(300.0)
    flux[7] = np.nan  # a design that fails: never in either top 100, outside R²
    judge = judge_module.LibraryJudge(np.zeros((300, 1)), flux, np.arange(200, 300), seed=3)
    space = DesignSpace(("a",), np.array([0.5]), np.array([2.0]))
    built = __import__("pandas").DataFrame({"a": [1.0, 2.0, 0.5, 1.5], "flux": [1, 2, np.nan, 4],
                                            "valid": [True, True, False, True]})
    scores = judge.score(built, space, "flux")
    # predicted top 100: designs 150..249 ((i + 50) % 300 >= 200); the true top 100: 200..299
    assert scores["top100_predicted"] == 50
    ok = np.isfinite(flux)
    r = np.corrcoef(flux[ok], ((np.arange(300) + 50) % 300)[ok])[0, 1]
    assert scores["library_r2"] == pytest.approx(r * r)
    # refitted on the measured builds only, with the paper's DBTL search: 20 iterations, 5 folds
    x, y, settings = fits[0]
    np.testing.assert_allclose(y, [1, 2, 4])
    np.testing.assert_allclose(x[:, 0], np.log([1.0, 2.0, 1.5]))
    assert settings == (3, 20, 5, "dbtl")
    # fewer than two measured builds: nothing to cross-validate, no figure
    assert np.isnan(judge.score(built.iloc[:1], space, "flux")["top100_predicted"])


TOY_LIBRARY = ["initial_designs=4", "cycles=2", "designs_per_cycle=[3,2]", "pool.n=200",
               "space.levels=[0.5,1,1.5]", "space.flux=J_out", "metrics.judge_iterations=0"]


def toy(tmp_path):
    from support import TOY_ANTIMONY

    (tmp_path / "toy.ant").write_text(TOY_ANTIMONY)
    (tmp_path / "ranges.csv").write_text(
        "id,low,high\nk_in,0.5,1.5\nvmax_out,0.5,2.0\nkm_out,0.5,2.0\n")
    return [f"space.model_file={tmp_path}/toy.ant", f"space.ranges={tmp_path}/ranges.csv"]


@pytest.mark.parametrize("judge", ["auto", "true"])
def test_an_enumerated_library_gets_the_judges_columns(tmp_path, compose_dbtl, judge):
    import json

    from sklearn.ensemble import GradientBoostingRegressor

    from kinsynth.campaign import run_campaign

    cfg = compose_dbtl("strategy=random", *toy(tmp_path), *TOY_LIBRARY, f"metrics.judge={judge}")
    table = run_campaign(cfg, tmp_path / "run")
    built = __import__("pandas").read_csv(tmp_path / "run" / "built.csv")
    from kinsynth.campaign.landscape import make_landscape
    from kinsynth.campaign.pool import library_flux

    landscape = make_landscape(cfg)
    space, builder = landscape.space, landscape.builder
    grid, flux = library_flux(builder, space, tmp_path / "pool_cache")
    ok = np.isfinite(flux)
    # 27 designs, some failing: the true top 100 is every valid one, and the predicted top 100
    # (all 27) holds each of them
    assert 0 < ok.sum() < 27 and list(table["top100_predicted"]) == [ok.sum()] * 3
    # R² over the valid designs, of an untuned, seeded GBR refitted by hand on the measured builds
    measured = built[built["valid"] & built["J_out"].notna()]
    model = GradientBoostingRegressor(random_state=0).fit(np.log(measured[list(space.columns)]),
                                                          measured["J_out"])
    predicted = model.predict(np.log(grid[list(space.columns)]))
    r = np.corrcoef(flux[ok], predicted[ok])[0, 1]
    assert table["library_r2"].iloc[-1] == pytest.approx(r * r, rel=1e-9)
    summary = json.loads((tmp_path / "run" / "campaign.json").read_text())
    assert summary["top100_predicted"] == ok.sum()
    assert summary["library_r2"] == pytest.approx(r * r, rel=1e-9)


def test_metrics_judge_false_leaves_the_columns_empty(tmp_path, compose_dbtl):
    import json

    from kinsynth.campaign import run_campaign

    cfg = compose_dbtl("strategy=random", *toy(tmp_path), *TOY_LIBRARY, "metrics.judge=false")
    table = run_campaign(cfg, tmp_path / "run")
    assert table["top100_predicted"].isna().all() and table["library_r2"].isna().all()
    summary = json.loads((tmp_path / "run" / "campaign.json").read_text())
    assert summary["top100_predicted"] is None and summary["library_r2"] is None


@pytest.mark.parametrize(("overrides", "message"), [
    ([], "metrics.judge=true: the judge predicts the whole library, and this is a continuous "
         "space"),
    (["space.levels=[0.5,0.75,1,1.5,2]"], "this is a library of 9.38e\\+10 designs, more than "
                                          "pool.max_enumerate=20000"),
])
def test_judge_true_without_an_enumerable_library_is_one_line(tmp_path, compose_dbtl, overrides,
                                                              message):
    from kinsynth.campaign import run_campaign

    cfg = compose_dbtl("strategy=random", "metrics.judge=true", "pool.n=200", *overrides)
    with pytest.raises(KinsynthError, match=message) as caught:
        run_campaign(cfg, tmp_path / "run")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run" / "cycles.csv").exists()


def test_a_bad_judge_setting_is_one_line(tmp_path, compose_dbtl):
    from kinsynth.campaign import run_campaign

    cfg = compose_dbtl("strategy=random", "metrics.judge=maybe", "pool.n=200")
    with pytest.raises(KinsynthError, match="metrics.judge='maybe': expected true, false or auto"):
        run_campaign(cfg, tmp_path / "run")


def test_a_stopped_schedule_resumes_to_the_same_builds_and_judge_figures(tmp_path, compose_dbtl,
                                                                         monkeypatch):
    import pandas as pd

    from kinsynth.campaign import loop, run_campaign

    settings = ["strategy=recommender", "strategy.pool_size=50", *toy(tmp_path), *TOY_LIBRARY]
    whole = run_campaign(compose_dbtl(*settings), tmp_path / "whole")
    run = tmp_path / "stopped"
    propose = loop._propose

    def stop_at_2(cycle, *args):
        if cycle == 2:
            raise KeyboardInterrupt
        return propose(cycle, *args)

    with monkeypatch.context() as patch:
        patch.setattr(loop, "_propose", stop_at_2)
        with pytest.raises(KeyboardInterrupt):
            run_campaign(compose_dbtl(*settings), run)
    resumed = run_campaign(compose_dbtl(*settings, f"resume={run}"), run)
    assert list(resumed["n_built"]) == [4, 7, 9]  # 4, then the schedule's 3 and 2
    timing = ["propose_seconds", "build_seconds", "judge_seconds"]
    pd.testing.assert_frame_equal(resumed.drop(columns=timing), whole.drop(columns=timing))
    assert resumed["library_r2"].notna().all()
