"""Within-group against between-group slopes through the group means (:func:`contextual_effect_plot`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from pooling.columns import check_frame, require_columns, require_finite, require_numeric
from pooling.plots.common import figure_legend, fit_to_figure, place_labels
from pooling.style import BLUE, BLUISH_GREEN, MAX_FIG_WIDTH, VERMILLION, style_context

LINE_KEYS = ("within", "between", "center", "level")


def _check_lines(lines: Any, panel: str, func: str) -> tuple[float, float, float, float]:
    if not isinstance(lines, Mapping):
        raise ValueError(f"{func}: the lines of panel {panel!r} must be a dict with keys {list(LINE_KEYS)}")
    missing = [k for k in LINE_KEYS if k not in lines]
    if missing:
        raise ValueError(f"{func}: the lines of panel {panel!r} lack {missing}; they need {list(LINE_KEYS)}")
    values = tuple(float(np.asarray(lines[k]).item()) for k in LINE_KEYS)
    if not all(np.isfinite(values)):
        raise ValueError(f"{func}: the lines of panel {panel!r} must be finite numbers, got {values}")
    return values


def contextual_effect_plot(
    panels: Mapping[str, tuple[pd.DataFrame, Mapping[str, float]]],
    *,
    group_label: str = "countries",
    group_noun: str = "country",
    size_label: str = "respondents",
    half_width: float = 0.15,
    highlight: Sequence[Any] | None = None,
    x_label: str = "Country mean of antiauth (0–4 index)",
    y_label: str = "Country mean of china (1–5 score)",
    title: str = "Within-country and between-country slopes",
):
    """Group means of the outcome against group means of the predictor, with both slopes.

    Parameters
    ----------
    panels : one panel per entry, ``{panel title: (table, lines)}``.
        ``table`` is a DataFrame indexed by group with the columns ``x_mean`` (group mean of
        the predictor, predictor units), ``y_mean`` (group mean of the outcome, outcome
        units) and ``n`` (rows in the group). ``lines`` is a dict with ``within`` (the
        within-group slope, e.g. the posterior mean of ``beta``; outcome units per predictor
        unit), ``between`` (the slope of the group means, e.g. of ``beta + gamma_1``),
        ``center`` (a predictor value) and ``level`` (the expected group mean of the outcome
        at ``center``).
    group_label, group_noun : what the groups are called in the panel titles (plural) and in
        the legend (singular).
    size_label : what ``n`` counts, for the legend.
    half_width : each group's short within-group segment spans ``x_mean +- half_width``
        (predictor units).
    highlight : groups to label, in the panels that hold them.

    Each group is a dot with area proportional to its ``n`` and a short segment of the
    within-group slope through it. Two long lines cross at ``(center, level)``: the
    within-group slope (dashed) and the between-group slope (solid). Panel titles give the
    number of groups and the range of group sizes. The panels share the y axis.

    Returns
    -------
    (fig, axes) with one axes per panel.
    """
    func = "contextual_effect_plot"
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError(f"{func}: `panels` must be a non-empty dict {{title: (table, lines)}}")
    if not (np.isfinite(half_width) and half_width > 0):
        raise ValueError(f"{func}: `half_width` must be a positive number, got {half_width!r}")
    checked = []
    for name, entry in panels.items():
        if not (isinstance(entry, Sequence) and len(entry) == 2):
            raise ValueError(f"{func}: panel {name!r} must be a pair (table, lines)")
        table, lines = entry
        check_frame(table, f"table of panel {name!r}", where=func)
        require_columns(table, ["x_mean", "y_mean", "n"], f"table of panel {name!r}", where=func)
        require_numeric(table, ["x_mean", "y_mean", "n"], f"table of panel {name!r}", where=func)
        require_finite(table, ["x_mean", "y_mean", "n"], f"table of panel {name!r}", where=func)
        if (table["n"] <= 0).any():
            raise ValueError(f"{func}: group sizes `n` in panel {name!r} must be positive")
        checked.append((str(name), table, _check_lines(lines, str(name), func)))
    highlight = list(highlight or [])
    unknown = [g for g in highlight if not any(g in t.index for _, t, _ in checked)]
    if unknown:
        raise ValueError(f"{func}: highlighted group(s) {unknown} are in no panel")

    n_max = max(float(t["n"].max()) for _, t, _ in checked)
    with style_context():
        fig, axes = plt.subplots(1, len(checked), figsize=(MAX_FIG_WIDTH, 5.2), sharey=True, squeeze=False)
        axes = list(axes[0])
        for ax, (name, table, (within, between, center, level)) in zip(axes, checked, strict=True):
            x, y, n = (table[c].to_numpy(float) for c in ("x_mean", "y_mean", "n"))
            xs = np.column_stack([x - half_width, x + half_width])
            segments = np.stack([xs, y[:, None] + within * (xs - x[:, None])], axis=2)
            h_seg = ax.add_collection(LineCollection(segments, colors=BLUISH_GREEN, linewidths=1.4, zorder=2,
                                                     label=f"Within-{group_noun} slope β through each {group_noun} mean"))
            h_dots = ax.scatter(x, y, s=16 + 110 * n / n_max, color=BLUE, edgecolors="white", linewidths=0.5,
                                zorder=3, label=f"{group_noun.capitalize()} mean (dot area ∝ {size_label})")
            h_within = ax.axline((center, level), slope=within, color=BLUISH_GREEN, linestyle="--", linewidth=2.0,
                                 zorder=1, label=f"Within-{group_noun} slope β")
            h_between = ax.axline((center, level), slope=between, color=VERMILLION, linewidth=2.2, zorder=1,
                                  label=f"Between-{group_noun} slope β + γ₁")
            sizes = f"n = {int(n.min()):,}–{int(n.max()):,}" if n.min() != n.max() else f"n = {int(n.min()):,} each"
            slopes = f"within {within:.2f}, between {between:.2f}".replace("-", "\N{MINUS SIGN}")
            ax.set_title(f"{name}\n{len(table)} {group_label}, {sizes}\n{slopes}",
                         fontsize=10)
            ax.set_xlabel(x_label)
            ax.autoscale_view()
            ax.margins(0.08)
        axes[0].set_ylabel(y_label)
        fig.suptitle(title)
        handles = [h_dots, h_seg, h_within, h_between]
        figure_legend(fig, handles, ncols=2)
        fit_to_figure(fig)
        for ax, (_, table, _) in zip(axes, checked, strict=True):
            shown = [g for g in highlight if g in table.index]
            if shown:
                pts = table[["x_mean", "y_mean"]].to_numpy(float)
                place_labels(ax, [(str(g), tuple(table.loc[g, ["x_mean", "y_mean"]].astype(float))) for g in shown],
                             pts, fontsize=9)
    return fig, axes
