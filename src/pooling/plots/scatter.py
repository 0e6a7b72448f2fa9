"""Quantile-binned means of the outcome against the predictor (:func:`binned_scatter`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pooling.columns import check_frame, require_columns, require_numeric
from pooling.plots.common import add_legend, axis_label, fit_to_figure, new_axes, sentence, short_name
from pooling.style import BLUE, GREY, MAX_FIG_WIDTH, pooling_style, style_context


def _parse_line(line: Any) -> tuple[float, float, float, str]:
    """(intercept at x_mean, slope, x_mean[, label]) or a dict with those keys."""
    if isinstance(line, Mapping):
        try:
            intercept = line["intercept"]
            slope = line["slope"]
        except KeyError as err:
            raise ValueError(
                "binned_scatter: `line` dict needs keys 'intercept', 'slope' and 'x_mean' "
                f"(missing {err.args[0]!r})"
            ) from None
        center = line.get("x_mean", line.get("x_center"))
        if center is None:
            raise ValueError("binned_scatter: `line` dict needs a key 'x_mean' (or 'x_center')")
        label = str(line.get("label", "Fitted regression line"))
    elif isinstance(line, Sequence) and not isinstance(line, str) and len(line) in (3, 4):
        intercept, slope, center = line[:3]
        label = str(line[3]) if len(line) == 4 else "Fitted regression line"
    else:
        raise ValueError(
            "binned_scatter: `line` must be (intercept_at_x_mean, slope, x_mean) or a dict "
            f"with keys 'intercept', 'slope', 'x_mean'; got {line!r}"
        )
    try:
        values = tuple(float(np.asarray(v).item()) for v in (intercept, slope, center))
    except (TypeError, ValueError):
        raise ValueError(f"binned_scatter: `line` values must be numbers, got {line!r}") from None
    if not all(np.isfinite(values)):
        raise ValueError(f"binned_scatter: `line` values must be finite, got {values}")
    return (*values, label)


def quantile_bins(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index (0 .. n_bins - 1) of each value, for equal-count bins that never split ties.

    Each distinct value goes to the bin that holds the midpoint of its share of the
    empirical distribution (``floor(n_bins * mid-CDF)``). For continuous data this is the
    usual quantile binning; for a discrete scale, a value held by many rows gets a bin of its
    own and bins whose quantile edges would coincide are merged, so fewer than ``n_bins``
    (non-empty) bins may come out.
    """
    values = np.asarray(values, dtype=float)
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    total = counts.sum()
    mid_cdf = (np.cumsum(counts) - counts / 2) / total
    value_bin = np.minimum((mid_cdf * n_bins).astype(int), n_bins - 1)
    return value_bin[inverse]


def binned_scatter(
    data: pd.DataFrame,
    *,
    x: str = "antiauth",
    y: str = "china",
    n_bins: int = 20,
    line: Any = None,
    x_label: str | None = None,
    y_label: str | None = None,
    title: str | None = None,
    ax=None,
):
    """Mean of ``y`` within quantile bins of ``x``, with 95% intervals.

    Parameters
    ----------
    data : DataFrame with numeric columns ``x`` and ``y`` (rows with a missing value in
        either column are dropped).
    n_bins : number of quantile (equal-count) bins requested. Rows with the same ``x``
        always share a bin, so on a discrete index such as ``antiauth`` (steps of 0.25) bins
        whose edges would repeat are merged and fewer bins may be drawn
        (see :func:`quantile_bins`). At least two rows per requested bin are required.
    line : optional fitted line ``(intercept_at_x_mean, slope, x_mean)`` -- the centred
        parameterisation used by the models: ``y = intercept + slope * (x - x_mean)`` -- or a
        dict with keys ``intercept``, ``slope``, ``x_mean`` and optionally ``label``.

    Each bin is drawn at the mean ``x`` of its rows; the bar is mean ``y`` +- 1.96 standard
    errors. Dashed grey lines mark the overall means of ``x`` and ``y``.

    Returns
    -------
    (fig, ax)
    """
    func = "binned_scatter"
    check_frame(data, "data", where=func)
    require_columns(data, [x, y], "data", where=func)
    require_numeric(data, [x, y], "data", where=func)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"{func}: `n_bins` must be an integer >= 2, got {n_bins!r}")
    df = data[[x, y]].astype(float)
    df = df[np.isfinite(df[x]) & np.isfinite(df[y])]
    if len(df) < 2 * n_bins:
        raise ValueError(
            f"{func}: {len(df)} complete rows are too few for n_bins={n_bins} "
            f"(need at least {2 * n_bins}, two per bin); use fewer bins"
        )
    parsed_line = _parse_line(line) if line is not None else None

    xv = df[x].to_numpy()
    yv = df[y].to_numpy()
    bin_id = quantile_bins(xv, n_bins)
    if len(np.unique(bin_id)) < 2:
        raise ValueError(
            f"{func}: column {x!r} has {len(np.unique(xv))} distinct value(s), too few to "
            "form at least two quantile bins"
        )
    stats = (
        pd.DataFrame({"bin": bin_id, "x": xv, "y": yv})
        .groupby("bin")
        .agg(x=("x", "mean"), mean=("y", "mean"), sd=("y", "std"), n=("y", "size"))
    )
    se = (stats["sd"] / np.sqrt(stats["n"])).fillna(0.0).to_numpy()
    half_width = 1.96 * se

    x_mean, y_mean = float(xv.mean()), float(yv.mean())
    with style_context():
        created = ax is None
        fig, ax = new_axes(ax, (MAX_FIG_WIDTH, 5.0))
        means_x = ax.axvline(x_mean, color=GREY, linestyle="--", linewidth=1.2,
                             label=f"Overall mean of {x} ({x_mean:.2f})", zorder=1)
        means_y = ax.axhline(y_mean, color=GREY, linestyle=(0, (5, 2, 1, 2)), linewidth=1.2,
                             label=f"Overall mean of {y} ({y_mean:.2f})", zorder=1)
        bins = ax.errorbar(
            stats["x"], stats["mean"], yerr=half_width, fmt="o", color=BLUE,
            markersize=6.5, elinewidth=1.6, markeredgecolor="white", markeredgewidth=0.8,
            label=f"Mean of {y} in {len(stats)} quantile bins of {x} (±95% interval)",
            zorder=3,
        )
        if parsed_line is not None:
            a, b, c, lab = parsed_line
            st = pooling_style(lab, index=1)
            fit = ax.axline((c, a), slope=b, color=st["color"], linestyle=st["linestyle"],
                            linewidth=2.0, label=lab, zorder=2)
        ax.set_xlabel(x_label or axis_label(x))
        ax.set_ylabel(y_label or axis_label(y))
        ax.set_title(
            title or f"{sentence(short_name(y))} by {short_name(x)}: binned means with 95% intervals"
        )
        # legend, column by column: bin means and fitted line, then the reference lines
        handles = [bins, fit, means_x, means_y] if parsed_line else [bins, means_x, means_y]
        add_legend(fig, ax, handles, created, ncols=2)
        fit_to_figure(fig)
    return fig, ax
