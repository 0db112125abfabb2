"""When a run's figures cannot be trusted: the rules, their thresholds, and the words for each.

Every figure in ``metrics.json`` is a number, and a number looks equally solid whether it came from
a good oracle on 1,000 test rows or a useless one on 44. These rules turn the known failure modes
into a ``warnings`` list in ``metrics.json`` and ``WARNING`` lines in the console summary. The
thresholds live here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: Held-out R² of the surrogate oracle below which conditional figures are unreliable: at 0.8 a
#: fifth of the flux variance is already the oracle's own error, the same size as the spread the
#: hit rate and cond_* figures try to resolve (the embedded simulator itself has R² = 1).
MIN_ORACLE_R2 = 0.8
#: Test rows below which C2ST and the hit rate are noise: the AUC of a 5-fold classifier on fewer
#: than 100 rows per side has a seed spread of about ±0.05, as large as the gaps between models.
MIN_TEST_ROWS = 100
#: Smallest synthetic/real standard deviation ratio over the columns below which the samples have
#: collapsed: under half the real spread means the decoder ignores the latent code for that column
#: (the thesis's collapsed VAE sits at about 0.02).
MIN_STD_RATIO = 0.5


def _value(metrics: Mapping[str, object], key: str) -> float:
    value = metrics.get(key)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def trust_warnings(metrics: Mapping[str, object]) -> list[str]:
    """One sentence per rule the run's figures break; empty when nothing calls them into doubt."""
    found: list[str] = []
    r2 = _value(metrics, "oracle_r2")
    if math.isfinite(r2) and r2 < MIN_ORACLE_R2:
        found.append(
            f"weak oracle: the surrogate's held-out R² is {r2:.3g} (< {MIN_ORACLE_R2}), so the "
            "conditional figures (cond_*, hit_rate) say more about the oracle than the model"
        )
    n_test = _value(metrics, "n_test")
    if math.isfinite(n_test) and n_test < MIN_TEST_ROWS:
        found.append(
            f"small test split: {int(n_test)} rows (< {MIN_TEST_ROWS}) make C2ST and the hit rate "
            "noisy; use more data or a larger test share (data.split=[0.6,0.2,0.2])"
        )
    std_min = _value(metrics, "std_ratio_min")
    if math.isfinite(std_min) and std_min < MIN_STD_RATIO:
        found.append(
            f"collapse: std_ratio_min is {std_min:.3g} (< {MIN_STD_RATIO}), the samples have a "
            "fraction of the real spread in at least one column"
        )
    for key in ("c2st_auc_joint", "c2st_auc"):
        model_auc, naive_auc = _value(metrics, key), _value(metrics, f"naive_{key}")
        if math.isfinite(model_auc) and math.isfinite(naive_auc):
            if model_auc > naive_auc:
                found.append(
                    f"detection: {key} is {model_auc:.3g}, above the naive independent-columns "
                    f"baseline's {naive_auc:.3g}; the model is easier to tell from real rows "
                    "than shuffled columns are"
                )
            break
    return found


def objective_warning(metrics: Mapping[str, object], key: str) -> str | None:
    """Why a sweeper gets no value for ``key`` (missing or not finite), else None."""
    if key not in metrics:
        return f"optimized_metric={key} is not in metrics.json; the sweeper records a failed trial"
    value = _value(metrics, key)
    if not math.isfinite(value):
        return (
            f"optimized_metric={key} is {value} in metrics.json; the sweeper records a failed trial"
        )
    return None
