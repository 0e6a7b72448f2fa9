"""Prior predictive checks and prior sensitivity (:func:`prior_predictive_plot`,
:func:`prior_group_spread_plot`, :func:`prior_scale_plot`).

The numbers behind these figures come from :mod:`pooling.priors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from pooling.columns import check_frame, require_columns, require_finite, require_numeric
from pooling.plots.common import figure_legend, fit_to_figure, with_n
from pooling.priors import check_scale
from pooling.style import BLUE, GREY, LIGHT_GREY, MAX_FIG_WIDTH, VERMILLION, pooling_style, style_context

SCALE_LABEL = "Possible answers"


def _finite_array(values: Any, name: str, func: str, ndim: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != ndim or array.size == 0:
        raise ValueError(f"{func}: `{name}` must be a non-empty {ndim}-d array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{func}: `{name}` holds missing or infinite values")
    return array


def _shade_scale(ax, low: float, high: float, *, vertical: bool = False) -> Patch:
    span = ax.axvspan if vertical else ax.axhspan
    span(low, high, color=LIGHT_GREY, alpha=0.35, zorder=0, linewidth=0)
    return Patch(facecolor=LIGHT_GREY, alpha=0.6, label=f"{SCALE_LABEL} ({low:g}–{high:g})")


def prior_predictive_plot(
    lines: np.ndarray,
    grid: Sequence[float] | np.ndarray,
    answers: np.ndarray,
    observed: np.ndarray,
    *,
    scale: Sequence[float] = (1.0, 5.0),
    n_lines: int = 100,
    x_label: str = "antiauth (0–4 index)",
    y_label: str = "china (1–5 score)",
    title: str = "What the priors imply before seeing any data",
    seed: int = 0,
):
    """Prior regression lines, and simulated answers against the observed ones.

    Parameters
    ----------
    lines : prior regression lines, shape ``(draws, k)`` in outcome units
        (:func:`pooling.priors.prior_lines`).
    grid : the ``k`` predictor values of ``lines`` (predictor units).
    answers : simulated outcomes from the prior predictive distribution, any shape
        (flattened; outcome units).
    observed : the observed outcomes (outcome units).
    scale : lowest and highest possible answer, shaded in both panels.
    n_lines : how many lines to draw (a random subset of ``lines`` chosen with ``seed``).

    Left panel: ``n_lines`` prior lines over the shaded range of possible answers. Right
    panel: densities of the simulated and the observed answers. Both panels show the
    central 98% of the prior draws, so a few extreme draws do not squash the picture.

    Returns
    -------
    (fig, axes) with two axes.
    """
    func = "prior_predictive_plot"
    lines = _finite_array(lines, "lines", func, 2)
    grid = _finite_array(grid, "grid", func, 1)
    if lines.shape[1] != grid.size:
        raise ValueError(f"{func}: `lines` has {lines.shape[1]} columns but `grid` has {grid.size} values")
    answers = _finite_array(np.ravel(answers), "answers", func, 1)
    observed = _finite_array(np.ravel(observed), "observed", func, 1)
    low, high = check_scale(scale, func)
    if not (isinstance(n_lines, (int, np.integer)) and n_lines > 0):
        raise ValueError(f"{func}: `n_lines` must be a positive integer, got {n_lines!r}")

    rng = np.random.default_rng(seed)
    shown = lines[rng.choice(len(lines), size=min(n_lines, len(lines)), replace=False)]
    limits = np.quantile(np.concatenate([lines.ravel(), answers]), [0.01, 0.99])
    limits = (min(limits[0], low) - 0.5, max(limits[1], high) + 0.5)
    with style_context():
        fig, (ax_lines, ax_answers) = plt.subplots(1, 2, figsize=(MAX_FIG_WIDTH, 4.3))
        band = _shade_scale(ax_lines, low, high)
        for line in shown:
            ax_lines.plot(grid, line, color=BLUE, alpha=0.25, linewidth=1)
        ax_lines.set_ylim(*limits)
        ax_lines.set_xlim(grid.min(), grid.max())
        ax_lines.set_xlabel(x_label)
        ax_lines.set_ylabel(y_label)
        ax_lines.set_title(f"{len(shown)} prior regression lines")

        _shade_scale(ax_answers, low, high, vertical=True)
        bins = np.linspace(*limits, 60)
        inside = answers[(answers >= limits[0]) & (answers <= limits[1])]
        ax_answers.hist(inside, bins=bins, density=True, color=BLUE, alpha=0.55)
        ax_answers.hist(observed, bins=bins, density=True, histtype="step", color=VERMILLION, linewidth=1.8)
        ax_answers.set_xlim(*limits)
        ax_answers.set_xlabel(y_label)
        ax_answers.set_ylabel("Density")
        ax_answers.set_title("Simulated and observed answers")
        handles = [
            Line2D([], [], color=BLUE, alpha=0.6, linewidth=1.5,
                   label=f"Prior draws ({len(lines):,} lines, {len(answers):,} answers)"),
            Line2D([], [], color=VERMILLION, linewidth=1.8, label=f"Observed answers (N = {len(observed):,})"),
            band,
        ]
        fig.suptitle(title)
        figure_legend(fig, handles, ncols=3)
        fit_to_figure(fig)
    return fig, (ax_lines, ax_answers)


def prior_group_spread_plot(
    sd_draws: np.ndarray,
    group_draws: np.ndarray,
    observed_means: pd.Series,
    *,
    scale: Sequence[float] = (1.0, 5.0),
    n_rows: int = 12,
    sd_label: str = "Between-country sd σ_α (china points)",
    value_label: str = "Country intercept (china, 1–5 score)",
    group_label: str = "countries",
    title: str = "The spread between countries: prior draws against the data",
):
    """The prior of a between-group sd, and simulated groups against the observed ones.

    Parameters
    ----------
    sd_draws : prior draws of the between-group sd, shape ``(draws,)`` (outcome units).
    group_draws : prior draws of the group intercepts, shape ``(draws, groups)``.
    observed_means : the groups' raw means of the outcome, one per group (outcome units).
    n_rows : how many prior draws of the whole set of groups to show in the right panel.

    Left panel: histogram of ``sd_draws`` with the sd of ``observed_means`` marked. Right
    panel: one row per prior draw, each a set of simulated groups, under a top row with
    the observed group means; the range of possible answers is shaded.

    Returns
    -------
    (fig, axes) with two axes.
    """
    func = "prior_group_spread_plot"
    sd_draws = _finite_array(sd_draws, "sd_draws", func, 1)
    group_draws = _finite_array(group_draws, "group_draws", func, 2)
    means = _finite_array(observed_means, "observed_means", func, 1)
    if means.size < 2:
        raise ValueError(f"{func}: `observed_means` needs at least two groups")
    low, high = check_scale(scale, func)
    if not (isinstance(n_rows, (int, np.integer)) and 0 < n_rows <= len(group_draws)):
        raise ValueError(f"{func}: `n_rows` must be between 1 and the number of draws ({len(group_draws)})")
    observed_sd = float(np.std(means, ddof=1))
    with style_context():
        fig, (ax_sd, ax_groups) = plt.subplots(1, 2, figsize=(MAX_FIG_WIDTH, 4.6),
                                               gridspec_kw={"width_ratios": [1, 1.3]})
        upper = float(np.quantile(sd_draws, 0.99))
        ax_sd.hist(sd_draws[sd_draws <= upper], bins=40, density=True, color=BLUE, alpha=0.55)
        ax_sd.axvline(observed_sd, color=VERMILLION, linewidth=2)
        ax_sd.set_xlabel(sd_label)
        ax_sd.set_ylabel("Prior density")
        ax_sd.set_title(f"Prior of the spread\n({len(sd_draws):,} draws)")

        band = _shade_scale(ax_groups, low, high, vertical=True)
        for row in range(n_rows):
            ax_groups.scatter(group_draws[row], np.full(group_draws.shape[1], row + 1), s=10, color=BLUE,
                              alpha=0.7, linewidths=0)
        ax_groups.scatter(means, np.zeros_like(means), s=14, color=VERMILLION, linewidths=0)
        ax_groups.set_yticks([0, *range(1, n_rows + 1)], ["data", *[str(r) for r in range(1, n_rows + 1)]])
        ax_groups.invert_yaxis()
        ax_groups.set_ylabel("Prior draw")
        ax_groups.set_xlabel(value_label)
        ax_groups.set_title(f"{group_draws.shape[1]} simulated {group_label} per draw")
        handles = [
            Patch(facecolor=BLUE, alpha=0.55, label="Prior draws"),
            Line2D([], [], color=VERMILLION, marker="o", linewidth=2,
                   label=f"Data: {len(means)} {group_label}' means (sd {observed_sd:.2f})"),
            band,
        ]
        fig.suptitle(title)
        figure_legend(fig, handles, ncols=3)
        fit_to_figure(fig)
    return fig, (ax_sd, ax_groups)


def _plain_number(value: float, _pos=None) -> str:
    """Tick labels 0.001, 0.01, 0.1, 1, 10 instead of powers of ten."""
    return f"{value:g}"


def prior_scale_plot(
    table: pd.DataFrame,
    sigma: pd.DataFrame,
    *,
    no_pooling: Mapping[Any, float] | pd.Series,
    complete_pooling: float,
    sizes: Mapping[Any, int] | pd.Series,
    x_label: str = "Prior scale of σ_α",
    y_label: str = "Intercept at mean antiauth (china, 1–5 score)",
    sd_label: str = "Posterior σ_α (china points)",
    title: str = "A stricter prior on σ_α pulls the estimates toward complete pooling",
):
    """Estimates of a few groups, and the posterior of the between-group sd, against the prior scale.

    Parameters
    ----------
    table : :func:`pooling.priors.prior_scale_table` (columns ``prior_scale``, ``group``,
        ``mean``, ``hdi_low``, ``hdi_high``).
    sigma : :func:`pooling.priors.sigma_table` (indexed by ``prior_scale``).
    no_pooling, complete_pooling : the two reference estimates (outcome units).
    sizes : number of rows of each group, for the panel titles.

    One panel per group: posterior mean and 94% HDI against the prior scale (log x), with
    the group's no-pooling and the complete-pooling estimates as horizontal lines. A last
    panel: the posterior of the between-group sd against the prior scale, with the line
    ``posterior = prior scale`` for reference.

    Returns
    -------
    (fig, axes)
    """
    func = "prior_scale_plot"
    cols = ["prior_scale", "mean", "hdi_low", "hdi_high"]
    check_frame(table, "table", where=func)
    require_columns(table, [*cols, "group"], "table", where=func)
    require_numeric(table, cols, "table", where=func)
    require_finite(table, cols, "table", where=func)
    check_frame(sigma, "sigma", where=func)
    require_columns(sigma, ["mean", "hdi_low", "hdi_high"], "sigma", where=func)
    if (table["prior_scale"] <= 0).any() or (np.asarray(sigma.index, dtype=float) <= 0).any():
        raise ValueError(f"{func}: prior scales must be positive (the x axis is logarithmic)")
    groups = list(dict.fromkeys(table["group"]))
    no_pooling, sizes = pd.Series(no_pooling, dtype=float), pd.Series(sizes)
    missing = [g for g in groups if g not in no_pooling.index or g not in sizes.index]
    if missing:
        raise ValueError(f"{func}: no no-pooling estimate or size for group(s) {missing}")

    pp, npool, cp = (pooling_style(k) for k in ("Partial pooling", "No pooling", "Complete pooling"))
    all_scales = np.asarray(table["prior_scale"], dtype=float)
    decades = np.arange(np.floor(np.log10(all_scales.min())), np.ceil(np.log10(all_scales.max())) + 1)
    ticks = 10.0 ** decades[(10.0 ** decades >= all_scales.min() / 1.01) & (10.0 ** decades <= all_scales.max() * 1.01)]
    with style_context():
        fig, axes = plt.subplots(1, len(groups) + 1, figsize=(MAX_FIG_WIDTH, 4.6))
        axes = list(np.atleast_1d(axes))
        for ax, group in zip(axes, groups, strict=False):
            rows = table[table["group"] == group].sort_values("prior_scale")
            x = rows["prior_scale"].to_numpy(float)
            ax.fill_between(x, rows["hdi_low"], rows["hdi_high"], color=pp["color"], alpha=0.2, linewidth=0)
            ax.plot(x, rows["mean"], color=pp["color"], marker=pp["marker"], linestyle=pp["linestyle"])
            ax.axhline(no_pooling[group], color=npool["color"], linestyle=npool["linestyle"], linewidth=1.5)
            ax.axhline(complete_pooling, color=cp["color"], linestyle=cp["linestyle"], linewidth=1.5)
            ax.set_xscale("log")
            ax.set_xticks(ticks)
            ax.tick_params(axis="x", labelsize=8.5)
            ax.xaxis.set_major_formatter(FuncFormatter(_plain_number))
            ax.set_title(with_n(group, sizes[group]), fontsize=10.5)
            ax.set_xlabel(x_label)
        axes[0].set_ylabel(y_label)

        ax = axes[-1]
        x = np.asarray(sigma.index, dtype=float)
        ax.fill_between(x, sigma["hdi_low"], sigma["hdi_high"], color=BLUE, alpha=0.2, linewidth=0)
        ax.plot(x, sigma["mean"], color=BLUE, marker="o")
        ax.plot(x, x, color=GREY, linestyle="-.", linewidth=1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks)
        ax.tick_params(axis="x", labelsize=8.5)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(FuncFormatter(_plain_number))
        ax.set_ylabel(sd_label)
        ax.set_title("Posterior σ_α", fontsize=10.5)
        ax.set_xlabel(x_label)
        handles = [
            Line2D([], [], color=pp["color"], marker=pp["marker"], label="Partial pooling, mean and 94% HDI"),
            Line2D([], [], color=npool["color"], linestyle=npool["linestyle"], label="No pooling"),
            Line2D([], [], color=cp["color"], linestyle=cp["linestyle"], label="Complete pooling"),
            Line2D([], [], color=GREY, linestyle="-.", label="σ_α equal to the prior scale"),
        ]
        fig.suptitle(title)
        figure_legend(fig, handles, ncols=2)
        fit_to_figure(fig)
    return fig, axes
