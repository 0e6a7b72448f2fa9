"""Every figure on the site.

Each function takes plain inputs (pandas DataFrames, numbers, ArviZ ``DataTree`` objects),
draws with the site style (:mod:`pooling.style`) and returns ``(fig, ax)`` or
``(fig, axes)``. Nothing here calls ``plt.show()``: the caller (a chapter or a test) decides
what to do with the figure.

Figures
-------
binned_scatter        quantile-binned means of the outcome against the predictor
caterpillar           group intercepts sorted by posterior mean with HDI bars (one or more models)
pooling_panels        one panel per group: data plus the no / complete / partial pooling lines
shrinkage_plot        no-pooling -> partial-pooling arrows against group size
varying_effects_plot  group intercepts vs slopes, pulled toward the population ellipse
trace_plot, rank_plot, forest_plot, ppc_plot, pair_plot
                      thin wrappers around ArviZ 1.x (``arviz_plots``) with the site style
model_graph           the model as a Graphviz graph

Helpers that turn a posterior into the plain tables the figures take:
``intercept_table``, ``lines_from_posterior``, ``effects_table``, ``population_parameters``.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, FancyArrowPatch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from pooling.columns import check_frame, require_columns, require_finite, require_numeric
from pooling.style import (
    BLACK,
    BLUE,
    BLUISH_GREEN,
    GREY,
    LIGHT_GREY,
    MAX_FIG_WIDTH,
    ORANGE,
    POOLING_COLORS,
    REDDISH_PURPLE,
    SKY_BLUE,
    VERMILLION,
    pooling_style,
    style_context,
)

__all__ = [
    "AXIS_LABELS",
    "EDGE_ATTRS",
    "GRAPH_ATTRS",
    "NODE_ATTRS",
    "PANEL_LABELS",
    "binned_scatter",
    "caterpillar",
    "effects_table",
    "forest_plot",
    "group_predictor_plot",
    "intercept_table",
    "lines_from_posterior",
    "model_graph",
    "pair_plot",
    "place_labels",
    "pooling_panels",
    "population_parameters",
    "ppc_plot",
    "quantile_bins",
    "rank_plot",
    "shrinkage_plot",
    "trace_plot",
    "varying_effects_plot",
]

#: Axis labels (with units or scale) for the columns of the survey and radon data.
AXIS_LABELS: dict[str, str] = {
    "antiauth": "Anti-authoritarian attitudes, antiauth (0–4 index)",
    "china": "Attitude toward China, china (1–5 score)",
    "trade_china": "Trade with China (USD millions)",
    "log_trade_china": "Trade with China (log USD millions)",
    "log_radon": "Radon, log_radon (log pCi/L)",
    "floor": "Floor (0 = basement, 1 = first floor)",
    "log_uranium": "County soil uranium (log ppm)",
}

#: Compact axis labels for small panels (the figure title names the variables in words).
PANEL_LABELS: dict[str, str] = {
    "antiauth": "antiauth (0–4 index)",
    "china": "china (1–5 score)",
    "trade_china": "trade_china (USD millions)",
    "log_trade_china": "log_trade_china (log USD m)",
    "log_radon": "log_radon (log pCi/L)",
    "floor": "floor (0 = basement, 1 = first)",
    "log_uranium": "log_uranium (log ppm)",
}

#: Short names used inside titles.
SHORT_NAMES: dict[str, str] = {
    "antiauth": "anti-authoritarianism",
    "china": "attitude toward China",
    "trade_china": "trade with China",
    "log_trade_china": "log trade with China",
    "log_radon": "log radon",
    "floor": "floor",
    "log_uranium": "log uranium",
}

_DEFAULT_INTERCEPT_LABEL = "Intercept at mean antiauth (china, 1–5 score)"
_DEFAULT_SLOPE_LABEL = "Slope (china points per antiauth point)"


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------
def _axis_label(column: str) -> str:
    return AXIS_LABELS.get(column, column)


def _short(column: str) -> str:
    return SHORT_NAMES.get(column, column)


def _with_n(name: Any, n: int) -> str:
    return f"{name} (N = {int(n):,})"


def _join_labels(labels: Sequence[str]) -> str:
    """'No pooling', 'Complete pooling', 'Partial pooling' -> 'No, complete and partial pooling'."""
    labels = list(labels)
    if labels and all(lab.endswith(" pooling") for lab in labels):
        heads = [lab[: -len(" pooling")] for lab in labels]
        heads = [heads[0]] + [h.lower() for h in heads[1:]]
        if len(heads) == 1:
            return f"{heads[0]} pooling"
        return f"{', '.join(heads[:-1])} and {heads[-1]} pooling"
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


def _new_axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def _figure_legend(fig, handles, *, ncols: int, **kwargs):
    """A legend below the axes, in as many of ``ncols`` columns as fit the figure's width.

    A legend wider than the figure would widen the saved image, and the page would then
    shrink the whole figure, text and all, to fit its column.
    """
    renderer = fig.canvas.get_renderer()
    for n in range(min(ncols, len(handles)), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=n, **kwargs)
        if n == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()
    return legend


def _legend(fig, ax, handles, created: bool, *, ncols: int = 3, title: str | None = None):
    """Below the axes (outside) when this module made the figure; inside otherwise."""
    if created:
        return _figure_legend(fig, handles, ncols=ncols, title=title)
    return ax.legend(handles=handles, loc="best", fontsize=9, title=title)


def _greedy_lines(artist, words: list[str], max_px: float, renderer, along: str) -> list[str]:
    """Words packed into lines no longer than ``max_px`` (first-fit), measured on ``artist``."""
    lines, current = [], words[0]
    for word in words[1:]:
        artist.set_text(f"{current} {word}")
        if getattr(artist.get_window_extent(renderer), along) <= max_px:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def _wrap_to_width(artist, max_px: float, renderer, along: str = "width") -> None:
    """Break a Text artist's text into lines no longer than ``max_px`` display pixels.

    ``along`` is ``"width"`` for horizontal text and ``"height"`` for text rotated by 90
    degrees (a y-axis label). The lines come out about equally long: a two-line title is
    split near its middle rather than leaving one word on the second line.
    """
    text = artist.get_text()
    if not text or "\n" in text:
        return
    full = getattr(artist.get_window_extent(renderer), along)
    if full <= max_px:
        return
    words = text.split(" ")
    lines = _greedy_lines(artist, words, max_px, renderer, along)
    # the narrowest width that still needs no more lines than the first fit
    target = full / len(lines)
    while target < max_px:
        balanced = _greedy_lines(artist, words, target, renderer, along)
        if len(balanced) <= len(lines):
            lines = balanced
            break
        target *= 1.05
    artist.set_text("\n".join(lines))


def _fit_to_figure(fig) -> None:
    """Wrap titles and axis labels that are longer than their space onto more lines.

    Each axes title and x label gets the width of its axes, each y label its height, the
    figure title the width of the figure. Text sticking out of the figure would be kept by
    the saved image, and the page would then shrink the whole figure, text and all, to fit
    its column. Call inside the style context, after everything is drawn.
    """
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        frame = ax.get_window_extent(renderer)
        if ax.get_title():
            _wrap_to_width(ax.title, frame.width, renderer)
        if ax.get_xlabel():
            _wrap_to_width(ax.xaxis.label, frame.width, renderer)
        if ax.get_ylabel():
            _wrap_to_width(ax.yaxis.label, frame.height, renderer, along="height")
    if fig.get_suptitle():
        # calling suptitle again returns the existing title artist
        _wrap_to_width(fig.suptitle(fig.get_suptitle()), 0.96 * fig.bbox.width, renderer)


def _title_join(names: Sequence[str]) -> str:
    """['No pooling', 'Partial pooling'] -> 'No pooling vs partial pooling'."""
    names = [str(n) for n in names]
    return " vs ".join([names[0]] + [n[:1].lower() + n[1:] for n in names[1:]])


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _posterior(idata: Any, func: str):
    """The posterior Dataset of a DataTree / InferenceData-like object, or a Dataset as is."""
    if hasattr(idata, "posterior"):
        post = idata.posterior
        return post.to_dataset() if hasattr(post, "to_dataset") else post
    if hasattr(idata, "data_vars"):
        return idata
    raise TypeError(
        f"{func}: expected an ArviZ DataTree with a posterior group (or an xarray Dataset), "
        f"got {type(idata).__name__}"
    )


def _posterior_var(idata: Any, var: str, func: str):
    post = _posterior(idata, func)
    if var not in post.data_vars:
        raise ValueError(
            f"{func}: the posterior has no variable {var!r}; it has {sorted(post.data_vars)}"
        )
    return post[var]


_SAMPLE_DIMS = ("chain", "draw", "sample")


# Where a point label may go, as (dx, dy) offsets in points from the point, with the text
# alignment that keeps the text on that side; near positions first, then farther ones.
_LABEL_SPOTS: tuple[tuple[float, float, str, str], ...] = tuple(
    (sx * d, sy * d, ha, va)
    for d in (9.0, 22.0, 40.0)
    for sx, sy, ha, va in (
        (1, 0, "left", "center"), (-1, 0, "right", "center"),
        (0, 1, "center", "bottom"), (0, -1, "center", "top"),
        (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
        (1, -1, "left", "top"), (-1, -1, "right", "top"),
    )
)


def _densify_px(segments_px: np.ndarray, step: float = 2.0) -> np.ndarray:
    """Points every ``step`` display pixels along each segment of shape (k, 2, 2)."""
    if len(segments_px) == 0:
        return np.empty((0, 2))
    start, end = segments_px[:, 0, :], segments_px[:, 1, :]
    counts = np.maximum(2, np.ceil(np.hypot(*(end - start).T) / step).astype(int) + 1)
    t = np.concatenate([np.linspace(0.0, 1.0, c) for c in counts])
    which = np.repeat(np.arange(len(segments_px)), counts)
    return start[which] + t[:, None] * (end[which] - start[which])


def place_labels(
    ax,
    labels: Sequence[tuple[str, tuple[float, float]]],
    obstacles: np.ndarray | None = None,
    *,
    segments: np.ndarray | None = None,
    fontsize: float = 10.0,
    fontweight: str = "bold",
    radius: float = 2.5,
) -> list:
    """Label points without covering data, lines, other labels or the axes frame.

    Parameters
    ----------
    labels : ``(text, (x, y))`` pairs in data coordinates, placed in this order.
    obstacles : array of shape (k, 2): data coordinates of points a label must not cover
        (markers; a curve given as many points along it).
    segments : array of shape (m, 2, 2): straight lines a label must not cross, each as
        ``[(x0, y0), (x1, y1)]`` in data coordinates (arrows, reference lines).
    radius : how far, in points, a label keeps clear of each obstacle.

    Each label tries the spots in ``_LABEL_SPOTS`` (right, left, above, below, the diagonals,
    then the same farther out) and takes the one with the smallest overlap with the
    obstacles, the labels placed before it, a legend inside the axes and the area outside
    the axes, measured in display pixels with ``Text.get_window_extent``; nearer spots win
    ties. A label placed away from its point gets a thin leader line. Labels are left out of
    the layout, so placing them never resizes the axes. Call after everything else is drawn
    and the axis limits are final.

    Returns the list of ``matplotlib.text.Annotation`` objects, one per label.
    """
    fig = ax.figure
    fig.draw_without_rendering()  # run the layout engine: positions are final from here
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    pts = np.empty((0, 2)) if obstacles is None else np.asarray(obstacles, dtype=float)
    pts = pts[np.isfinite(pts).all(axis=1)] if len(pts) else pts
    pix = ax.transData.transform(pts) if len(pts) else np.empty((0, 2))
    if segments is not None and len(segments):
        seg = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
        seg = seg[np.isfinite(seg).all(axis=(1, 2))]
        seg_px = ax.transData.transform(seg.reshape(-1, 2)).reshape(-1, 2, 2)
        pix = np.vstack([pix, _densify_px(seg_px)])
    clear = radius * fig.dpi / 72.0
    legend = ax.get_legend()  # a legend inside the axes is kept clear too
    placed_boxes = [legend.get_window_extent(renderer)] if legend is not None else []
    style = dict(textcoords="offset points", fontsize=fontsize, fontweight=fontweight,
                 color=BLACK, zorder=6)
    artists = []
    for text, (x, y) in labels:
        best = None
        for dx, dy, ha, va in _LABEL_SPOTS:
            ann = ax.annotate(text, xy=(x, y), xytext=(dx, dy), ha=ha, va=va, **style)
            box = ann.get_window_extent(renderer)
            ann.remove()
            inside = ((pix[:, 0] > box.x0 - clear) & (pix[:, 0] < box.x1 + clear)
                      & (pix[:, 1] > box.y0 - clear) & (pix[:, 1] < box.y1 + clear))
            clash = sum(max(0.0, min(box.x1, b.x1) - max(box.x0, b.x0))
                        * max(0.0, min(box.y1, b.y1) - max(box.y0, b.y0)) for b in placed_boxes)
            out_w = max(0.0, frame.x0 - box.x0) + max(0.0, box.x1 - frame.x1)
            out_h = max(0.0, frame.y0 - box.y0) + max(0.0, box.y1 - frame.y1)
            cost = (20.0 * int(inside.sum()) + 10.0 * clash
                    + 3.0 * (out_w * box.height + out_h * box.width)
                    + 0.5 * max(abs(dx), abs(dy)))  # nearer is better when all else is equal
            if best is None or cost < best[0]:
                best = (cost, dx, dy, ha, va, box)
        _, dx, dy, ha, va, box = best
        far = max(abs(dx), abs(dy)) > 10
        ann = ax.annotate(
            text, xy=(x, y), xytext=(dx, dy), ha=ha, va=va, **style,
            arrowprops=dict(arrowstyle="-", color=GREY, linewidth=0.8, shrinkA=0,
                            shrinkB=3) if far else None,
        )
        ann.set_in_layout(False)
        placed_boxes.append(box)
        artists.append(ann)
    return artists


# ------------------------------------------------------------------------------------------
# 1. binned scatter
# ------------------------------------------------------------------------------------------
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
        fig, ax = _new_axes(ax, (MAX_FIG_WIDTH, 5.0))
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
        ax.set_xlabel(x_label or _axis_label(x))
        ax.set_ylabel(y_label or _axis_label(y))
        ax.set_title(
            title or f"{_sentence(_short(y))} by {_short(x)}: binned means with 95% intervals"
        )
        # legend, column by column: bin means and fitted line, then the reference lines
        handles = [bins, fit, means_x, means_y] if parsed_line else [bins, means_x, means_y]
        _legend(fig, ax, handles, created, ncols=2)
        _fit_to_figure(fig)
    return fig, ax


# ------------------------------------------------------------------------------------------
# 2. caterpillar
# ------------------------------------------------------------------------------------------
def intercept_table(
    idata: Any, var: str = "alpha", group_dim: str = "country", hdi_prob: float = 0.94
) -> pd.DataFrame:
    """Posterior mean and HDI of a group-indexed variable, one row per group.

    Parameters
    ----------
    idata : ArviZ DataTree (with a ``posterior`` group) or the posterior xarray Dataset.
    var : variable with dims ``(chain, draw, group_dim)``.
    hdi_prob : probability mass of the highest-density interval (the site uses 0.94).

    Returns
    -------
    DataFrame indexed by group (index name ``group_dim``) with columns ``mean``,
    ``hdi_low``, ``hdi_high``.
    """
    import arviz_stats as azs

    func = "intercept_table"
    if not 0 < hdi_prob < 1:
        raise ValueError(f"{func}: `hdi_prob` must be between 0 and 1, got {hdi_prob}")
    da = _posterior_var(idata, var, func)
    if group_dim not in da.dims:
        raise ValueError(
            f"{func}: variable {var!r} has dims {da.dims}, not the group dim {group_dim!r}"
        )
    sample_dims = [d for d in da.dims if d in _SAMPLE_DIMS]
    extra = [d for d in da.dims if d not in sample_dims and d != group_dim]
    if extra:
        raise ValueError(
            f"{func}: variable {var!r} has extra dims {extra}; select one value of each first"
        )
    mean = da.mean(dim=sample_dims)
    hdi = azs.hdi(da, prob=hdi_prob, dim=sample_dims)
    bound = [d for d in hdi.dims if d != group_dim][0]
    table = pd.DataFrame(
        {
            "mean": mean.to_series(),
            "hdi_low": hdi.isel({bound: 0}).to_series(),
            "hdi_high": hdi.isel({bound: 1}).to_series(),
        }
    )
    table.index = pd.Index([str(i) for i in table.index], name=group_dim)
    return table


def _check_estimates(df: Any, name: str) -> pd.DataFrame:
    func = "caterpillar"
    check_frame(df, name, where=func)
    cols = ["mean", "hdi_low", "hdi_high"]
    require_columns(df, cols, name, where=func)
    require_numeric(df, cols, name, where=func)
    require_finite(df, cols, name, where=func)
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()][0]
        raise ValueError(f"{func}: `{name}` has a duplicated group {dup!r} in its index")
    bad = df["hdi_low"] > df["hdi_high"]
    if bad.any():
        raise ValueError(
            f"{func}: `{name}` has hdi_low > hdi_high for group(s) {list(df.index[bad])}"
        )
    return df


def caterpillar(
    estimates: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    sizes: Mapping[Any, int] | pd.Series | None = None,
    label: str = _DEFAULT_INTERCEPT_LABEL,
    group_label: str = "Country",
    reference: float | None = None,
    reference_label: str = "Overall mean",
    hdi_prob: float = 0.94,
    sort_by: str | None = None,
    title: str | None = None,
    ax=None,
):
    """Group estimates sorted by posterior mean, with HDI bars: one row per group.

    Parameters
    ----------
    estimates : DataFrame indexed by group with columns ``mean``, ``hdi_low``, ``hdi_high``
        (see :func:`intercept_table`), or a dict ``{model label: DataFrame}`` to overlay
        several models (e.g. ``{"No pooling": df1, "Partial pooling": df2}``); their rows are
        dodged vertically within each group's row. All tables must hold the same groups.
    sizes : group -> number of observations; shown in the tick labels ("Zudan (N = 4)").
    label : x-axis label (what the estimate is, with its scale).
    reference : optional value for a vertical reference line (e.g. the overall mean).
    hdi_prob : only used in the default title and legend text.
    sort_by : which model's means set the order (default: the first).

    Groups run up the y axis, lowest mean at the bottom, one row each; when this function
    creates the figure, its height grows with the number of groups so 35+ labels never
    overlap.

    Returns
    -------
    (fig, ax)
    """
    func = "caterpillar"
    if isinstance(estimates, pd.DataFrame):
        models = {"": _check_estimates(estimates, "estimates")}
    elif isinstance(estimates, Mapping):
        if not estimates:
            raise ValueError(f"{func}: `estimates` is an empty dict; there is nothing to plot")
        models = {str(k): _check_estimates(v, f"estimates[{k!r}]") for k, v in estimates.items()}
    else:
        raise TypeError(
            f"{func}: `estimates` must be a DataFrame or a dict of DataFrames, "
            f"got {type(estimates).__name__}"
        )
    names = list(models)
    sort_key = names[0] if sort_by is None else sort_by
    if sort_key not in models:
        raise ValueError(f"{func}: `sort_by`={sort_by!r} is not one of the models {names}")
    groups = set(models[sort_key].index)
    for name, df in models.items():
        if set(df.index) != groups:
            only_here = sorted(map(str, set(df.index) - groups))
            missing = sorted(map(str, groups - set(df.index)))
            raise ValueError(
                f"{func}: model {name!r} does not have the same groups as {sort_key!r} "
                f"(missing {missing}, extra {only_here})"
            )
    order = list(models[sort_key].sort_values("mean", kind="stable").index)
    n_groups = len(order)

    if sizes is not None:
        sizes = pd.Series(sizes) if not isinstance(sizes, pd.Series) else sizes
        missing = [g for g in order if g not in sizes.index]
        if missing:
            raise ValueError(f"{func}: `sizes` has no count for group(s) {missing}")
        tick_labels = [_with_n(g, sizes[g]) for g in order]
    else:
        tick_labels = [str(g) for g in order]

    n_models = len(models)
    offsets = np.linspace(-0.17, 0.17, n_models) if n_models > 1 else np.zeros(1)
    row_height = 0.26 if n_models == 1 else 0.32
    pct = f"{hdi_prob:.0%}"
    with style_context():
        created = ax is None
        fig, ax = _new_axes(ax, (MAX_FIG_WIDTH, max(3.4, 2.1 + row_height * n_groups)))
        ypos = np.arange(n_groups, dtype=float)
        handles = []
        thin = n_groups > 25
        for i, (name, df) in enumerate(models.items()):
            st = pooling_style(name, index=i) if name else pooling_style("", index=0)
            df = df.loc[order]
            yy = ypos + offsets[i]
            ax.hlines(yy, df["hdi_low"], df["hdi_high"], color=st["color"],
                      linewidth=1.6 if thin else 2.2, alpha=0.9, zorder=2)
            ax.plot(df["mean"], yy, linestyle="none", marker=st["marker"], color=st["color"],
                    markersize=5 if thin else 6.5, markeredgecolor="white",
                    markeredgewidth=0.7, zorder=3)
            handles.append(Line2D([], [], color=st["color"], marker=st["marker"],
                                  markeredgecolor="white", linewidth=2.2,
                                  label=f"{name}: mean and {pct} HDI" if name and n_models == 1
                                  else (name or f"Posterior mean and {pct} HDI")))
        if reference is not None:
            ref = float(reference)
            handles.append(ax.axvline(ref, color=GREY, linestyle="--", linewidth=1.2, zorder=1,
                                      label=f"{reference_label} ({ref:.2f})"))
        ax.set_yticks(ypos, tick_labels)
        ax.set_ylim(-0.7, n_groups - 0.3)
        ax.margins(x=0.04)  # no mark on the frame
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(label)
        ax.set_ylabel(f"{group_label} (number of observations)" if sizes is not None
                      else group_label)
        if title is None:
            if n_models > 1:
                title = f"{_title_join(names)}: {group_label.lower()} intercepts, {pct} HDIs"
            else:
                title = f"{group_label} intercepts sorted by posterior mean, with {pct} HDIs"
        ax.set_title(title)
        if n_models > 1 or reference is not None:
            _legend(fig, ax, handles, created)
        _fit_to_figure(fig)
    return fig, ax


# ------------------------------------------------------------------------------------------
# 3. pooling panels
# ------------------------------------------------------------------------------------------
def lines_from_posterior(
    idata: Any,
    *,
    x_center: float | Mapping[Any, float] | pd.Series | None = None,
    intercept: str = "alpha",
    slope: str = "beta",
    group_dim: str = "country",
) -> pd.DataFrame | tuple[float, float, float]:
    """Posterior-mean regression lines in the form :func:`pooling_panels` takes.

    Parameters
    ----------
    idata : ArviZ DataTree or posterior Dataset.
    x_center : the value of the predictor at which ``intercept`` applies (the models centre
        the predictor): one number (overall mean) or group -> number (each group's own mean,
        for the no-pooling model with varying slopes). Default: read from the posterior's
        ``constant_data`` (``predictor_group_mean`` if present, else ``predictor_mean``), where
        the ``pooling.models`` builders store it.
    intercept, slope : variable names; each either scalar or with dim ``group_dim``.

    Returns
    -------
    ``(intercept, slope, x_center)`` if both variables are scalars (complete pooling);
    otherwise a DataFrame indexed by group with columns ``intercept``, ``slope``, ``x_center``.
    """
    func = "lines_from_posterior"
    if x_center is None:
        x_center = _stored_center(idata, group_dim, func)
    means = {}
    for key, var in (("intercept", intercept), ("slope", slope)):
        da = _posterior_var(idata, var, func)
        sample_dims = [d for d in da.dims if d in _SAMPLE_DIMS]
        m = da.mean(dim=sample_dims)
        if m.ndim == 0:
            means[key] = float(m)
        elif m.dims == (group_dim,):
            means[key] = pd.Series(m.values, index=[str(v) for v in m[group_dim].values])
        else:
            raise ValueError(
                f"{func}: variable {var!r} has dims {m.dims}; expected none or ({group_dim!r},)"
            )
    if all(np.isscalar(v) for v in means.values()) and np.isscalar(x_center):
        return (means["intercept"], means["slope"], float(x_center))
    index = next(v.index for v in means.values() if isinstance(v, pd.Series)) if any(
        isinstance(v, pd.Series) for v in means.values()
    ) else pd.Index(pd.Series(x_center).index.astype(str))
    table = pd.DataFrame(index=pd.Index(index, name=group_dim))
    for key, v in means.items():
        table[key] = v if isinstance(v, pd.Series) else float(v)
    if np.isscalar(x_center):
        table["x_center"] = float(x_center)
    else:
        centers = pd.Series(x_center)
        centers.index = centers.index.astype(str)
        missing = [g for g in table.index if g not in centers.index]
        if missing:
            raise ValueError(f"{func}: `x_center` has no value for group(s) {missing}")
        table["x_center"] = centers.reindex(table.index).astype(float)
    return table


def _stored_center(idata: Any, group_dim: str, func: str):
    const = None
    if hasattr(idata, "children") and "constant_data" in idata.children:
        const = idata["constant_data"].to_dataset()
    if const is not None and "predictor_group_mean" in const:
        da = const["predictor_group_mean"]
        return pd.Series(da.values, index=[str(v) for v in da[group_dim].values])
    if const is not None and "predictor_mean" in const:
        return float(const["predictor_mean"].values)
    raise ValueError(
        f"{func}: pass `x_center`: the posterior has no constant_data['predictor_mean'] "
        "(models built with pooling.models store it)"
    )


def _line_for(table: Any, grp: Any, label: str) -> tuple[float, float, float]:
    func = "pooling_panels"
    if isinstance(table, pd.DataFrame):
        require_columns(table, ["intercept", "slope", "x_center"], f"lines[{label!r}]", where=func)
        key = grp if grp in table.index else str(grp)
        if key not in table.index:
            raise ValueError(f"{func}: lines[{label!r}] has no row for group {grp!r}")
        row = table.loc[key]
        values = (row["intercept"], row["slope"], row["x_center"])
    elif isinstance(table, Mapping):
        key = grp if grp in table else str(grp)
        if key not in table:
            raise ValueError(f"{func}: lines[{label!r}] has no entry for group {grp!r}")
        values = table[key]
        if isinstance(values, Mapping):
            values = (values["intercept"], values["slope"], values["x_center"])
    elif isinstance(table, Sequence) and not isinstance(table, str):
        values = table  # one line shared by every group (complete pooling)
    else:
        raise TypeError(
            f"{func}: lines[{label!r}] must be a DataFrame (intercept, slope, x_center by "
            f"group), a dict group -> (intercept, slope, x_center), or one such tuple; "
            f"got {type(table).__name__}"
        )
    try:
        a, b, c = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"{func}: lines[{label!r}] for group {grp!r} must be three numbers "
            f"(intercept, slope, x_center), got {values!r}"
        ) from None
    return a, b, c


def _jitter_width(values: np.ndarray) -> float:
    uniq = np.unique(values[np.isfinite(values)])
    if len(uniq) < 2:
        return 0.0
    step = float(np.min(np.diff(uniq)))
    span = float(uniq[-1] - uniq[0])
    # discrete scales (e.g. steps of 0.25) get jitter; continuous ones essentially none
    return 0.35 * step if step > span / 200 else 0.0


def pooling_panels(
    data: pd.DataFrame,
    lines: Mapping[str, Any],
    groups: Sequence[Any],
    *,
    x: str = "antiauth",
    y: str = "china",
    group: str = "country_name",
    ncols: int = 3,
    x_range: tuple[float, float] | None = None,
    show_points: bool = True,
    x_label: str | None = None,
    y_label: str | None = None,
    title: str | None = None,
    seed: int = 0,
    ax=None,
):
    """One panel per group: its data and one regression line per model.

    Parameters
    ----------
    data : DataFrame with columns ``x``, ``y`` (numeric) and ``group``.
    lines : ``{label: table}``, drawn in this order. Labels "No pooling", "Complete pooling"
        and "Partial pooling" get the site's fixed colours and line styles. Each table gives,
        per group, ``(intercept, slope, x_center)`` for the line
        ``y = intercept + slope * (x - x_center)``, as

        * a DataFrame indexed by group with columns ``intercept``, ``slope``, ``x_center``
          (see :func:`lines_from_posterior`),
        * a dict ``group -> (intercept, slope, x_center)``, or
        * a single tuple ``(intercept, slope, x_center)`` shared by all groups
          (complete pooling).
    groups : the groups to show, in panel order (e.g. Nigeria, Tanzania, Tunisia, Zimbabwe,
        Zudan, Zudania).
    x_range : x interval for the lines; defaults to the range of ``x`` in ``data``.
    show_points : draw each group's observations, jittered (discrete scales) and
        semi-transparent (more transparent for bigger groups).
    ax : optional array of at least ``len(groups)`` axes to draw into.

    Panel titles give the group size ("Zudan (N = 4)"); axes are shared. One legend for the
    whole figure.

    Returns
    -------
    (fig, axes) with ``axes`` a flat numpy array of the panels used.
    """
    func = "pooling_panels"
    check_frame(data, "data", where=func)
    require_columns(data, [x, y, group], "data", where=func)
    require_numeric(data, [x, y], "data", where=func)
    if not isinstance(lines, Mapping) or not lines:
        raise ValueError(f"{func}: `lines` must be a non-empty dict {{label: per-group lines}}")
    if isinstance(groups, str) or not isinstance(groups, Sequence) or not groups:
        raise ValueError(f"{func}: `groups` must be a non-empty list of group names")
    if len(set(groups)) != len(groups):
        raise ValueError(f"{func}: `groups` has duplicates: {list(groups)}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"{func}: `ncols` must be a positive integer, got {ncols!r}")
    present = set(pd.unique(data[group].astype(str)))
    for g in groups:
        if str(g) not in present:
            known = sorted(present)
            shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            raise ValueError(
                f"{func}: group {g!r} is not in column {group!r} of the data (it has {shown})"
            )
    # resolve every line first so a missing entry fails before drawing anything
    resolved = {label: [_line_for(table, g, str(label)) for g in groups]
                for label, table in lines.items()}

    xv_all = data[x].to_numpy(dtype=float)
    yv_all = data[y].to_numpy(dtype=float)
    if x_range is None:
        x_range = (float(np.nanmin(xv_all)), float(np.nanmax(xv_all)))
    xs = np.linspace(float(x_range[0]), float(x_range[1]), 100)
    jx, jy = _jitter_width(xv_all), _jitter_width(yv_all)
    rng = np.random.default_rng(seed)

    n_panels = len(groups)
    with style_context():
        created = ax is None
        if created:
            ncols_used = min(int(ncols), n_panels)
            nrows = math.ceil(n_panels / ncols_used)
            # the figure is one page column wide, so its text is shown at full size
            panel_height = float(np.clip(0.85 * (MAX_FIG_WIDTH - 0.7) / ncols_used, 1.9, 2.9))
            fig, grid = plt.subplots(
                nrows, ncols_used, sharex=True, sharey=True, squeeze=False,
                figsize=(MAX_FIG_WIDTH, panel_height * nrows + 1.4),
            )
            all_axes = grid.ravel()
            for extra in all_axes[n_panels:]:
                extra.set_visible(False)
        else:
            all_axes = np.asarray(ax, dtype=object).ravel()
            if len(all_axes) < n_panels:
                raise ValueError(
                    f"{func}: got {len(all_axes)} axes for {n_panels} groups; pass at least "
                    "one axes per group"
                )
            fig = all_axes[0].figure
            ncols_used = len(all_axes) if np.ndim(ax) < 2 else np.shape(ax)[1]
        axes = all_axes[:n_panels]

        for k, (g, panel) in enumerate(zip(groups, axes)):
            mask = (data[group].astype(str) == str(g)).to_numpy()
            n = int(mask.sum())
            if show_points:
                px = xv_all[mask] + rng.uniform(-jx, jx, n)
                py = yv_all[mask] + rng.uniform(-jy, jy, n)
                alpha = float(np.clip(5.0 / np.sqrt(n), 0.06, 0.6))
                size = float(np.clip(60.0 / np.sqrt(n), 8.0, 30.0))
                panel.scatter(px, py, s=size, color=GREY, alpha=alpha, linewidths=0, zorder=1,
                              rasterized=n > 500)
            for i, (label, per_group) in enumerate(resolved.items()):
                a, b, c = per_group[k]
                st = pooling_style(str(label), index=i)
                solid = st["linestyle"] == "-"
                # solid lines underneath and wider, so a dashed line on top stays visible
                # when two models agree (e.g. a large group's no- and partial-pooling lines)
                panel.plot(xs, a + b * (xs - c), color=st["color"], linestyle=st["linestyle"],
                           linewidth=3.0 if solid else 2.2, label=str(label),
                           zorder=3 + i + (0 if solid else 10))
            panel.set_title(_with_n(g, n), **({"fontsize": 11} if ncols_used >= 3 else {}))
            if created:
                # outer panels only: the bottom panel of each column and the first column
                if k + ncols_used >= n_panels:
                    panel.tick_params(labelbottom=True)
                    panel.set_xlabel(x_label or PANEL_LABELS.get(x, x))
                if k % ncols_used == 0:
                    panel.set_ylabel(y_label or PANEL_LABELS.get(y, y))
            else:
                panel.set_xlabel(x_label or _axis_label(x))
                panel.set_ylabel(y_label or _axis_label(y))
        if show_points:
            pad = max(jy, 0.05 * float(np.nanmax(yv_all) - np.nanmin(yv_all)))
            axes[0].set_ylim(float(np.nanmin(yv_all)) - pad, float(np.nanmax(yv_all)) + pad)
        axes[0].set_xlim(float(x_range[0]) - max(jx, 0.0), float(x_range[1]) + max(jx, 0.0))

        handles, labels = axes[0].get_legend_handles_labels()
        if title is None:
            title = f"{_join_labels([str(k) for k in lines])} lines: {y} against {x}"
        if created:
            fig.suptitle(title)
            _figure_legend(fig, handles, labels=labels, ncols=len(labels), fontsize=11,
                           handlelength=3.2)
        else:
            axes[0].legend(handles, labels, fontsize=9)
        _fit_to_figure(fig)
    return fig, axes


# ------------------------------------------------------------------------------------------
# 4. shrinkage
# ------------------------------------------------------------------------------------------
def _thousands(value: float, _pos=None) -> str:
    if value <= 0:
        return ""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def shrinkage_plot(
    table: pd.DataFrame,
    *,
    highlight: Sequence[Any] | None = None,
    x_label: str = "Group size: observations per country (N, log scale)",
    y_label: str = _DEFAULT_INTERCEPT_LABEL,
    reference_label: str = "Complete pooling",
    title: str | None = None,
    ax=None,
):
    """Arrows from each group's no-pooling estimate to its partial-pooling estimate.

    Parameters
    ----------
    table : DataFrame indexed by group with columns ``n``, ``no_pooling``,
        ``partial_pooling``, ``complete_pooling`` (the output of
        ``pooling.shrinkage.group_estimates``). ``complete_pooling`` is the overall estimate,
        the same on every row; a horizontal line marks it.
    highlight : groups to label on the plot (e.g. ``["Zudan", "Zudania"]``), with their size;
        each label goes where it covers no marker, arrow or line (:func:`place_labels`).
    reference_label : legend name of the horizontal line, followed by its value.

    x is the group size on a log scale: small groups travel far toward the overall line,
    large groups barely move.

    Returns
    -------
    (fig, ax)
    """
    func = "shrinkage_plot"
    cols = ["n", "no_pooling", "partial_pooling", "complete_pooling"]
    check_frame(table, "table", where=func)
    require_columns(table, cols, "table", where=func)
    require_numeric(table, cols, "table", where=func)
    require_finite(table, cols, "table", where=func)
    if (table["n"] <= 0).any():
        bad = list(table.index[table["n"] <= 0])
        raise ValueError(f"{func}: column 'n' must be positive (group sizes); not for {bad}")
    highlight = list(highlight or [])
    missing = [g for g in highlight if g not in table.index]
    if missing:
        raise ValueError(f"{func}: highlighted group(s) {missing} are not in the table's index")

    n = table["n"].to_numpy(dtype=float)
    no = table["no_pooling"].to_numpy(dtype=float)
    pp = table["partial_pooling"].to_numpy(dtype=float)
    overall = float(table["complete_pooling"].mean())
    no_st, pp_st, cp_st = (pooling_style(k) for k in
                           ("No pooling", "Partial pooling", "Complete pooling"))
    with style_context():
        created = ax is None
        fig, ax = _new_axes(ax, (MAX_FIG_WIDTH, 5.2))
        ax.set_xscale("log")
        lo, hi = float(n.min()), float(n.max())
        ax.set_xlim(lo / 1.8, hi * 1.8)
        y_all = np.concatenate([no, pp, [overall]])
        pad = 0.08 * max(float(np.ptp(y_all)), 1e-9)
        ax.set_ylim(float(y_all.min()) - pad, float(y_all.max()) + pad)
        cp_line = ax.axhline(overall, color=cp_st["color"], linestyle=cp_st["linestyle"],
                             linewidth=1.8, zorder=1, label=f"{reference_label} ({overall:.2f})")
        # arrow length in points, to drop the head where it would not fit between markers
        y_lo, y_hi = ax.get_ylim()
        axes_height_pts = ax.get_position().height * fig.get_figheight() * 72
        for xi, y0, y1 in zip(n, no, pp):
            length_pts = abs(y1 - y0) / (y_hi - y_lo) * axes_height_pts
            long_arrow = length_pts > 12
            ax.add_patch(FancyArrowPatch(
                (xi, y0), (xi, y1), arrowstyle="-|>" if long_arrow else "-",
                mutation_scale=10, color=GREY, linewidth=1.2,
                shrinkA=3.5 if long_arrow else 0, shrinkB=3.5 if long_arrow else 0, zorder=2,
            ))
        h_no = ax.scatter(n, no, s=36, facecolors="white", edgecolors=no_st["color"],
                          linewidths=1.5, marker=no_st["marker"], zorder=3, label="No pooling")
        h_pp = ax.scatter(n, pp, s=30, color=pp_st["color"], marker=pp_st["marker"],
                          edgecolors="white", linewidths=0.5, zorder=4, label="Partial pooling")
        arrow_proxy = Line2D([], [], color=GREY, linewidth=1.2, marker=">", markersize=5,
                             label="Shrinkage (no → partial pooling)")
        _legend(fig, ax, [h_no, h_pp, cp_line, arrow_proxy], created, ncols=2)
        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title or "Partial pooling pulls small groups toward the overall estimate")
        _fit_to_figure(fig)
        if highlight:
            markers = np.vstack([np.column_stack([n, no]), np.column_stack([n, pp])])
            arrows = np.stack([np.column_stack([n, no]), np.column_stack([n, pp])], axis=1)
            x_lo, x_hi = ax.get_xlim()
            reference = np.array([[[x_lo, overall], [x_hi, overall]]])
            place_labels(ax, [(_with_n(g, table.loc[g, "n"]),
                               (table.loc[g, "n"],
                                (table.loc[g, "no_pooling"] + table.loc[g, "partial_pooling"]) / 2))
                              for g in highlight],
                         markers, segments=np.concatenate([arrows, reference]))
    return fig, ax


# ------------------------------------------------------------------------------------------
# 5. varying effects
# ------------------------------------------------------------------------------------------
def effects_table(
    idata: Any, var_names: Sequence[str] = ("alpha", "beta"), group_dim: str = "country"
) -> pd.DataFrame:
    """Posterior means of group-indexed variables: DataFrame indexed by group, one column each.

    Scalar variables (e.g. a common ``beta``) are broadcast to every group.
    """
    func = "effects_table"
    cols: dict[str, Any] = {}
    index = None
    for var in var_names:
        da = _posterior_var(idata, var, func)
        m = da.mean(dim=[d for d in da.dims if d in _SAMPLE_DIMS])
        if m.ndim == 0:
            cols[var] = float(m)
        elif m.dims == (group_dim,):
            cols[var] = m.values
            index = [str(v) for v in m[group_dim].values]
        else:
            raise ValueError(f"{func}: {var!r} has dims {m.dims}; expected () or ({group_dim!r},)")
    if index is None:
        raise ValueError(f"{func}: none of {list(var_names)} has the group dim {group_dim!r}")
    return pd.DataFrame(cols, index=pd.Index(index, name=group_dim))


def population_parameters(
    idata: Any,
    names: Sequence[str] = ("mu_alpha", "mu_beta", "sigma_alpha", "sigma_beta", "rho"),
) -> dict[str, float]:
    """Posterior means of the population-level parameters of the varying-slopes model."""
    out = {}
    for var in names:
        da = _posterior_var(idata, var, "population_parameters")
        if set(da.dims) - set(_SAMPLE_DIMS):
            raise ValueError(f"population_parameters: {var!r} is not a scalar (dims {da.dims})")
        out[var] = float(da.mean())
    return out


def _ellipse_patches(pop: Mapping[str, float], levels: Sequence[float]) -> list[Ellipse]:
    func = "varying_effects_plot"
    keys = ("mu_alpha", "mu_beta", "sigma_alpha", "sigma_beta", "rho")
    missing = [k for k in keys if k not in pop]
    if missing:
        raise ValueError(f"{func}: `population` is missing {missing}; it needs {list(keys)}")
    mu_a, mu_b, s_a, s_b, rho = (float(pop[k]) for k in keys)
    if not (s_a > 0 and s_b > 0):
        raise ValueError(f"{func}: sigma_alpha and sigma_beta must be positive, got {s_a}, {s_b}")
    if not -1 < rho < 1:
        raise ValueError(f"{func}: rho must be strictly between -1 and 1, got {rho}")
    cov = np.array([[s_a**2, rho * s_a * s_b], [rho * s_a * s_b, s_b**2]])
    vals, vecs = np.linalg.eigh(cov)
    angle = float(np.degrees(np.arctan2(vecs[1, -1], vecs[0, -1])))
    patches = []
    for i, p in enumerate(sorted(levels)):
        if not 0 < p < 1:
            raise ValueError(f"{func}: ellipse levels must be in (0, 1), got {p}")
        r = math.sqrt(-2.0 * math.log(1.0 - p))  # chi-square(2) quantile, square-rooted
        patches.append(Ellipse(
            (mu_a, mu_b), width=2 * r * math.sqrt(vals[-1]), height=2 * r * math.sqrt(vals[0]),
            angle=angle, fill=False, edgecolor=BLACK, linewidth=1.3,
            linestyle="-" if i == 0 else "--", zorder=1,
            label=f"{p:.0%} population contour",
        ))
    return patches


def varying_effects_plot(
    no_pooling: pd.DataFrame,
    partial_pooling: pd.DataFrame,
    *,
    population: Mapping[str, float] | None = None,
    levels: Sequence[float] = (0.5, 0.89),
    highlight: Sequence[Any] | None = None,
    x_label: str = _DEFAULT_INTERCEPT_LABEL,
    y_label: str = _DEFAULT_SLOPE_LABEL,
    title: str | None = None,
    ax=None,
):
    """Group intercepts against slopes, no pooling vs partial pooling.

    Parameters
    ----------
    no_pooling, partial_pooling : DataFrames indexed by group with columns ``alpha``
        (intercept) and ``beta`` (slope), e.g. from :func:`effects_table`; same groups.
    population : optional dict with ``mu_alpha``, ``mu_beta``, ``sigma_alpha``,
        ``sigma_beta``, ``rho`` (e.g. :func:`population_parameters`); draws contours of the
        bivariate normal population distribution at ``levels`` and a cross at its mean.
    highlight : groups to label.

    A grey segment joins each group's two estimates, showing how far partial pooling pulled
    it toward the population.

    Returns
    -------
    (fig, ax)
    """
    return _effects_figure(
        no_pooling, partial_pooling, population=population, levels=levels,
        highlight=highlight, x_label=x_label, y_label=y_label,
        title=title or "Partial pooling pulls intercepts and slopes toward the population",
        ax=ax, func="varying_effects_plot",
    )


def _ellipse_outline(patch: Ellipse, n: int = 72) -> np.ndarray:
    """Points along an ellipse patch's outline, in data coordinates: shape (n, 2)."""
    t = np.linspace(0.0, 2.0 * np.pi, n)
    u, v = patch.width / 2 * np.cos(t), patch.height / 2 * np.sin(t)
    c, s = np.cos(np.radians(patch.angle)), np.sin(np.radians(patch.angle))
    cx, cy = patch.center
    return np.column_stack([cx + c * u - s * v, cy + s * u + c * v])


def _effects_figure(no_pooling, partial_pooling, *, population, levels, highlight, x_label,
                    y_label, title, ax, func, line=None):
    """Shared body of varying_effects_plot and group_predictor_plot (``line``: the latter)."""
    for name, df in (("no_pooling", no_pooling), ("partial_pooling", partial_pooling)):
        check_frame(df, name, where=func)
        require_columns(df, ["alpha", "beta"], name, where=func)
        require_numeric(df, ["alpha", "beta"], name, where=func)
        require_finite(df, ["alpha", "beta"], name, where=func)
    if set(no_pooling.index) != set(partial_pooling.index):
        diff = sorted(map(str, set(no_pooling.index) ^ set(partial_pooling.index)))
        raise ValueError(f"{func}: the two tables must hold the same groups; differ on {diff}")
    highlight = list(highlight or [])
    missing = [g for g in highlight if g not in no_pooling.index]
    if missing:
        raise ValueError(f"{func}: highlighted group(s) {missing} are not in the tables")
    patches = _ellipse_patches(population, levels) if population is not None else []

    pp = partial_pooling.loc[no_pooling.index]
    a0, b0 = no_pooling["alpha"].to_numpy(float), no_pooling["beta"].to_numpy(float)
    a1, b1 = pp["alpha"].to_numpy(float), pp["beta"].to_numpy(float)
    no_st, pp_st = pooling_style("No pooling"), pooling_style("Partial pooling")
    with style_context():
        created = ax is None
        fig, ax = _new_axes(ax, (MAX_FIG_WIDTH, 6.2))
        segments = np.stack([np.column_stack([a0, b0]), np.column_stack([a1, b1])], axis=1)
        ax.add_collection(LineCollection(segments, colors=LIGHT_GREY, linewidths=1.2, zorder=2))
        h_no = ax.scatter(a0, b0, s=38, facecolors="white", edgecolors=no_st["color"],
                          linewidths=1.5, marker=no_st["marker"], zorder=3, label="No pooling")
        h_pp = ax.scatter(a1, b1, s=34, color=pp_st["color"], marker=pp_st["marker"],
                          edgecolors="white", linewidths=0.5, zorder=4, label="Partial pooling")
        handles = [h_no, h_pp]
        for patch in patches:
            ax.add_patch(patch)
            handles.append(patch)
        if population is not None:
            handles.append(ax.scatter([population["mu_alpha"]], [population["mu_beta"]],
                                      marker="+", s=140, color=BLACK, linewidths=2, zorder=5,
                                      label="Population mean"))
        if line is not None:
            intercept, slope, center = map(float, line)
            handles.append(ax.axline((center, intercept), slope=slope, color=BLACK,
                                     linewidth=1.5, zorder=1, label="Group-level regression"))
        ax.autoscale_view()
        ax.margins(0.06)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title)
        _legend(fig, ax, handles, created, ncols=3)
        _fit_to_figure(fig)
        if highlight:
            markers = np.vstack([np.column_stack([a0, b0]), np.column_stack([a1, b1])])
            lines = [segments]
            for patch in patches:
                outline = _ellipse_outline(patch)
                lines.append(np.stack([outline[:-1], outline[1:]], axis=1))
            if line is not None:
                xs = np.array(ax.get_xlim())
                lines.append(np.array([np.column_stack([xs, intercept + slope * (xs - center)])]))
            place_labels(ax, [(str(g), (no_pooling.loc[g, "alpha"], no_pooling.loc[g, "beta"]))
                              for g in highlight], markers, segments=np.concatenate(lines))
    return fig, ax


def group_predictor_plot(
    table: pd.DataFrame,
    *,
    predictor: str,
    line: tuple[float, float, float] | None = None,
    no_pooling: str = "no_pooling",
    partial_pooling: str = "partial_pooling",
    highlight: Sequence[Any] | None = None,
    x_label: str | None = None,
    y_label: str = "Group intercept (outcome at the mean predictor)",
    title: str | None = None,
    ax=None,
):
    """Group intercepts against a group-level predictor, no pooling vs partial pooling.

    Parameters
    ----------
    table : DataFrame indexed by group with the group-level predictor (column ``predictor``,
        e.g. ``log_trade_china``) and the no-pooling and partial-pooling intercepts
        (columns ``no_pooling`` and ``partial_pooling``).
    line : optional ``(intercept_at_center, slope, center)`` of the group-level regression,
        e.g. the posterior means of ``gamma_0`` and ``gamma_1`` and the predictor's mean over
        groups; drawn as a black line labelled "Group-level regression".
    highlight : groups to label.

    Each group is a vertical segment from its no-pooling to its partial-pooling intercept
    (the predictor is known exactly; only the intercept moves), so the figure shows each
    group being pulled toward the regression line at its own predictor value.

    Returns
    -------
    (fig, ax)
    """
    func = "group_predictor_plot"
    check_frame(table, "table", where=func)
    columns = [predictor, no_pooling, partial_pooling]
    require_columns(table, columns, "table", where=func)
    require_numeric(table, columns, "table", where=func)
    require_finite(table, columns, "table", where=func)
    before = pd.DataFrame({"alpha": table[predictor], "beta": table[no_pooling]})
    after = pd.DataFrame({"alpha": table[predictor], "beta": table[partial_pooling]})
    return _effects_figure(
        before, after, population=None, levels=(), highlight=highlight,
        x_label=x_label or AXIS_LABELS.get(predictor, predictor), y_label=y_label,
        title=title or "Partial pooling pulls each group toward the group-level regression line",
        ax=ax, func=func, line=line,
    )


# ------------------------------------------------------------------------------------------
# 6. ArviZ wrappers
# ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _arviz_context():
    """Site style, with a smaller base figure size: ArviZ multiplies it by the grid columns."""
    with style_context(), mpl.rc_context({"figure.figsize": (4.6, 4.2), "lines.linewidth": 1.3}):
        yield


def _figure_of(collection) -> Any:
    """The matplotlib Figure behind an arviz_plots PlotCollection / PlotMatrix."""
    return collection.viz["figure"].item()


def _finish(collection, title: str | None):
    fig = _figure_of(collection)
    width, height = fig.get_size_inches()
    if width > MAX_FIG_WIDTH:  # ArviZ sizes by its own rules; keep to one page column
        fig.set_size_inches(MAX_FIG_WIDTH, height)
    if title:
        fig.suptitle(title)
    return fig, np.array(fig.axes, dtype=object)


def _as_list(var_names: str | Sequence[str] | None) -> list[str] | None:
    if var_names is None:
        return None
    return [var_names] if isinstance(var_names, str) else list(var_names)


def _check_vars(idata: Any, var_names: Sequence[str] | None, func: str, group="posterior"):
    if not hasattr(idata, group):
        raise ValueError(f"{func}: the input has no {group!r} group")
    ds = getattr(idata, group)
    if var_names is None:
        return
    names = set(ds.data_vars)
    missing = [v for v in var_names if v.lstrip("~") not in names]
    if missing:
        raise ValueError(f"{func}: no variable(s) {missing} in the {group}; it has {sorted(names)}")


def trace_plot(
    idata: Any,
    var_names: str | Sequence[str] | None = None,
    *,
    coords: Mapping[str, Any] | None = None,
    compact: bool = True,
    title: str | None = "Trace plots: density per chain (left), draws in order (right)",
    **kwargs: Any,
):
    """``arviz_plots.plot_trace_dist``: per-chain densities and traces, divergences marked.

    Returns (fig, axes).
    """
    import arviz_plots as azp

    var_names = _as_list(var_names)
    _check_vars(idata, var_names, "trace_plot")
    with _arviz_context():
        pc = azp.plot_trace_dist(idata, var_names=var_names, coords=coords, compact=compact,
                                 backend="matplotlib", **kwargs)
        fig, axes = _finish(pc, title)
        _fit_to_figure(fig)
    return fig, axes


def rank_plot(
    idata: Any,
    var_names: str | Sequence[str] | None = None,
    *,
    coords: Mapping[str, Any] | None = None,
    title: str | None = "Rank plots by chain: lines near 0 mean the chains agree",
    **kwargs: Any,
):
    """``arviz_plots.plot_rank``: fractional-rank Δ-ECDF per chain with a uniformity test.

    One panel per variable, stacked on a shared x axis. Each chain's line is the difference
    between the distribution of its draws' ranks and the uniform distribution it would have
    if all chains sampled the same distribution; black dots mark where that difference is
    larger than chance allows. The panel title gives the p-value of the test that all
    chains agree, and a legend names the chains.

    Returns (fig, axes).
    """
    import re

    import arviz_plots as azp

    var_names = _as_list(var_names)
    _check_vars(idata, var_names, "rank_plot")
    figure_kwargs = {"sharex": True, **dict(kwargs.pop("figure_kwargs", {}))}
    visuals = {"remove_axis": False, **dict(kwargs.pop("visuals", {}) or {})}
    with _arviz_context():
        pc = azp.plot_rank(idata, var_names=var_names, coords=coords, backend="matplotlib",
                           col_wrap=1, figure_kwargs=figure_kwargs, visuals=visuals, **kwargs)
        fig, axes = _finish(pc, title)
        plotted = list(pc.viz["plot"].data_vars)
        fig.set_size_inches(MAX_FIG_WIDTH, 1.3 + 2.1 * len(plotted))
        for k, name in enumerate(plotted):
            ax = pc.viz["plot"][name].item()
            ax.axhline(0.0, color=GREY, linewidth=1.0, zorder=1)
            ax.set_ylabel("ECDF difference")
            ax.set_xlabel("Fractional rank of the draw (0–1)" if k == len(plotted) - 1 else "")
            # the test result goes into the title, where it covers no line
            for text in list(ax.texts):
                found = re.match(r"p=([0-9.]+)", text.get_text().strip())
                if found:
                    text.remove()
                    ax.set_title(f"{ax.get_title()} (test that the chains agree: "
                                 f"p = {found.group(1)})")
        lines = pc.viz["ecdf_lines"][plotted[0]]
        chain_handles = [Line2D([], [], color=line.get_color(), linewidth=1.6,
                                label=f"Chain {int(chain) + 1}")
                         for chain, line in zip(lines["chain"].values, lines.values.ravel())]
        outside = Line2D([], [], linestyle="none", marker="o", color=BLACK, markersize=5,
                         label="Outside the expected range")
        _figure_legend(fig, [*chain_handles, outside], ncols=len(chain_handles) + 1,
                       handlelength=1.4, handletextpad=0.5, columnspacing=1.0)
        _fit_to_figure(fig)
    return fig, axes


#: Colours for models whose label is not one of the three pooling labels: the Okabe-Ito
#: colours the pooling strategies do not use, so "vermillion" always means no pooling.
_OTHER_MODEL_COLORS = (BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE)


def _model_styles(names: Sequence[str]) -> list[dict[str, str]]:
    """Colour and marker per model label: pooling labels keep theirs, others get the rest."""
    styles, k = [], 0
    for name in names:
        if name in POOLING_COLORS:
            styles.append(pooling_style(name))
        else:
            styles.append({"color": _OTHER_MODEL_COLORS[k % len(_OTHER_MODEL_COLORS)],
                           "linestyle": "-", "marker": "o"})
            k += 1
    return styles


def _forest_rows(post, var_names, coords, func):
    """(label, DataArray over the sample dims) for every scalar element of the variables."""
    rows = []
    for var in var_names:
        da = post[var]
        sel = {k: v for k, v in (coords or {}).items() if k in da.dims}
        if sel:
            da = da.sel(sel)
        extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
        if not extra:
            rows.append((var, da))
            continue
        stacked = da.stack(_element=extra)
        for i in range(stacked.sizes["_element"]):
            key = stacked["_element"].values[i]
            key = key if isinstance(key, tuple) else (key,)
            rows.append((f"{var}[{', '.join(map(str, key))}]", stacked.isel(_element=i)))
    if not rows:
        raise ValueError(f"{func}: nothing to plot for var_names={list(var_names)}")
    return rows


def forest_plot(
    idatas: Any,
    var_names: str | Sequence[str] | None = None,
    *,
    coords: Mapping[str, Any] | None = None,
    hdi_prob: float = 0.94,
    x_label: str = "Posterior value (parameter scale)",
    title: str | None = None,
    ax=None,
):
    """Posterior means with 50% (thick) and ``hdi_prob`` (thin) HDIs, one row per parameter.

    Parameters
    ----------
    idatas : one DataTree, or a dict ``{model label: DataTree}`` to compare models; the
        pooling labels keep their site colours, other labels get colours the pooling
        strategies do not use.
    var_names : variables to show (default: every posterior variable). A variable with
        dims gets one row per element, labelled ``alpha[Zudan]``; ``coords`` selects
        elements, e.g. ``{"country": ["Zudan", "Zudania"]}``.
    x_label : what the values are, with their scale.

    With several models, each row holds one interval per model, stacked within the row,
    and a legend names the models; when there is a single parameter, the rows are the
    models themselves and are labelled by name. Chains are combined.

    Returns
    -------
    (fig, axes) with ``axes`` a one-element array holding the Axes.
    """
    import arviz_stats as azs

    func = "forest_plot"
    if not 0 < hdi_prob < 1:
        raise ValueError(f"{func}: `hdi_prob` must be between 0 and 1, got {hdi_prob}")
    var_names = _as_list(var_names)
    if isinstance(idatas, Mapping) and not isinstance(idatas, xr.DataTree):
        if not idatas:
            raise ValueError(f"{func}: `idatas` is an empty dict")
        for name, dt in idatas.items():
            _check_vars(dt, var_names, f"{func} (model {name!r})")
        models = {str(k): v for k, v in idatas.items()}
    else:
        _check_vars(idatas, var_names, func)
        models = {"": idatas}
    names = list(models)
    styles = _model_styles(names)
    per_model = {}
    for name, dt in models.items():
        post = _posterior(dt, func)
        per_model[name] = _forest_rows(post, var_names or list(post.data_vars), coords, func)
    row_labels = [label for label, _ in per_model[names[0]]]
    for name in names[1:]:
        if [label for label, _ in per_model[name]] != row_labels:
            raise ValueError(f"{func}: model {name!r} does not have the same parameters as "
                             f"{names[0]!r}")

    def summary(da):
        dims = [d for d in da.dims if d in _SAMPLE_DIMS]
        wide = np.asarray(azs.hdi(da, prob=hdi_prob, dim=dims), dtype=float).ravel()
        narrow = np.asarray(azs.hdi(da, prob=0.5, dim=dims), dtype=float).ravel()
        return float(da.mean()), narrow, wide

    models_as_rows = len(row_labels) == 1 and len(names) > 1
    n_rows = len(names) if models_as_rows else len(row_labels)
    per_row = 1 if models_as_rows else len(names)
    offsets = np.linspace(0.2, -0.2, per_row) if per_row > 1 else np.zeros(1)
    pct = f"{hdi_prob:.0%}"
    with style_context():
        created = ax is None
        row_height = 0.28 + 0.2 * per_row
        fig, ax = _new_axes(ax, (MAX_FIG_WIDTH, max(2.6, 1.7 + row_height * n_rows)))
        for m, (name, st) in enumerate(zip(names, styles)):
            for r, (_, da) in enumerate(per_model[name]):
                mean, narrow, wide = summary(da)
                y = (n_rows - 1 - m) if models_as_rows else (n_rows - 1 - r + offsets[m])
                ax.plot(wide, [y, y], color=st["color"], linewidth=1.6, solid_capstyle="butt",
                        zorder=2)
                ax.plot(narrow, [y, y], color=st["color"], linewidth=5.0,
                        solid_capstyle="butt", zorder=3)
                ax.plot([mean], [y], linestyle="none", marker=st["marker"], markersize=7,
                        color=st["color"], markerfacecolor="white", markeredgewidth=1.6,
                        zorder=4)
        ticks = names if models_as_rows else row_labels
        ax.set_yticks(np.arange(n_rows)[::-1], ticks)
        ax.set_ylim(-0.6, n_rows - 0.4)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(x_label)
        if models_as_rows:
            for tick, st in zip(ax.get_yticklabels(), styles):
                tick.set_color(st["color"] if st["color"] != BLACK else "#222222")
        if title is None:
            if models_as_rows:
                who = f"{row_labels[0]} in {len(names)} models: "
            else:
                who = f"{_title_join(names)}: " if len(names) > 1 else ""
            title = f"{who}{'p' if who else 'P'}osterior means, 50% (thick) and {pct} (thin) HDIs"
        ax.set_title(title)
        handles = []
        if len(names) > 1 and not models_as_rows:
            handles = [Line2D([], [], color=st["color"], linewidth=2.5, marker=st["marker"],
                              markerfacecolor="white", label=nm)
                       for nm, st in zip(names, styles)]
        # a key to the marks, in grey: mean, 50% and wide HDI
        handles += [
            Line2D([], [], linestyle="none", marker="o", markersize=7, color=GREY,
                   markerfacecolor="white", markeredgewidth=1.6, label="Posterior mean"),
            Line2D([], [], color=GREY, linewidth=5.0, solid_capstyle="butt", label="50% HDI"),
            Line2D([], [], color=GREY, linewidth=1.6, label=f"{pct} HDI"),
        ]
        _legend(fig, ax, handles, created, ncols=len(handles))
        _fit_to_figure(fig)
    return fig, np.array([ax], dtype=object)


def ppc_plot(
    idata: Any,
    var_names: str | Sequence[str] | None = None,
    *,
    num_samples: int = 50,
    kind: str | None = None,
    x_label: str | None = None,
    title: str | None = "Posterior predictive check: observed vs replicated data",
    **kwargs: Any,
):
    """``arviz_plots.plot_ppc_dist``: observed distribution over posterior predictive draws.

    Needs ``posterior_predictive`` and ``observed_data`` groups
    (``pm.sample_posterior_predictive(idata, extend_inferencedata=True)``).

    Parameters
    ----------
    num_samples : number of replicated data sets drawn (thin coloured lines).
    kind : ``"kde"``, ``"hist"`` or ``"ecdf"`` (default: ArviZ's ``plot.density_kind``).
    x_label : label of the shared x axis (what the values are, with their scale); default:
        ``AXIS_LABELS`` of the variable when it is a known column such as ``china``.

    One panel per variable, stacked in one column (two columns from four variables on), all
    on the same x range so the panels compare directly; each panel title gives the number of
    observations, the y axis says what is drawn (density or cumulative proportion), and a
    legend below tells observed from replicated.

    Returns (fig, axes).
    """
    import arviz_plots as azp
    from arviz_base import rcParams as az_rc

    var_names = _as_list(var_names)
    for grp in ("posterior_predictive", "observed_data"):
        if not hasattr(idata, grp) or grp not in getattr(idata, "children", {grp: None}):
            raise ValueError(
                f"ppc_plot: the input has no {grp!r} group; run "
                "pm.sample_posterior_predictive(idata, extend_inferencedata=True) first"
            )
    _check_vars(idata, var_names, "ppc_plot", group="posterior_predictive")
    names = var_names or list(idata.posterior_predictive.data_vars)
    ncols = 1 if len(names) <= 3 else 2
    nrows = math.ceil(len(names) / ncols)
    drawn = kind or az_rc["plot.density_kind"]
    y_label = "Cumulative proportion" if drawn == "ecdf" else "Density"
    figure_kwargs = {"sharex": True, "figsize": (MAX_FIG_WIDTH, 1.5 + 2.2 * nrows),
                     **dict(kwargs.pop("figure_kwargs", {}))}
    visuals = {"remove_axis": False, **dict(kwargs.pop("visuals", {}) or {})}
    with _arviz_context():
        pc = azp.plot_ppc_dist(idata, var_names=var_names, num_samples=num_samples, kind=kind,
                               backend="matplotlib", col_wrap=ncols, figure_kwargs=figure_kwargs,
                               visuals=visuals, **kwargs)
        fig, axes = _finish(pc, title)
        observed = idata.observed_data
        for k, name in enumerate(names):
            ax = pc.viz["plot"][name].item()
            ax.set_title(_with_n(name, observed[name].size) if name in observed else name)
            ax.set_ylabel(y_label if k % ncols == 0 else "")
            ax.tick_params(labelleft=True)
            if k + ncols >= len(names):  # bottom panel of its column
                ax.tick_params(labelbottom=True)
                ax.set_xlabel(x_label or AXIS_LABELS.get(name, name))
        first = names[0]
        replicated_colour = pc.viz["predictive_dist"][first].values.ravel()[0].get_color()
        observed_colour = pc.viz["observed_dist"][first].item().get_color()
        _figure_legend(fig, [
            Line2D([], [], color=observed_colour, linewidth=2.0, label="Observed data"),
            Line2D([], [], color=replicated_colour, alpha=0.6, linewidth=1.3,
                   label=f"Replicated data sets ({num_samples})"),
        ], ncols=2)
        _fit_to_figure(fig)
    return fig, axes


def _log_scale_copy(idata: Any, log_vars: Sequence[str]):
    """A DataTree whose posterior has ``log(v)`` in place of each v in log_vars."""
    post = _posterior(idata, "pair_plot")
    new = post.copy()
    for v in log_vars:
        if (post[v] <= 0).any():
            raise ValueError(f"pair_plot: cannot take the log of {v!r}: it has values <= 0")
        new = new.drop_vars(v).assign({f"log({v})": np.log(post[v])})
    out = idata.copy()
    out["posterior"] = new
    return out


def pair_plot(
    idata: Any,
    var_names: str | Sequence[str],
    *,
    coords: Mapping[str, Any] | None = None,
    divergences: bool = True,
    log_vars: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    **kwargs: Any,
):
    """``arviz_plots.plot_pair``: pairwise scatter of draws, divergent draws highlighted.

    The funnel: ``pair_plot(idata, ["alpha", "sigma_alpha"], coords={"country": "Zudan"})``.

    Parameters
    ----------
    log_vars : variables drawn on the log scale (renamed ``log(name)``). Default: every
        requested variable whose name starts with ``sigma`` -- the funnel is clearest in
        log(sigma).
    divergences : mark divergent transitions (from ``sample_stats.diverging``) in vermillion.
    labels : axis label for each variable (by its name in ``var_names``), e.g.
        ``{"alpha": "alpha: Zudan's intercept (china, 1–5 score)"}``. Default: the name,
        ``log(name)`` for a variable in ``log_vars``, followed by the element chosen with
        ``coords`` (``alpha [Zudan]``).

    Returns (fig, axes).
    """
    import arviz_plots as azp

    var_names = _as_list(var_names)
    if not var_names:
        raise ValueError("pair_plot: give at least two variables (or one vector variable)")
    _check_vars(idata, var_names, "pair_plot")
    unknown = [v for v in (labels or {}) if v not in var_names]
    if unknown:
        raise ValueError(f"pair_plot: `labels` {unknown} are not among var_names {var_names}")
    if log_vars is None:
        log_vars = [v for v in var_names if v.startswith("sigma")]
    unknown = [v for v in log_vars if v not in var_names]
    if unknown:
        raise ValueError(f"pair_plot: `log_vars` {unknown} are not among var_names {var_names}")
    data = _log_scale_copy(idata, log_vars) if log_vars else idata
    names = [f"log({v})" if v in log_vars else v for v in var_names]
    axis_labels = {}
    for v, shown in zip(var_names, names):
        chosen = [coords[d] for d in idata.posterior[v].dims
                  if coords and d in coords and np.ndim(coords[d]) == 0]
        default = f"{shown} [{', '.join(map(str, chosen))}]" if chosen else shown
        axis_labels[shown] = (labels or {}).get(v, default)
    has_div = (hasattr(idata, "sample_stats") and "sample_stats" in idata.children
               and "diverging" in idata.sample_stats.data_vars)
    n_div = int(idata.sample_stats["diverging"].sum()) if has_div else 0
    visuals = dict(kwargs.pop("visuals", {}) or {})
    visuals.setdefault("scatter", {"color": BLUE, "alpha": 0.35, "s": 8})
    if divergences and has_div:
        visuals.setdefault("divergence", {"color": VERMILLION, "s": 22, "alpha": 0.9})
    with _arviz_context():
        pc = azp.plot_pair(data, var_names=names, coords=coords, visuals=visuals,
                           backend="matplotlib", **kwargs)
        if title is None:
            title = ("Posterior draws of " + " and ".join(names) if len(names) == 2
                     else "Pair plot of posterior draws")
            if divergences and has_div:
                plural = "s" if n_div != 1 else ""
                title += (" (no divergent transitions)" if n_div == 0
                          else f" ({n_div} divergent transition{plural})")
        fig, axes = _finish(pc, title)
        grid = pc.viz["plot"] if "plot" in pc.viz.data_vars else None
        if grid is not None and grid.ndim == 2:
            k = grid.shape[0]
            width = min(MAX_FIG_WIDTH, 3.3 * k + 0.7)
            fig.set_size_inches(width, width * (2.9 * k + 1.0) / (3.3 * k + 0.7))
            if kwargs.get("marginal", True):
                # diagonal panels hold marginal densities: their y axis is not a variable
                for i in range(k):
                    diag = grid.values[i, i]
                    if diag is not None:
                        diag.set_yticks([])
                        diag.set_ylabel("")
                        diag.grid(axis="y", visible=False)
        for ax in fig.axes:
            if ax.get_xlabel() in axis_labels:
                ax.set_xlabel(axis_labels[ax.get_xlabel()])
            if ax.get_ylabel() in axis_labels:
                ax.set_ylabel(axis_labels[ax.get_ylabel()])
        if divergences and n_div > 0:  # with none, the title says so
            _figure_legend(fig, [
                Line2D([], [], linestyle="none", marker="o", color=BLUE, alpha=0.6,
                       label="Posterior draw"),
                Line2D([], [], linestyle="none", marker="o", color=VERMILLION,
                       label=f"Divergent transition ({n_div})"),
            ], ncols=2)
        _fit_to_figure(fig)
    return fig, axes


# ------------------------------------------------------------------------------------------
# 7. model graph
# ------------------------------------------------------------------------------------------
_DOT_HELP = (
    "Drawing the model graph needs the Graphviz `dot` program, which was not found on PATH. "
    "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS) or `conda install graphviz` (conda), then restart the kernel. "
    "The model itself is fine: only the drawing failed."
)


#: Graphviz attributes of every model graph: a sans-serif face at 12 pt (16 px on screen when
#: the graph is shown at its natural size), compact spacing, plate labels at the top of
#: their plate, where arrows do not cross them.
GRAPH_ATTRS: dict[str, str] = {"fontname": "DejaVu Sans", "fontsize": "12", "nodesep": "0.2",
                               "ranksep": "0.35", "bgcolor": "white", "pad": "0.1"}
NODE_ATTRS: dict[str, str] = {"fontname": "DejaVu Sans", "fontsize": "12",
                              "margin": "0.08,0.04"}
EDGE_ATTRS: dict[str, str] = {"arrowsize": "0.7"}


def model_graph(model, *, direction: str = "LR"):
    """The model as a Graphviz graph (``pm.model_to_graphviz``), sized to be read on a page.

    Parameters
    ----------
    direction : ``"LR"`` (default: left to right, priors on the left, the observed outcome
        on the right) or ``"TB"`` (top to bottom). Drawn top to bottom, a model's many
        parameters stand side by side and the graph is two to three times wider than the
        page column, so the page shrinks it and its text becomes too small to read; left to
        right, the same graph is tall and narrow and is shown at its natural size.

    Text is set in a sans-serif face at 12 pt (:data:`GRAPH_ATTRS`, :data:`NODE_ATTRS`).
    Raises a clear RuntimeError when the Graphviz ``dot`` program is missing.
    """
    import graphviz
    import pymc as pm

    if direction not in ("TB", "LR"):
        raise ValueError(f"model_graph: `direction` must be 'LR' or 'TB', got {direction!r}")
    if shutil.which("dot") is None:
        raise RuntimeError(_DOT_HELP)
    try:
        graphviz.version()
    except (graphviz.ExecutableNotFound, OSError, subprocess.CalledProcessError) as err:
        raise RuntimeError(_DOT_HELP) from err
    graph = pm.model_to_graphviz(model)
    graph.graph_attr.update(GRAPH_ATTRS)
    graph.node_attr.update(NODE_ATTRS)
    graph.edge_attr.update(EDGE_ATTRS)
    # PyMC puts plate labels at the bottom right, where the arrows leave the plate
    graph.body[:] = [line.replace("labelloc=b", "labelloc=t") for line in graph.body]
    graph.graph_attr["rankdir"] = direction
    return graph
