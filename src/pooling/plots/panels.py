"""One panel per group: data plus the no / complete / partial pooling lines (:func:`pooling_panels`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pooling.columns import check_frame, require_columns, require_numeric
from pooling.plots.common import PANEL_LABELS, axis_label, figure_legend, fit_to_figure, join_labels, with_n
from pooling.style import GREY, MAX_FIG_WIDTH, pooling_style, style_context


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
            panel.set_title(with_n(g, n), **({"fontsize": 11} if ncols_used >= 3 else {}))
            if created:
                # outer panels only: the bottom panel of each column and the first column
                if k + ncols_used >= n_panels:
                    panel.tick_params(labelbottom=True)
                    panel.set_xlabel(x_label or PANEL_LABELS.get(x, x))
                if k % ncols_used == 0:
                    panel.set_ylabel(y_label or PANEL_LABELS.get(y, y))
            else:
                panel.set_xlabel(x_label or axis_label(x))
                panel.set_ylabel(y_label or axis_label(y))
        if show_points:
            pad = max(jy, 0.05 * float(np.nanmax(yv_all) - np.nanmin(yv_all)))
            axes[0].set_ylim(float(np.nanmin(yv_all)) - pad, float(np.nanmax(yv_all)) + pad)
        axes[0].set_xlim(float(x_range[0]) - max(jx, 0.0), float(x_range[1]) + max(jx, 0.0))

        handles, labels = axes[0].get_legend_handles_labels()
        if title is None:
            title = f"{join_labels([str(k) for k in lines])} lines: {y} against {x}"
        if created:
            fig.suptitle(title)
            figure_legend(fig, handles, labels=labels, ncols=len(labels), fontsize=11,
                           handlelength=3.2)
        else:
            axes[0].legend(handles, labels, fontsize=9)
        fit_to_figure(fig)
    return fig, axes
