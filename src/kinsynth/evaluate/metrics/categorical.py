"""Figures for columns of part names: level frequencies, co-occurrence, and their one-hot view.

The numeric figures (Wasserstein, correlations, C2ST, memorisation) run on the one-hot view
(:func:`one_hot`), where a level is a 0/1 column; the two figures here say directly what a
biologist checks first: whether each slot's parts come up as often as in the real table, and
whether pairs of parts come up together as often.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["categorical_figures", "one_hot", "one_hot_columns"]


def one_hot_columns(columns: list[str], levels: dict[str, list[str]]) -> list[str]:
    """The one-hot view's column names: ``slot=level`` for each level, in place of the slot."""
    out: list[str] = []
    for name in columns:
        out.extend([f"{name}={level}" for level in levels[name]] if name in levels else [name])
    return out


def one_hot(frame: pd.DataFrame, levels: dict[str, list[str]]) -> pd.DataFrame:
    """``frame`` with each categorical column as one float 0/1 column per known level.

    A name outside the levels gives a row of zeros (it matches no known part), never an error:
    a figure should show such rows as different, not stop the evaluation.
    """
    parts: dict[str, np.ndarray] = {}
    for name in frame.columns:
        if name in levels:
            values = frame[name].astype(str).to_numpy()
            for level in levels[name]:
                parts[f"{name}={level}"] = (values == level).astype(np.float64)
        else:
            parts[name] = frame[name].to_numpy(dtype=np.float64)
    return pd.DataFrame(parts, index=frame.index)


def _frequencies(values: pd.Series, known: list[str]) -> np.ndarray:
    counts = values.astype(str).value_counts()
    return np.array([counts.get(level, 0) for level in known], dtype=np.float64) / max(
        len(values), 1)


def categorical_figures(
    real: pd.DataFrame, synth: pd.DataFrame, levels: dict[str, list[str]]
) -> dict[str, float]:
    """``freq_tv_<slot>``: total variation distance between the real and synthetic level
    frequencies of one slot (0 equal, 1 disjoint), and ``freq_tv_mean`` over the slots;
    ``cooccur_tv_mean``: the same distance between the joint frequencies of each pair of slots,
    averaged over the pairs (NaN with a single slot)."""
    names = [name for name in levels if name in real.columns and name in synth.columns]
    out: dict[str, float] = {}
    for name in names:
        known = levels[name]
        out[f"freq_tv_{name}"] = 0.5 * float(np.abs(
            _frequencies(real[name], known) - _frequencies(synth[name], known)).sum())
    out["freq_tv_mean"] = float(np.mean([out[f"freq_tv_{n}"] for n in names])) if names else np.nan
    pairs = []
    for a, b in combinations(names, 2):
        joint_real = (real[a].astype(str) + "\x1f" + real[b].astype(str)).value_counts(
            normalize=True)
        joint_synth = (synth[a].astype(str) + "\x1f" + synth[b].astype(str)).value_counts(
            normalize=True)
        keys = joint_real.index.union(joint_synth.index)
        diff = joint_real.reindex(keys, fill_value=0) - joint_synth.reindex(keys, fill_value=0)
        pairs.append(0.5 * float(diff.abs().sum()))
    out["cooccur_tv_mean"] = float(np.mean(pairs)) if pairs else np.nan
    return out
