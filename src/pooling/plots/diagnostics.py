"""Thin wrappers around ArviZ 1.x (``arviz_plots``) with the site style: trace, rank, forest, posterior predictive and pair plots."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from pooling.plots.common import (
    AXIS_LABELS,
    add_legend,
    figure_legend,
    fit_to_figure,
    new_axes,
    title_join,
    with_n,
)
from pooling.style import (
    BLACK,
    BLUE,
    BLUISH_GREEN,
    GREY,
    MAX_FIG_WIDTH,
    ORANGE,
    POOLING_COLORS,
    REDDISH_PURPLE,
    SKY_BLUE,
    VERMILLION,
    pooling_style,
    style_context,
)
from pooling.summaries import DRAW_DIMS, posterior_dataset


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
        fit_to_figure(fig)
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
        figure_legend(fig, [*chain_handles, outside], ncols=len(chain_handles) + 1,
                       handlelength=1.4, handletextpad=0.5, columnspacing=1.0)
        fit_to_figure(fig)
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
        extra = [d for d in da.dims if d not in DRAW_DIMS]
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
        post = posterior_dataset(dt, func)
        per_model[name] = _forest_rows(post, var_names or list(post.data_vars), coords, func)
    row_labels = [label for label, _ in per_model[names[0]]]
    for name in names[1:]:
        if [label for label, _ in per_model[name]] != row_labels:
            raise ValueError(f"{func}: model {name!r} does not have the same parameters as "
                             f"{names[0]!r}")

    def summary(da):
        dims = [d for d in da.dims if d in DRAW_DIMS]
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
        fig, ax = new_axes(ax, (MAX_FIG_WIDTH, max(2.6, 1.7 + row_height * n_rows)))
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
                who = f"{title_join(names)}: " if len(names) > 1 else ""
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
        add_legend(fig, ax, handles, created, ncols=len(handles))
        fit_to_figure(fig)
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
            ax.set_title(with_n(name, observed[name].size) if name in observed else name)
            ax.set_ylabel(y_label if k % ncols == 0 else "")
            ax.tick_params(labelleft=True)
            if k + ncols >= len(names):  # bottom panel of its column
                ax.tick_params(labelbottom=True)
                ax.set_xlabel(x_label or AXIS_LABELS.get(name, name))
        first = names[0]
        replicated_colour = pc.viz["predictive_dist"][first].values.ravel()[0].get_color()
        observed_colour = pc.viz["observed_dist"][first].item().get_color()
        figure_legend(fig, [
            Line2D([], [], color=observed_colour, linewidth=2.0, label="Observed data"),
            Line2D([], [], color=replicated_colour, alpha=0.6, linewidth=1.3,
                   label=f"Replicated data sets ({num_samples})"),
        ], ncols=2)
        fit_to_figure(fig)
    return fig, axes


def _log_scale_copy(idata: Any, log_vars: Sequence[str]):
    """A DataTree whose posterior has ``log(v)`` in place of each v in log_vars."""
    post = posterior_dataset(idata, "pair_plot")
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
            figure_legend(fig, [
                Line2D([], [], linestyle="none", marker="o", color=BLUE, alpha=0.6,
                       label="Posterior draw"),
                Line2D([], [], linestyle="none", marker="o", color=VERMILLION,
                       label=f"Divergent transition ({n_div})"),
            ], ncols=2)
        fit_to_figure(fig)
    return fig, axes
