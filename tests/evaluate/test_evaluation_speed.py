"""The cheaper evaluation gives the figures the full computation gives, on a fixed seed.

Each saving is pinned against the computation it replaces: the cached baselines against
``reference_baselines``, the memoised ``trtr_r2`` against a fresh fit, the single oracle call
against two, the in-process simulator against its worker pool, and the fast level against the
full one. Every comparison is exact (the same numbers), so no figure moves at all.
"""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest

from kinsynth.core.errors import KinsynthError
from kinsynth.evaluate import callback as evaluation
from kinsynth.evaluate.callback import EvaluationCallback
from kinsynth.evaluate.cost import estimate_seconds
from kinsynth.evaluate.metrics import reference_baselines
from kinsynth.evaluate.metrics import utility as utility_module
from kinsynth.evaluate.metrics.caps import RowCaps
from kinsynth.evaluate.metrics.conditional import (
    conditional_fidelity,
    conditional_metrics,
    top_design_hit_rate,
)
from kinsynth.evaluate.metrics.split_cache import cached_figures, split_key
from kinsynth.evaluate.metrics.utility import utility_r2


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal keys and values, NaN equal to NaN."""
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


@pytest.fixture
def split(toy_csv):
    from kinsynth.data import KineticDataModule

    dm = KineticDataModule(path=str(toy_csv), seed=0, device="cpu")
    dm.setup("fit")
    return dm


@pytest.fixture(autouse=True)
def empty_memory_cache():
    evaluation._SPLIT_CACHE.clear()
    utility_module._TRTR.clear()
    yield
    evaluation._SPLIT_CACHE.clear()


def _callback(tmp_path, **options) -> EvaluationCallback:
    return EvaluationCallback(output_dir=str(tmp_path / "run"), cache_dir=str(tmp_path / "cache"),
                              **options)


def test_cached_baselines_are_the_computed_ones_and_a_later_process_skips_the_work(
    split, tmp_path, monkeypatch
):
    expected = reference_baselines(
        split.train_frame, split.test_frame, split.features, split.target, 0, RowCaps()
    )
    first = _callback(tmp_path)._reference_baselines(split)
    assert _same(first, {k: float(v) for k, v in expected.items()})
    assert len(list((tmp_path / "cache" / "baselines").glob("baselines-*.json"))) == 1

    evaluation._SPLIT_CACHE.clear()  # a new process: only the disk remembers

    def not_again(*args, **kwargs):
        raise AssertionError("the baselines were computed again")

    monkeypatch.setattr(evaluation, "reference_baselines", not_again)
    assert _same(_callback(tmp_path)._reference_baselines(split), first)
    assert _same(_callback(tmp_path, level="fast")._reference_baselines(split), first)
    with pytest.raises(AssertionError, match="computed again"):  # another seed: another key
        _callback(tmp_path, seed=1)._reference_baselines(split)


def test_the_fast_level_computes_no_baselines_and_a_bad_cache_entry_is_recomputed(
    split, tmp_path
):
    fast = _callback(tmp_path, level="fast")
    assert fast._reference_baselines(split) == {}
    assert not (tmp_path / "cache").exists()
    (tmp_path / "cache" / "baselines").mkdir(parents=True)
    key = _callback(tmp_path)._baseline_key(split)
    (tmp_path / "cache" / "baselines" / f"{key}.json").write_text('{"realreal_mmd": ')
    figures, was_stored = cached_figures(tmp_path / "cache" / "baselines", key, lambda: {"x": 1})
    assert figures == {"x": 1.0} and not was_stored
    assert json.loads((tmp_path / "cache" / "baselines" / f"{key}.json").read_text()) == {"x": 1}


def test_the_split_key_follows_every_input(split):
    base = split_key("baselines", split.train_frame, split.test_frame, seed=0)
    assert base == split_key("baselines", split.train_frame.copy(), split.test_frame, seed=0)
    changed = split.train_frame.copy()
    changed.iloc[0, 0] = np.nextafter(changed.iloc[0, 0], np.inf, dtype=changed.dtypes.iloc[0])
    assert base != split_key("baselines", changed, split.test_frame, seed=0)
    assert base != split_key("baselines", split.train_frame, split.test_frame, seed=1)
    assert base != split_key("oracle", split.train_frame, split.test_frame, seed=0)


def test_a_level_other_than_fast_or_full_is_one_line_naming_the_key(tmp_path):
    with pytest.raises(KinsynthError, match=r"callbacks.evaluation.level=quick: expected one of "
                                            r"fast, full") as refused:
        _callback(tmp_path, level="quick")
    assert "\n" not in str(refused.value)


def test_the_memoised_trtr_r2_is_a_fresh_fit():
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    x, xs, xt = (rng.normal(size=(n, 4)) for n in (300, 300, 100))
    y, ys, yt = (z @ [1.0, -0.5, 0.2, 0.0] + rng.normal(0, 0.1, len(z)) for z in (x, xs, xt))
    first = utility_r2(x, y, xt, yt, xs, ys, seed=3)
    again = utility_r2(x, y, xt, yt, xs + 0.1, ys, seed=3)  # another synthetic set, same split
    fresh = HistGradientBoostingRegressor(random_state=3).fit(x, y)
    assert first["trtr_r2"] == again["trtr_r2"] == float(r2_score(yt, fresh.predict(xt)))
    tstr = HistGradientBoostingRegressor(random_state=3).fit(xs, ys)
    assert first["tstr_r2"] == float(r2_score(yt, tstr.predict(xt)))
    assert first["tstr_r2"] != again["tstr_r2"]


def test_one_oracle_call_gives_the_figures_of_two():
    rng = np.random.default_rng(0)
    train_t, test_t = rng.uniform(0.2, 2.0, 400), rng.uniform(0.2, 2.0, 80)
    calls = []

    def generate(targets):
        noise = np.random.default_rng(7).normal(0, 0.05, len(targets))
        return pd.DataFrame({"a": targets + noise, "b": targets * 2})

    def oracle(designs):
        calls.append(len(designs))
        flux = designs["a"].to_numpy() * 1.1
        return np.where(designs["a"].to_numpy() > 1.9, np.nan, flux)  # some designs fail

    figures = conditional_metrics(generate, oracle, train_t, test_t, n=150, seed=4)
    assert calls == [300]
    # the computation it replaces: one oracle call per set of designs
    requested = np.random.default_rng(4).choice(test_t, size=150, replace=True)
    expected = conditional_fidelity(requested, oracle(generate(requested)))
    top = oracle(generate(np.full(150, np.quantile(train_t, 0.95))))
    expected["hit_rate"] = top_design_hit_rate(top, float(np.quantile(train_t, 0.90)))
    expected["hit_rate_floor"] = top_design_hit_rate(test_t, float(np.quantile(train_t, 0.90)))
    assert _same(figures, expected)


@pytest.mark.slow(seconds=4)
def test_the_simulator_oracle_in_process_gives_the_pool_s_fluxes():
    from kinsynth.evaluate.oracles import simulator_oracle
    from kinsynth.simulate import oracle as simulate_oracle
    from kinsynth.simulate.model import load_model

    columns = load_model(None).columns
    designs = pd.DataFrame(np.random.default_rng(0).uniform(0.3, 3.0, (60, len(columns))),
                           columns=columns)
    pooled = simulate_oracle(designs, workers=2)
    expected = np.where(pooled["valid"], pooled["flux"], np.nan)
    np.testing.assert_array_equal(simulator_oracle(columns)(designs), expected)
    assert np.isnan(expected).any() and np.isfinite(expected).any()


@pytest.mark.slow(seconds=12)
def test_the_fast_level_gives_the_full_level_s_values(compose_train, tmp_path, caplog):
    from kinsynth.models import load
    from kinsynth.train.run import run_training

    run = tmp_path / "run"
    cache = tmp_path / "cache"
    cfg = compose_train("model=cvae", "latent_dim=2", "trainer.max_epochs=2",
                        "callbacks.evaluation.baselines=true",
                        f"callbacks.evaluation.cache_dir={cache}", output_dir=run)
    with caplog.at_level(logging.INFO, logger="kinsynth.evaluate.callback"):
        run_training(cfg, run)
    said = [r.getMessage() for r in caplog.records if "will take about" in r.getMessage()]
    assert len(said) == 1 and "level=full" in said[0] and "level=fast: about" in said[0]
    full = json.loads((run / "metrics.json").read_text())
    assert sorted(p.name for p in (run / "figures").iterdir()) == [
        "explained_variance.png", "histograms.png", "pca_overlay.png"]

    from hydra.utils import instantiate

    dm = instantiate(cfg.data, device="cpu", _convert_="all")
    dm.setup("fit")
    model = load(run)
    evaluation._SPLIT_CACHE.clear()
    options = {"n_conditional": 100, "seed": int(cfg.seed)}
    cached = EvaluationCallback(str(tmp_path / "fast"), level="fast", cache_dir=str(cache),
                                **options).evaluate(dm, model)
    model_only = EvaluationCallback(
        str(tmp_path / "fast_nocache"), level="fast", cache_dir=str(tmp_path / "empty"), **options
    ).evaluate(dm, model)
    timing = {"evaluation_seconds", "fit_seconds", "epochs"}
    expected = {k: v for k, v in full.items() if k not in timing and k != "warnings"}
    assert _same(cached, {k: float(v) for k, v in expected.items()})
    own = {k: v for k, v in expected.items() if not k.startswith(("realreal_", "naive_"))}
    assert _same(model_only, {k: float(v) for k, v in own.items()})
    assert len(own) < len(expected) and not (tmp_path / "fast_nocache" / "figures").exists()


def test_the_estimate_falls_with_cached_baselines_and_grows_with_the_rows():
    sizes = {"n_train": 4000, "n_test": 500, "n_synthetic": 5000, "n_columns": 20,
             "n_conditional": 500, "caps": RowCaps()}
    full = estimate_seconds(baselines=True, figures=True, **sizes)
    cached = estimate_seconds(baselines=False, figures=True, **sizes)
    fast = estimate_seconds(baselines=False, figures=False, **sizes)
    assert full > cached > fast > 0
    bigger = estimate_seconds(baselines=True, figures=True,
                              **{**sizes, "n_train": 40000, "n_test": 5000, "n_synthetic": 50000})
    assert bigger > 2 * full
