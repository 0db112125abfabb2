"""Every figure kinsynth draws, in one place: the run's TensorBoard figures and the report's PNGs.

Colours follow the thesis's Figure 4 (real rows black, synthetic rows cyan) so readers can set our
figures beside the published ones.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

#: resolution of every PNG
DPI = 120
REAL_COLOUR = "black"
SYNTH_COLOUR = "cyan"


def _standardise(real: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean, std = real.mean(axis=0), real.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (real, *others)]


def _canvas(ax: plt.Axes | None, figsize: tuple[float, float]) -> tuple[Figure, plt.Axes]:
    """A new figure and its axes, or ``ax`` and the whole figure holding it (for an axes in a
    subfigure, the root figure: the one that is saved)."""
    if ax is None:
        return plt.subplots(figsize=figsize)
    holder = ax.figure
    return (holder if isinstance(holder, Figure) else holder.figure), ax


def pca_overlay(
    real: np.ndarray,
    synth: np.ndarray,
    title: str = "",
    ax: plt.Axes | None = None,
    max_points: int = 2000,
    seed: int = 0,
) -> Figure:
    """Both sets projected on the first two principal axes of the standardised real rows.

    Each set is subsampled to the same number of points (at most ``max_points``) and the real rows
    are drawn on top, so neither set hides the other by sheer numbers.
    """
    from sklearn.decomposition import PCA  # here: a report's argument check needs no sklearn

    real_z, synth_z = _standardise(np.asarray(real, float), np.asarray(synth, float))
    pca = PCA(n_components=2).fit(real_z)
    rng = np.random.default_rng(seed)
    n = min(len(real_z), len(synth_z), max_points)
    r = pca.transform(real_z[rng.choice(len(real_z), n, replace=False)])
    s = pca.transform(synth_z[rng.choice(len(synth_z), n, replace=False)])
    fig, ax = _canvas(ax, figsize=(5, 4.5))
    ax.scatter(s[:, 0], s[:, 1], s=5, c=SYNTH_COLOUR, alpha=0.6, label="synthetic", linewidths=0)
    ax.scatter(r[:, 0], r[:, 1], s=5, c=REAL_COLOUR, alpha=0.6, label="real", linewidths=0)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_title(title or "PCA of real and synthetic rows")
    ax.legend(markerscale=3, loc="upper right")
    return fig


def explained_variance(
    sets: Mapping[str, np.ndarray], title: str = "", ax: plt.Axes | None = None
) -> Figure:
    """Cumulative explained variance against the number of components, one line per set."""
    from sklearn.decomposition import PCA

    fig, ax = _canvas(ax, figsize=(5, 4))
    reference = next(iter(sets.values()))
    # the first set (the real rows) in black, the model in cyan, further models in the cycle
    colours = [REAL_COLOUR, SYNTH_COLOUR, *plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    for (name, values), colour in zip(sets.items(), colours, strict=False):
        z = _standardise(np.asarray(reference, float), np.asarray(values, float))[1]
        ratio = PCA().fit(z).explained_variance_ratio_
        ax.plot(np.arange(1, len(ratio) + 1), np.cumsum(ratio), marker="o", ms=3, label=name,
                color=colour)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.axhline(0.9, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("number of components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "Explained variance")
    ax.legend()
    return fig


#: most columns the histogram figure draws (the first ones): a panel per column of a 5,000-column
#: table would be a 260,000-pixel-high image
HISTOGRAM_COLUMNS = 60


#: the histogram figure's size per panel and the room around the panels, in inches: a layout
#: fixed here instead of measured (``tight_layout`` and a tight bounding box measure every tick
#: label of every panel, three layout passes that cost twice the one drawing of the figure)
PANEL_INCHES = (3.0, 2.2)
PANEL_MARGINS = {"left": 0.5, "right": 0.1, "bottom": 0.3, "top": 0.45,
                 "between_columns": 0.45, "between_rows": 0.5}
#: tick positions as matplotlib's default picks them, at most five a panel: legible at size 6
PANEL_TICK_BINS, PANEL_TICK_STEPS = 5, [1, 2, 2.5, 5, 10]

#: the figures laid out by :func:`_fixed_grid`, which :func:`save` draws as they are
_FIXED_LAYOUT: weakref.WeakSet[Figure] = weakref.WeakSet()


def _fixed_grid(nrows: int, ncols: int) -> tuple[Figure, np.ndarray]:
    """A grid of panels, :data:`PANEL_INCHES` a panel, with :data:`PANEL_MARGINS` inside."""
    m = PANEL_MARGINS
    width, height = PANEL_INCHES[0] * ncols, PANEL_INCHES[1] * nrows
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    _FIXED_LAYOUT.add(fig)
    panel_width = (width - m["left"] - m["right"] - (ncols - 1) * m["between_columns"]) / ncols
    panel_height = (height - m["bottom"] - m["top"] - (nrows - 1) * m["between_rows"]) / nrows
    fig.subplots_adjust(
        left=m["left"] / width, right=1 - m["right"] / width,
        bottom=m["bottom"] / height, top=1 - m["top"] / height,
        wspace=m["between_columns"] / panel_width, hspace=m["between_rows"] / panel_height,
    )
    return fig, axes


def column_histograms(
    real: pd.DataFrame, synth: pd.DataFrame, columns: Sequence[str], real_name: str = "real"
) -> Figure:
    """Per-column histograms of real and synthetic rows on shared bins, as outlines.

    Outlines, not filled bars: filled black and cyan at half opacity blend into teal where they
    overlap, which is exactly where a reader needs to see both. ``real_name`` says which real
    rows (e.g. "training split") and goes into the title with both row counts. The layout is
    fixed (:data:`PANEL_MARGINS`), so the figure is drawn once, when it is saved; at most five
    ticks on each axis keep its many small labels legible and cheap to draw.
    """
    shown_all = len(columns) <= HISTOGRAM_COLUMNS
    columns = list(columns)[:HISTOGRAM_COLUMNS]
    n = len(columns)
    ncols = min(5, n)
    nrows = math.ceil(n / ncols)
    fig, axes = _fixed_grid(nrows, ncols)
    for ax, column in zip(axes.flat, columns, strict=False):
        sets = [f[column].to_numpy(dtype=float) for f in (real, synth)]
        sets = [v[np.isfinite(v)] for v in sets]
        values = np.concatenate(sets)
        bins = np.linspace(values.min(), values.max(), 31)
        # precomputed histograms drawn as steps: one artist per set instead of one per bar
        for v, colour, label in zip(sets, (REAL_COLOUR, SYNTH_COLOUR), ("real", "synthetic"),
                                    strict=True):
            counts, _ = np.histogram(v, bins=bins, density=True)
            ax.stairs(counts, bins, color=colour, fill=False, linewidth=1.2, label=label)
        ax.set_title(column, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=PANEL_TICK_BINS, steps=PANEL_TICK_STEPS))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=PANEL_TICK_BINS, steps=PANEL_TICK_STEPS))
    for ax in axes[:, 0]:
        ax.set_ylabel("density", fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    which = "" if shown_all else f", first {n} columns"
    fig.suptitle(f"{real_name} (black, n={len(real)}) vs synthetic (cyan, n={len(synth)}){which}",
                 fontsize=9, y=1 - 0.12 / fig.get_figheight(), va="top")
    return fig


def metric_against_latent(
    table: pd.DataFrame,
    metric: str,
    reference: pd.DataFrame | None = None,
    log_scale: bool = False,
    lines: Mapping[str, float] | None = None,
) -> Figure:
    """One line per model of ``metric`` against latent size (thesis Figure 3); dashed = published.

    ``table`` has columns model, latent_dim and the metric; ``reference`` the same for the thesis.
    ``lines`` are horizontal reference levels (chance, real-vs-real, the naive floor) by label:
    a figure between 0 and 1 means little without them. Linear axes unless ``log_scale``, which is
    for figures spanning orders of magnitude (a KL near 0 beside one near 1).
    """
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for model, rows in table.groupby("model"):
        rows = rows.sort_values("latent_dim")
        ax.plot(rows["latent_dim"], rows[metric], marker="o", label=f"{model} (ours)")
    if reference is not None and metric in reference:
        for model, rows in reference.dropna(subset=[metric]).groupby("model"):
            rows = rows.sort_values("latent_dim")
            ax.plot(
                rows["latent_dim"], rows[metric], ls="--", marker="x", label=f"{model} (thesis)"
            )
    styles = ("-.", ":", "--", (0, (5, 1)))
    for (label, level), style in zip((lines or {}).items(), styles * 3, strict=False):
        if np.isfinite(level):
            ax.axhline(level, color="grey", lw=1, ls=style, label=label)
    if log_scale and (table[metric] > 0).all():
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("latent size")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against latent size")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pca_overlay_grid(
    panels: Mapping[str, tuple[np.ndarray, np.ndarray]], ncols: int = 3, title: str = ""
) -> Figure:
    """One :func:`pca_overlay` panel per named (real, synthetic) pair (thesis Figure 4 as a grid).

    Each panel projects on its own real rows' principal axes, exactly as the single-run figure
    does, so a panel here is the same picture as that run's ``figures/pca_overlay.png``.
    """
    n = max(len(panels), 1)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 4 * nrows), squeeze=False)
    for ax, (name, (real, synth)) in zip(axes.flat, panels.items(), strict=False):
        pca_overlay(real, synth, title=name, ax=ax)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: str, tight: bool | None = None) -> None:
    """Write a PNG and release the figure (figures pile up in long sweeps otherwise).

    Atomically: a full disk leaves no half-written PNG under its name. ``tight`` crops the PNG to
    what is drawn, which measures the figure before drawing it; by default every figure but one
    with a fixed layout (:func:`column_histograms`), which is saved as laid out, drawn once.
    """
    from kinsynth.core.writing import atomic_path

    try:
        with atomic_path(path) as tmp:
            if tight is None:
                tight = fig not in _FIXED_LAYOUT
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight" if tight else None, format="png")
    finally:
        plt.close(fig)
