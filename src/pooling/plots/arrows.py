"""No-pooling -> partial-pooling arrows against group size (:func:`shrinkage_plot`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from pooling.columns import check_frame, require_columns, require_finite, require_numeric
from pooling.plots.common import (
    DEFAULT_INTERCEPT_LABEL,
    add_legend,
    fit_to_figure,
    new_axes,
    place_labels,
    with_n,
)
from pooling.style import GREY, MAX_FIG_WIDTH, pooling_style, style_context


def _thousands(value: float, _pos=None) -> str:
    if value <= 0:
        return ""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def shrinkage_plot(
    table: pd.DataFrame,
    *,
    highlight: Sequence[Any] | None = None,
    x_label: str = "Group size: observations per country (N, log scale)",
    y_label: str = DEFAULT_INTERCEPT_LABEL,
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
        fig, ax = new_axes(ax, (MAX_FIG_WIDTH, 5.2))
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
        add_legend(fig, ax, [h_no, h_pp, cp_line, arrow_proxy], created, ncols=2)
        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title or "Partial pooling pulls small groups toward the overall estimate")
        fit_to_figure(fig)
        if highlight:
            markers = np.vstack([np.column_stack([n, no]), np.column_stack([n, pp])])
            arrows = np.stack([np.column_stack([n, no]), np.column_stack([n, pp])], axis=1)
            x_lo, x_hi = ax.get_xlim()
            reference = np.array([[[x_lo, overall], [x_hi, overall]]])
            place_labels(ax, [(with_n(g, table.loc[g, "n"]),
                               (table.loc[g, "n"],
                                (table.loc[g, "no_pooling"] + table.loc[g, "partial_pooling"]) / 2))
                              for g in highlight],
                         markers, segments=np.concatenate([arrows, reference]))
    return fig, ax
