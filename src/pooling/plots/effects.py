"""Group intercepts against slopes, pulled toward the population ellipse (:func:`varying_effects_plot`, :func:`group_predictor_plot`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.patches import Ellipse

from pooling.columns import check_frame, require_columns, require_finite, require_numeric
from pooling.plots.common import (
    AXIS_LABELS,
    DEFAULT_INTERCEPT_LABEL,
    DEFAULT_SLOPE_LABEL,
    add_legend,
    fit_to_figure,
    new_axes,
    place_labels,
)
from pooling.style import BLACK, LIGHT_GREY, MAX_FIG_WIDTH, pooling_style, style_context


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
    x_label: str = DEFAULT_INTERCEPT_LABEL,
    y_label: str = DEFAULT_SLOPE_LABEL,
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


def _effects_figure(before, after, *, population, levels, highlight, x_label,
                    y_label, title, ax, func, line=None, x="alpha", y="beta", names=("no_pooling", "partial_pooling")):
    """Shared body of varying_effects_plot and group_predictor_plot (``line``: the latter).

    ``before`` (no pooling) and ``after`` (partial pooling) are DataFrames indexed by group with
    the columns ``x`` and ``y`` plotted; ``names`` are what error messages call them.
    """
    for name, df in zip(names, (before, after), strict=True):
        check_frame(df, name, where=func)
        require_columns(df, [x, y], name, where=func)
        require_numeric(df, [x, y], name, where=func)
        require_finite(df, [x, y], name, where=func)
    if set(before.index) != set(after.index):
        diff = sorted(map(str, set(before.index) ^ set(after.index)))
        raise ValueError(f"{func}: the two tables must hold the same groups; differ on {diff}")
    highlight = list(highlight or [])
    missing = [g for g in highlight if g not in before.index]
    if missing:
        raise ValueError(f"{func}: highlighted group(s) {missing} are not in the tables")
    patches = _ellipse_patches(population, levels) if population is not None else []

    pp = after.loc[before.index]
    a0, b0 = before[x].to_numpy(float), before[y].to_numpy(float)
    a1, b1 = pp[x].to_numpy(float), pp[y].to_numpy(float)
    no_st, pp_st = pooling_style("No pooling"), pooling_style("Partial pooling")
    with style_context():
        created = ax is None
        fig, ax = new_axes(ax, (MAX_FIG_WIDTH, 6.2))
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
        add_legend(fig, ax, handles, created, ncols=3)
        fit_to_figure(fig)
        if highlight:
            markers = np.vstack([np.column_stack([a0, b0]), np.column_stack([a1, b1])])
            lines = [segments]
            for patch in patches:
                outline = _ellipse_outline(patch)
                lines.append(np.stack([outline[:-1], outline[1:]], axis=1))
            if line is not None:
                xs = np.array(ax.get_xlim())
                lines.append(np.array([np.column_stack([xs, intercept + slope * (xs - center)])]))
            place_labels(ax, [(str(g), (before.loc[g, x], before.loc[g, y]))
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
    before = pd.DataFrame({predictor: table[predictor], "intercept": table[no_pooling]})
    after = pd.DataFrame({predictor: table[predictor], "intercept": table[partial_pooling]})
    return _effects_figure(
        before, after, x=predictor, y="intercept", names=("table", "table"),
        population=None, levels=(), highlight=highlight,
        x_label=x_label or AXIS_LABELS.get(predictor, predictor), y_label=y_label,
        title=title or "Partial pooling pulls each group toward the group-level regression line",
        ax=ax, func=func, line=line,
    )
