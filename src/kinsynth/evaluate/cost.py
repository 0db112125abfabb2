"""What the final evaluation will cost, said before training starts.

Seconds per part measured on the 2-core reference machine (one compute thread, nothing else
running) at the embedded data's size, scaled by the rows each part will use. A rough figure (a
busy machine takes longer), meant to tell a user of a short run what is coming and that
``callbacks.evaluation.level=fast`` exists; docs/performance.md has the measurement.
"""

from __future__ import annotations

from typing import Any

# (seconds at the reference size, the reference rows) of each part; the reference is the embedded
# data (4,000 training, 500 test, 5,000 synthetic rows, 20 columns, 500 conditional requests)
SAMPLE_AND_CSV = (0.15, 5000)
FIDELITY = (0.15, 7000)  # per column space; the MMD's pairwise distances dominate
C2ST = (0.45, 1000)  # per column space: five gradient-boosted classifiers
MEMORISATION = (0.05, 5500)
UTILITY = (0.35, 9000)  # two gradient-boosted regressors
ORACLE = (0.9, 1000)  # the simulator on 2 x 500 designs (a surrogate's fit costs about as much)
FIGURES = 1.0  # three figures: drawn, written as PNG, copied to TensorBoard


def _scaled(part: tuple[float, int], rows: float) -> float:
    seconds, reference = part
    return seconds * max(rows, 1) / reference


def estimate_seconds(
    *,
    n_train: int,
    n_test: int,
    n_synthetic: int,
    n_columns: int,
    n_conditional: int,
    caps: Any,
    baselines: bool,
    figures: bool,
) -> float:
    """Seconds of the final evaluation: the model's figures, and the baselines and figures if on.

    ``n_conditional=0`` for an unconditional model; ``caps`` is the callback's ``RowCaps``.
    """

    def capped(rows: int, cap: int | None) -> int:
        return rows if cap is None else min(rows, cap)

    def figures_of(synthetic: int, reference: int) -> float:
        spaces = 2  # features, and features + target
        width = n_columns / 20
        c2st_rows = 2 * min(n_test, capped(synthetic, caps.c2st))
        mmd_rows = capped(n_test, caps.mmd) + capped(synthetic, caps.mmd)
        return (
            spaces * _scaled(FIDELITY, (mmd_rows / 7000) * mmd_rows * width)
            + spaces * _scaled(C2ST, c2st_rows * width)
            + _scaled(MEMORISATION, capped(reference, caps.memorisation_reference) / 4000 * 5500)
            + _scaled(UTILITY, (capped(reference, caps.utility) + capped(synthetic, caps.utility))
                      * width)
        )

    total = _scaled(SAMPLE_AND_CSV, n_synthetic * n_columns / 20)
    total += figures_of(n_synthetic, n_train)
    total += _scaled(ORACLE, 2 * n_conditional) if n_conditional else 0.0
    if baselines:
        total += figures_of(n_train // 2, n_train // 2) + figures_of(n_train, n_train)
    if figures:
        total += FIGURES
    return total
