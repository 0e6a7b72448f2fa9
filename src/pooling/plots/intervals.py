"""Group intercepts sorted by posterior mean with HDI bars (:func:`caterpillar`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from pooling.columns import check_frame, require_columns, require_finite, require_numeric
from pooling.plots.common import (
    DEFAULT_INTERCEPT_LABEL,
    add_legend,
    fit_to_figure,
    new_axes,
    title_join,
    with_n,
)
from pooling.style import GREY, MAX_FIG_WIDTH, pooling_style, style_context


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
    label: str = DEFAULT_INTERCEPT_LABEL,
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
        tick_labels = [with_n(g, sizes[g]) for g in order]
    else:
        tick_labels = [str(g) for g in order]

    n_models = len(models)
    offsets = np.linspace(-0.17, 0.17, n_models) if n_models > 1 else np.zeros(1)
    row_height = 0.26 if n_models == 1 else 0.32
    pct = f"{hdi_prob:.0%}"
    with style_context():
        created = ax is None
        fig, ax = new_axes(ax, (MAX_FIG_WIDTH, max(3.4, 2.1 + row_height * n_groups)))
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
                title = f"{title_join(names)}: {group_label.lower()} intercepts, {pct} HDIs"
            else:
                title = f"{group_label} intercepts sorted by posterior mean, with {pct} HDIs"
        ax.set_title(title)
        if n_models > 1 or reference is not None:
            add_legend(fig, ax, handles, created)
        fit_to_figure(fig)
    return fig, ax
