"""Numerical checks of every evaluation figure against cases with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinsynth.evaluate.metrics import evaluate_samples, reference_baselines
from kinsynth.evaluate.metrics.baselines import naive_independent_sample
from kinsynth.evaluate.metrics.conditional import (
    SurrogateOracle,
    conditional_fidelity,
    conditional_metrics,
    top_design_hit_rate,
)
from kinsynth.evaluate.metrics.detection import c2st_auc
from kinsynth.evaluate.metrics.fidelity import FIDELITY_KEYS, fidelity, out_of_range
from kinsynth.evaluate.metrics.memorisation import memorisation_ratio
from kinsynth.evaluate.metrics.standardise import Standardiser
from kinsynth.evaluate.metrics.utility import utility_r2


def gaussian(n: int, k: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(shift, 1.0, size=(n, k))


def correlated_gaussian(n: int, seed: int, rho: float = 0.8, k: int = 4) -> np.ndarray:
    cov = np.full((k, k), rho) + (1 - rho) * np.eye(k)
    return np.random.default_rng(seed).multivariate_normal(np.zeros(k), cov, size=n)


def test_standardiser_roundtrip_and_constant_column() -> None:
    x = np.column_stack([np.arange(10.0), np.full(10, 3.0)])
    scaler = Standardiser().fit(x)
    z = scaler.transform(x)
    assert np.allclose(z[:, 0].mean(), 0) and np.isclose(z[:, 0].std(), 1)
    assert np.allclose(z[:, 1], 0)  # constant column: scale 1, no NaN
    assert np.allclose(scaler.inverse_transform(z), x)


def test_identical_sets_give_zero_distances() -> None:
    x = correlated_gaussian(800, seed=0)
    f = fidelity(x, x.copy())
    assert set(f) == set(FIDELITY_KEYS)
    for key in ("wasserstein", "ks", "mmd", "corr_diff"):
        assert f[key] == pytest.approx(0.0, abs=1e-12), key
    assert f["gauss_kl"] == pytest.approx(0.0, abs=1e-6)
    assert f["std_ratio_min"] == pytest.approx(1.0) and f["std_ratio_max"] == pytest.approx(1.0)
    assert f["out_of_range"] == 0.0


@pytest.mark.parametrize("d", [0.5, 1.5])
def test_shifted_gaussians_match_analytic_kl_and_wasserstein(d: float) -> None:
    real = gaussian(4000, 3, seed=1)
    # the same rows shifted by d in every column: W1 is exactly d, and with equal covariances S
    # the KL reduces to the Mahalanobis term 0.5 * delta^T S^-1 delta (-> 3 d^2 / 2 as S -> I)
    exact = fidelity(real, real + d)
    delta = np.full(3, d)
    maha = 0.5 * delta @ np.linalg.solve(np.cov(real, rowvar=False), delta)
    assert exact["wasserstein"] == pytest.approx(d, rel=1e-9)
    assert exact["gauss_kl"] == pytest.approx(maha, rel=1e-4)
    assert exact["ks"] > 0.15 and exact["mmd"] > 0.05
    # independent draws of N(d, 1): the same figures up to sampling noise
    synth = gaussian(4000, 3, seed=2, shift=d)
    f = fidelity(real, synth)
    assert f["wasserstein"] == pytest.approx(d, abs=0.08)
    assert f["gauss_kl"] == pytest.approx(3 * d**2 / 2, rel=0.15, abs=0.05)
    one = fidelity(real[:, :1], synth[:, :1])
    assert one["gauss_kl"] == pytest.approx(d**2 / 2, rel=0.15, abs=0.03)


def test_collapsed_generator_is_detected() -> None:
    real = correlated_gaussian(600, seed=3)
    collapsed = 0.02 * gaussian(600, 4, seed=4) + real.mean(axis=0)
    f = fidelity(real, collapsed)
    assert f["std_ratio_max"] < 0.05
    assert c2st_auc(real, collapsed, seed=0) > 0.95


def test_c2st_same_distribution_is_chance() -> None:
    real = gaussian(1000, 5, seed=5)
    synth = gaussian(3000, 5, seed=6)  # larger set is subsampled to 1000
    assert c2st_auc(real, synth, seed=0) == pytest.approx(0.5, abs=0.07)


def test_memorisation_copies_vs_fresh_draws() -> None:
    train = gaussian(2000, 5, seed=7)
    holdout = gaussian(500, 5, seed=8)
    assert memorisation_ratio(train, holdout, train[:1000] + 1e-4) < 0.1
    fresh = gaussian(2000, 5, seed=9)
    assert 0.8 < memorisation_ratio(train, holdout, fresh) < 1.25


def test_out_of_range_known_case() -> None:
    lower, upper = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    synth = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, -0.1], [2.0, 2.0], [1.0, 0.0]])
    # rows 2, 3, 4 have a column outside; the last row sits exactly on the bounds (inside)
    assert out_of_range(synth, lower, upper) == pytest.approx(3 / 5)
    f = fidelity(np.array([[0.0, 0.0], [1.0, 1.0]]), synth, bounds=(lower, upper))
    assert f["out_of_range"] == pytest.approx(3 / 5)


def test_naive_sampler_keeps_marginals_destroys_correlation() -> None:
    real = correlated_gaussian(2000, seed=10, rho=0.8)
    naive = naive_independent_sample(real, 2000, seed=11)
    assert naive.shape == real.shape
    # every value comes from the same column of the training rows
    assert all(np.isin(naive[:, j], real[:, j]).all() for j in range(real.shape[1]))
    f = fidelity(real, naive)
    assert f["ks"] < 0.05
    assert f["corr_diff"] > 0.7  # off-diagonal correlations 0.8 -> ~0


def test_utility_tstr_matches_trtr_for_same_process() -> None:
    def draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, size=(n, 3))
        return x, np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.05 * rng.normal(size=n)

    (trx, try_), (tex, tey), (syx, syy) = draw(1000, 12), draw(400, 13), draw(1000, 14)
    u = utility_r2(trx, try_, tex, tey, syx, syy, seed=0)
    assert u["trtr_r2"] > 0.8
    assert u["tstr_r2"] == pytest.approx(u["trtr_r2"], abs=0.05)


def true_flux(designs: np.ndarray) -> np.ndarray:
    return np.asarray(designs)[:, 0] * np.asarray(designs)[:, 1]


def exact_generator(targets: np.ndarray) -> np.ndarray:
    # designs (t, 1): true_flux gives back exactly t
    return np.column_stack([targets, np.ones_like(targets)])


def test_perfect_oracle_and_generator() -> None:
    requested = np.linspace(0.1, 2.0, 50)
    c = conditional_fidelity(requested, true_flux(exact_generator(requested)))
    assert c["cond_spearman"] == pytest.approx(1.0)
    assert c["cond_mae"] == pytest.approx(0.0)
    assert c["cond_valid"] == 1.0

    rng = np.random.default_rng(15)
    train_t, test_t = rng.uniform(0, 1, 4000), rng.uniform(0, 1, 1000)
    m = conditional_metrics(exact_generator, true_flux, train_t, test_t, n=200, seed=0)
    assert m["cond_spearman"] == pytest.approx(1.0) and m["cond_mae"] == pytest.approx(0.0)
    assert m["hit_rate"] == 1.0  # asked for the 95th percentile, all exceed the 90th
    assert m["hit_rate_floor"] == pytest.approx(0.10, abs=0.03)


def test_invalid_designs_excluded_and_counted_as_misses() -> None:
    requested = np.array([1.0, 2.0, 3.0, 4.0])
    flux = np.array([1.0, np.nan, 3.0, 4.0])
    c = conditional_fidelity(requested, flux)
    assert c["cond_valid"] == pytest.approx(0.75)
    assert c["cond_spearman"] == pytest.approx(1.0) and c["cond_mae"] == pytest.approx(0.0)
    assert top_design_hit_rate(np.array([5.0, np.nan, np.nan, 0.1]), threshold=1.0) == 0.25


def flux_frame(n: int, seed: int) -> pd.DataFrame:
    """Positive fold changes, multiplicative flux, mildly correlated first two columns."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(n, 4))
    x[:, 1] = np.clip(x[:, 1] * 0.5 + x[:, 0] * 0.5, 0.5, 2.0)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["flux"] = x[:, 0] ** 0.7 * x[:, 2] / (1 + x[:, 3]) + 0.01 * rng.normal(size=n)
    return frame


def test_surrogate_oracle_fits_multiplicative_flux() -> None:
    train, test = flux_frame(1500, 16), flux_frame(300, 17)
    feats = ["a", "b", "c", "d"]
    oracle = SurrogateOracle().fit(train[feats], train["flux"])
    assert oracle.score(test[feats], test["flux"]) > 0.9
    assert oracle.holdout_r2_ > 0.9
    # column order follows the fitted frame; invalid designs give NaN
    shuffled = test[feats[::-1]].copy()
    assert np.allclose(oracle.predict(shuffled), oracle.predict(test[feats]))
    bad = test[feats].iloc[:2].copy()
    bad.iloc[0, 0], bad.iloc[1, 2] = -1.0, np.nan
    assert np.isnan(oracle.predict(bad)).all()


def test_evaluate_samples_and_baselines_keys_and_values() -> None:
    train, test = flux_frame(1000, 18), flux_frame(300, 19)
    feats = ["a", "b", "c", "d"]
    synth = flux_frame(1000, 20)
    synth.iloc[0, 0] = np.nan  # one unusable row
    m = evaluate_samples(train, test, synth, feats, "flux", seed=0)
    expected = {"synth_finite", "memorisation_ratio", "tstr_r2", "trtr_r2"}
    expected |= {*FIDELITY_KEYS, "c2st_auc"} | {f"{k}_joint" for k in (*FIDELITY_KEYS, "c2st_auc")}
    expected |= {"n_fidelity", "n_c2st", "n_mmd", "n_memorisation", "n_memorisation_reference",
                 "n_utility", "n_matrix_columns", "n_matrix_columns_joint"}
    assert set(m) == expected
    assert (m["n_fidelity"], m["n_c2st"], m["n_mmd"]) == (999, 600, 300 + 999)
    assert (m["n_memorisation"], m["n_memorisation_reference"]) == (1299, 1000)
    assert m["n_utility"] == 1999
    assert m["synth_finite"] == pytest.approx(0.999)
    assert m["c2st_auc"] == pytest.approx(0.5, abs=0.1)
    assert 0.8 < m["memorisation_ratio"] < 1.25

    features_only = evaluate_samples(train, test, synth[feats], feats, "flux", seed=0)
    assert "tstr_r2" not in features_only and "c2st_auc_joint" not in features_only

    b = reference_baselines(train, test, feats, "flux", seed=0)
    assert b["realreal_c2st_auc_joint"] == pytest.approx(0.5, abs=0.1)
    assert b["naive_tstr_r2"] < b["realreal_tstr_r2"] - 0.3  # no dependence -> no utility
    assert b["naive_corr_diff_joint"] > b["realreal_corr_diff_joint"]
    assert b["naive_out_of_range"] == 0.0  # values are training values
