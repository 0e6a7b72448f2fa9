"""Tests for the site style and figures (`pooling.style`, `pooling.plots`).

The checks are the ones a reader would make: how many bins, bars, lines, arrows and
panels are drawn; that axes are labelled with their scale; that titles carry group sizes;
that legends use the exact pooling labels; that 35+ tick labels do not overlap; that bad
inputs fail with a message naming the problem; and that nothing calls ``plt.show()``.

Every input is built here (synthetic survey-like DataFrames, small posteriors made with
``arviz_base.from_dict``), so these tests do not depend on the loaders or the models.
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import arviz_base as azb  # noqa: E402
import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Ellipse, FancyArrowPatch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from pooling import plots, style  # noqa: E402

POOLING_LABELS = ["No pooling", "Complete pooling", "Partial pooling"]
OKABE_ITO_HEX = {
    "#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7",
}


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    """Fail on any plt.show(); restore rcParams and close every figure after each test."""

    def _refuse(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", _refuse)
    monkeypatch.setattr(Figure, "show", _refuse)
    saved = mpl.rcParams.copy()
    yield
    plt.close("all")
    mpl.rcParams.update(saved)


def _survey(n_countries: int = 35, seed: int = 1) -> pd.DataFrame:
    """Survey-like data: antiauth on 0-4 and china on 1-5 in steps of 0.25, by country."""
    rng = np.random.default_rng(seed)
    names = [f"Country {i:02d}" for i in range(n_countries)] + ["Zudan", "Zudania"]
    sizes = list(rng.integers(20, 60, n_countries)) + [4, 300]
    alpha = rng.normal(3.2, 0.3, len(names))
    alpha[-2] = 2.0  # Zudan far from the rest
    codes = np.repeat(np.arange(len(names)), sizes)
    x = np.round(rng.uniform(0, 4, codes.size) * 4) / 4
    y = alpha[codes] - 0.15 * (x - 2) + rng.normal(0, 0.7, codes.size)
    y = np.clip(np.round(y * 4) / 4, 1, 5)
    return pd.DataFrame(
        {
            "country_name": pd.Categorical.from_codes(codes, categories=names),
            "antiauth": x,
            "china": y,
        }
    )


@pytest.fixture
def survey() -> pd.DataFrame:
    return _survey()


def _estimates(names, seed=0, width=0.2, shift=0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mean = rng.normal(3.2, 0.3, len(names)) + shift
    half = width * rng.uniform(0.5, 1.5, len(names))
    return pd.DataFrame(
        {"mean": mean, "hdi_low": mean - half, "hdi_high": mean + 0.8 * half},
        index=pd.Index(names, name="country"),
    )


def _posterior(
    countries=("Nigeria", "Tanzania", "Zudan"), chains=2, draws=120, seed=0, with_ppc=True
):
    """A small DataTree with the partial-pooling variable names, divergences and a PPC."""
    rng = np.random.default_rng(seed)
    k = len(countries)
    log_s = rng.normal(-1.0, 0.7, (chains, draws))
    mu = rng.normal(3.2, 0.1, (chains, draws))
    alpha = mu[..., None] + np.exp(log_s)[..., None] * rng.normal(size=(chains, draws, k))
    diverging = log_s < np.quantile(log_s, 0.03)
    groups = {
        "posterior": {
            "mu_alpha": mu,
            "sigma_alpha": np.exp(log_s),
            "alpha": alpha,
            "beta": rng.normal(-0.15, 0.03, (chains, draws)),
            "sigma_y": np.abs(rng.normal(0.8, 0.02, (chains, draws))),
        },
        "sample_stats": {"diverging": diverging},
    }
    if with_ppc:
        obs = np.round(rng.uniform(1, 5, 40) * 4) / 4
        groups["posterior_predictive"] = {"china": rng.normal(3, 1, (chains, draws, 40))}
        groups["observed_data"] = {"china": obs}
    return azb.from_dict(
        groups,
        dims={"alpha": ["country"], "china": ["obs_id"]},
        coords={"country": list(countries)},
    )


@pytest.fixture(scope="module")
def idata():
    return _posterior()


def _legend_labels(fig, ax=None) -> list[str]:
    legends = list(fig.legends) + ([ax.get_legend()] if ax is not None else [])
    legends = [lg for lg in legends if lg is not None]
    assert legends, "the figure has no legend"
    return [t.get_text() for t in legends[0].get_texts()]


def _has_scale(label: str) -> bool:
    """An axis label that states units or scale, in parentheses."""
    return bool(label.strip()) and "(" in label and ")" in label


def _overlap(a, b) -> bool:
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


# ------------------------------------------------------------------------------------------
# style
# ------------------------------------------------------------------------------------------
def test_palette_is_okabe_ito():
    assert {c.lower() for c in style.OKABE_ITO} == OKABE_ITO_HEX
    assert list(style.POOLING_COLORS) == POOLING_LABELS
    colours = [c.lower() for c in style.POOLING_COLORS.values()]
    assert set(colours) <= OKABE_ITO_HEX
    assert len(set(colours)) == 3
    assert {c.lower() for c in style.CYCLE} <= OKABE_ITO_HEX
    # distinguishable in greyscale too: three different line styles and markers
    assert set(style.POOLING_LINESTYLES) == set(POOLING_LABELS)
    assert len(set(style.POOLING_LINESTYLES.values())) == 3
    assert len(set(style.POOLING_MARKERS.values())) == 3


def test_apply_style_is_idempotent_and_sets_the_look():
    style.apply_style()
    first = {k: mpl.rcParams[k] for k in style.RC_PARAMS}
    style.apply_style()
    assert {k: mpl.rcParams[k] for k in style.RC_PARAMS} == first
    assert mpl.rcParams["figure.constrained_layout.use"] is True
    assert mpl.rcParams["axes.grid"] is True
    assert not mpl.rcParams["axes.spines.top"] and not mpl.rcParams["axes.spines.right"]
    assert mpl.rcParams["font.size"] >= 10
    cycle = [to_hex(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert set(cycle) <= OKABE_ITO_HEX
    from arviz_base import rcParams as az_rc

    assert az_rc["plot.backend"] == "matplotlib"


def test_style_context_restores_rcparams():
    before = mpl.rcParams["axes.spines.top"], mpl.rcParams["figure.dpi"]
    mpl.rcParams["axes.spines.top"] = True
    with style.style_context():
        assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["axes.spines.top"] is True
    mpl.rcParams["axes.spines.top"], mpl.rcParams["figure.dpi"] = before


def test_pooling_style_falls_back_to_the_cycle():
    assert style.pooling_style("Partial pooling")["color"] == style.POOLING_COLORS[
        "Partial pooling"
    ]
    other = style.pooling_style("Some model", index=2)
    assert other["color"] == style.CYCLE[2]


# ------------------------------------------------------------------------------------------
# binned scatter
# ------------------------------------------------------------------------------------------
def test_binned_scatter_bins_bars_and_reference_lines(survey, tmp_path):
    fig, ax = plots.binned_scatter(survey, n_bins=10)
    assert isinstance(fig, Figure)
    (container,) = ax.containers
    data_line, _caps, (bars,) = container
    bx, by = data_line.get_xdata(), data_line.get_ydata()
    # antiauth moves in steps of 0.25: at most n_bins bins, ties never split
    assert 2 <= len(bx) <= 10
    assert np.all(np.diff(bx.astype(float)) > 0)
    assert len(bars.get_segments()) == len(bx)
    bins = plots.quantile_bins(survey["antiauth"], 10)
    for value, rows in survey.groupby("antiauth"):
        assert len(np.unique(bins[rows.index])) == 1
    # dashed reference lines at the overall means
    vlines = [ln for ln in ax.lines if len(set(ln.get_xdata())) == 1]
    hlines = [ln for ln in ax.lines if len(set(ln.get_ydata())) == 1]
    assert any(ln.get_xdata()[0] == pytest.approx(survey["antiauth"].mean()) for ln in vlines)
    assert any(ln.get_ydata()[0] == pytest.approx(survey["china"].mean()) for ln in hlines)
    assert all(ln.get_linestyle() not in ("-", "None") for ln in vlines + hlines)
    # labels with scale, title says what is shown
    assert _has_scale(ax.get_xlabel()) and "antiauth" in ax.get_xlabel()
    assert _has_scale(ax.get_ylabel()) and "china" in ax.get_ylabel()
    assert "binned" in ax.get_title().lower()
    fig.savefig(tmp_path / "binned.png")


def test_binned_scatter_equal_count_bins_with_95_percent_bars():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"antiauth": rng.uniform(0, 4, 400), "china": rng.normal(3, 1, 400)})
    fig, ax = plots.binned_scatter(df, n_bins=10)
    data_line, _caps, (bars,) = ax.containers[0]
    assert len(data_line.get_xdata()) == 10
    lowest = df.nsmallest(40, "antiauth")  # the first decile
    half = 1.96 * lowest["china"].std() / np.sqrt(40)
    (x0, lo), (_, hi) = bars.get_segments()[0]
    assert data_line.get_xdata()[0] == pytest.approx(lowest["antiauth"].mean())
    assert data_line.get_ydata()[0] == pytest.approx(lowest["china"].mean())
    assert (lo, hi) == pytest.approx((lowest["china"].mean() - half,
                                      lowest["china"].mean() + half))


def test_binned_scatter_fitted_line_tuple_and_dict(survey):
    xbar = survey["antiauth"].mean()
    fig, ax = plots.binned_scatter(survey, n_bins=8, line=(3.1, -0.2, xbar))
    (fit,) = [ln for ln in ax.lines if hasattr(ln, "get_slope")]
    assert fit.get_slope() == pytest.approx(-0.2)
    assert fit.get_xy1() == pytest.approx((xbar, 3.1))
    fig, ax = plots.binned_scatter(
        survey, n_bins=8,
        line={"intercept": 3.0, "slope": 0.1, "x_mean": 2.0, "label": "Complete pooling"},
    )
    assert "Complete pooling" in _legend_labels(fig, ax)


def test_binned_scatter_handles_repeated_quantile_edges():
    df = pd.DataFrame({"antiauth": [0.0] * 60 + [1.0] * 30 + [2.0] * 10,
                       "china": np.linspace(1, 5, 100)})
    fig, ax = plots.binned_scatter(df, n_bins=5)
    data_line = ax.containers[0][0]
    # 60% of rows at 0: the edges at the 20%, 40% and 60% quantiles coincide and merge;
    # each of the three values gets its own bin
    assert list(data_line.get_xdata()) == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (pd.DataFrame({"antiauth": [1.0, 2.0]}), {}, ValueError, "china"),
        (pd.DataFrame({"antiauth": list("abcd") * 20, "china": 1.0}), {}, TypeError, "antiauth"),
        (pd.DataFrame({"antiauth": np.arange(10.0), "china": 1.0}), {}, ValueError, "n_bins"),
        (pd.DataFrame({"antiauth": np.ones(50), "china": np.arange(50.0)}), {"n_bins": 5},
         ValueError, "distinct"),
        (pd.DataFrame({"antiauth": np.arange(50.0), "china": 1.0}), {"n_bins": 1},
         ValueError, "n_bins"),
        (pd.DataFrame({"antiauth": np.arange(50.0), "china": 1.0}),
         {"n_bins": 5, "line": (1.0, 2.0)}, ValueError, "line"),
        ([1, 2, 3], {}, TypeError, "DataFrame"),
    ],
)
def test_binned_scatter_rejects_bad_input(frame, kwargs, error, match):
    with pytest.raises(error, match=match):
        plots.binned_scatter(frame, **kwargs)


# ------------------------------------------------------------------------------------------
# caterpillar
# ------------------------------------------------------------------------------------------
def test_caterpillar_sorted_with_sizes_and_hdi_bars(tmp_path):
    names = ["Nigeria", "Tanzania", "Tunisia", "Zimbabwe", "Zudan", "Zudania"]
    est = _estimates(names)
    sizes = {"Nigeria": 1600, "Tanzania": 2400, "Tunisia": 1200, "Zimbabwe": 1200,
             "Zudan": 4, "Zudania": 3000}
    fig, ax = plots.caterpillar(est, sizes=sizes, reference=3.2)
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    (points,) = [ln for ln in ax.lines if ln.get_marker() not in (None, "None", "")]
    order = est.sort_values("mean").index
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{g} (N = {sizes[g]:,})" for g in order]
    assert "Zudan (N = 4)" in labels and "Zudania (N = 3,000)" in labels
    # one point and one bar per group, sorted by the mean, bars enclose the means
    means = points.get_xdata()
    assert len(means) == len(names)
    assert np.all(np.diff(means) >= 0)
    for (x0, y0), (x1, y1) in bars.get_segments():
        assert y0 == y1
    lows = np.array([min(s[0][0], s[1][0]) for s in bars.get_segments()])
    highs = np.array([max(s[0][0], s[1][0]) for s in bars.get_segments()])
    assert np.all(lows <= means) and np.all(means <= highs)
    assert lows == pytest.approx(est.loc[order, "hdi_low"].to_numpy())
    # reference line at the overall mean, labels with scale
    assert any(len(set(ln.get_xdata())) == 1 and ln.get_xdata()[0] == 3.2 for ln in ax.lines)
    assert _has_scale(ax.get_xlabel())
    assert ax.get_ylabel()
    assert "94% HDI" in ax.get_title()
    fig.savefig(tmp_path / "caterpillar.png")


def test_caterpillar_overlays_two_models_dodged():
    names = [f"C{i}" for i in range(8)]
    models = {"No pooling": _estimates(names, 1), "Partial pooling": _estimates(names, 2)}
    fig, ax = plots.caterpillar(models)
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bars) == 2
    y_first = np.array([s[0][1] for s in bars[0].get_segments()])
    y_second = np.array([s[0][1] for s in bars[1].get_segments()])
    assert len(y_first) == len(y_second) == len(names)
    assert np.all(y_first != y_second)  # dodged within each row
    assert np.all(np.abs(y_first - y_second) < 0.5)  # but in the same row
    assert [to_hex(b.get_color()[0]) for b in bars] == [
        style.POOLING_COLORS["No pooling"].lower(), style.POOLING_COLORS["Partial pooling"].lower()
    ]
    assert _legend_labels(fig, ax) == ["No pooling", "Partial pooling"]
    assert "No pooling vs partial pooling" in ax.get_title()


def test_caterpillar_37_groups_tick_labels_do_not_overlap(survey):
    names = list(survey["country_name"].cat.categories)
    assert len(names) >= 35
    sizes = survey["country_name"].value_counts()
    fig, ax = plots.caterpillar(
        {"No pooling": _estimates(names, 3), "Partial pooling": _estimates(names, 4)},
        sizes=sizes,
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()]
    assert len(boxes) == len(names)
    for a, b in itertools.combinations(boxes, 2):
        assert not _overlap(a, b)
    # every label inside the figure (not clipped at the left edge)
    width, height = fig.canvas.get_width_height()
    assert all(b.x0 >= 0 and b.x1 <= width and b.y0 >= 0 and b.y1 <= height for b in boxes)
    # the figure grows with the number of groups
    assert fig.get_figheight() > 8


def test_caterpillar_rejects_bad_input():
    est = _estimates(["A", "B", "C"])
    with pytest.raises(ValueError, match="hdi_high"):
        plots.caterpillar(est.drop(columns="hdi_high"))
    with pytest.raises(ValueError, match="same groups"):
        plots.caterpillar({"No pooling": est, "Partial pooling": est.iloc[:2]})
    with pytest.raises(ValueError, match="sizes"):
        plots.caterpillar(est, sizes={"A": 3, "B": 4})
    bad = est.copy()
    bad.loc["A", "hdi_low"] = bad.loc["A", "hdi_high"] + 1
    with pytest.raises(ValueError, match="hdi_low > hdi_high"):
        plots.caterpillar(bad)
    with pytest.raises(TypeError, match="numeric"):
        plots.caterpillar(est.assign(mean="x"))
    with pytest.raises(ValueError, match="missing or infinite"):
        plots.caterpillar(est.assign(mean=np.nan))
    with pytest.raises(TypeError, match="DataFrame"):
        plots.caterpillar([1, 2, 3])


def test_intercept_table_from_posterior(idata):
    table = plots.intercept_table(idata, var="alpha", group_dim="country", hdi_prob=0.94)
    assert list(table.columns) == ["mean", "hdi_low", "hdi_high"]
    assert list(table.index) == ["Nigeria", "Tanzania", "Zudan"]
    assert table.index.name == "country"
    draws = idata.posterior["alpha"].values.reshape(-1, 3)
    assert table["mean"].to_numpy() == pytest.approx(draws.mean(axis=0))
    assert np.all(table["hdi_low"] < table["mean"]) and np.all(table["mean"] < table["hdi_high"])
    inside = ((draws >= table["hdi_low"].to_numpy()) & (draws <= table["hdi_high"].to_numpy()))
    assert inside.mean(axis=0) == pytest.approx(0.94, abs=0.02)
    fig, ax = plots.caterpillar(table)  # plugs straight into the figure
    with pytest.raises(ValueError, match="'gamma'"):
        plots.intercept_table(idata, var="gamma")
    with pytest.raises(ValueError, match="party"):
        plots.intercept_table(idata, group_dim="party")


# ------------------------------------------------------------------------------------------
# pooling panels
# ------------------------------------------------------------------------------------------
def _lines_for(data: pd.DataFrame) -> dict:
    xbar = data["antiauth"].mean()
    means = data.groupby("country_name", observed=True)["china"].mean()
    no = pd.DataFrame({"intercept": means, "slope": -0.15, "x_center": xbar})
    partial = no.assign(intercept=0.5 * means + 0.5 * data["china"].mean())
    complete = (data["china"].mean(), -0.15, xbar)
    return {"No pooling": no, "Complete pooling": complete, "Partial pooling": partial}


SIX = ["Country 00", "Country 01", "Country 02", "Country 03", "Zudan", "Zudania"]


def test_pooling_panels_2x3_lines_points_titles_legend(survey, tmp_path):
    lines = _lines_for(survey)
    fig, axes = plots.pooling_panels(survey, lines, SIX)
    assert len(axes) == 6
    sizes = survey["country_name"].value_counts()
    for ax, g in zip(axes, SIX):
        assert ax.get_title() == f"{g} (N = {sizes[g]:,})"
        drawn = [ln.get_label() for ln in ax.lines]
        assert drawn == POOLING_LABELS
        (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(points.get_offsets()) == sizes[g]
        # the line evaluated at x_center is the intercept
        no_line = ax.lines[0]
        xs, ys = no_line.get_xdata(), no_line.get_ydata()
        a, b, c = lines["No pooling"].loc[g]
        assert np.interp(c, xs, ys) == pytest.approx(a)
    assert "Zudan (N = 4)" in [ax.get_title() for ax in axes]
    assert _legend_labels(fig) == POOLING_LABELS
    # shared axes, outer labels with their scale
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[5])
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[5])
    assert _has_scale(axes[0].get_ylabel()) and _has_scale(axes[3].get_ylabel())
    assert all(_has_scale(ax.get_xlabel()) for ax in axes[3:])
    assert "pooling" in fig.get_suptitle()
    # legend colours and styles are the site's
    legend = fig.legends[0]
    for handle, label in zip(legend.legend_handles, POOLING_LABELS):
        assert to_hex(handle.get_color()) == style.POOLING_COLORS[label].lower()
    fig.savefig(tmp_path / "panels.png")


def test_pooling_panels_2x2_and_tuple_or_dict_lines(survey):
    groups = SIX[:4]
    lines = {
        "No pooling": {g: (3.0, -0.1, 2.0) for g in groups},
        "Complete pooling": (3.2, -0.15, 2.0),
    }
    fig, axes = plots.pooling_panels(survey, lines, groups, ncols=2, show_points=False)
    assert len(axes) == 4
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    assert all(len(ax.collections) == 0 for ax in axes)
    assert _legend_labels(fig) == ["No pooling", "Complete pooling"]


def test_pooling_panels_draws_into_given_axes(survey):
    fig, given = plt.subplots(1, 2, sharey=True)
    out_fig, axes = plots.pooling_panels(survey, _lines_for(survey), ["Zudan", "Zudania"],
                                         ax=given)
    assert out_fig is fig and list(axes) == list(given)
    assert all(_has_scale(ax.get_xlabel()) for ax in axes)


def test_pooling_panels_rejects_bad_input(survey):
    lines = _lines_for(survey)
    with pytest.raises(ValueError, match="'Sudan'.*country_name"):
        plots.pooling_panels(survey, lines, ["Sudan"])
    partial = lines["Partial pooling"].drop(index="Zudan")
    with pytest.raises(ValueError, match="Partial pooling.*Zudan"):
        plots.pooling_panels(survey, {**lines, "Partial pooling": partial}, ["Zudan"])
    with pytest.raises(ValueError, match="country_name"):
        plots.pooling_panels(survey.drop(columns="country_name"), lines, ["Zudan"])
    with pytest.raises(ValueError, match="groups"):
        plots.pooling_panels(survey, lines, [])
    with pytest.raises(ValueError, match="lines"):
        plots.pooling_panels(survey, {}, ["Zudan"])
    with pytest.raises(ValueError, match="three numbers"):
        plots.pooling_panels(survey, {"No pooling": {"Zudan": (1.0, "a", 2.0)}}, ["Zudan"])
    with pytest.raises(ValueError, match="axes"):
        _, one = plt.subplots()
        plots.pooling_panels(survey, lines, ["Zudan", "Zudania"], ax=[one])


def test_lines_from_posterior(idata):
    table = plots.lines_from_posterior(idata, x_center=2.0)
    assert list(table.columns) == ["intercept", "slope", "x_center"]
    assert list(table.index) == ["Nigeria", "Tanzania", "Zudan"]
    assert table["slope"].nunique() == 1
    assert table.loc["Zudan", "intercept"] == pytest.approx(
        float(idata.posterior["alpha"].sel(country="Zudan").mean())
    )
    complete = plots.lines_from_posterior(idata, x_center=2.0, intercept="mu_alpha")
    assert isinstance(complete, tuple) and len(complete) == 3
    per_group = plots.lines_from_posterior(
        idata, x_center={"Nigeria": 1.0, "Tanzania": 2.0, "Zudan": 3.0}
    )
    assert per_group["x_center"].tolist() == [1.0, 2.0, 3.0]
    # without x_center, the centre stored by the model builders is used
    stored = azb.from_dict(
        {"posterior": {"alpha": idata.posterior["alpha"].values,
                       "beta": idata.posterior["beta"].values},
         "constant_data": {"predictor_mean": np.array(2.5)}},
        dims={"alpha": ["country"]}, coords={"country": ["Nigeria", "Tanzania", "Zudan"]},
    )
    assert plots.lines_from_posterior(stored)["x_center"].tolist() == [2.5, 2.5, 2.5]
    with pytest.raises(ValueError, match="x_center"):
        plots.lines_from_posterior(idata)


# ------------------------------------------------------------------------------------------
# shrinkage
# ------------------------------------------------------------------------------------------
def _shrinkage_table():
    n = pd.Series({"Zudan": 4, "Small": 30, "Mid A": 400, "Mid B": 900, "Zudania": 3000})
    no = pd.Series({"Zudan": 2.0, "Small": 3.8, "Mid A": 3.0, "Mid B": 3.4, "Zudania": 4.0})
    overall = 3.25
    w = n / (n + 5)
    return pd.DataFrame({"n": n, "no_pooling": no, "partial_pooling": overall + w * (no - overall),
                         "complete_pooling": overall})


def _arrow_ends(ax, arrow):
    """Start and tip of a vertical arrow (data coordinates, from its drawn path) and how far
    (data units) they may sit from the arrow's end points: its 3.5-point shrink at each end,
    plus as much again for the head, which matplotlib pulls back by its own line width."""
    path = arrow.get_path()
    vertices = path.vertices if path.codes is None else path.vertices[path.codes != path.CLOSEPOLY]
    start = vertices[0]
    tip = vertices[np.argmax(np.abs(vertices[:, 1] - start[1]))]
    shrink_px = 2 * 3.5 * ax.figure.dpi / 72
    up = ax.transData.inverted().transform(ax.transData.transform(start) + [0, shrink_px])
    return start, tip, abs(up[1] - start[1]) + 1e-9


def test_shrinkage_plot_arrows_log_scale_reference_and_labels(tmp_path):
    table = _shrinkage_table()
    fig, ax = plots.shrinkage_plot(table, highlight=["Zudan", "Zudania"])
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(table)
    fig.canvas.draw()
    for arrow, (_, row) in zip(arrows, table.iterrows()):
        (xa, ya), (xb, yb), slack = _arrow_ends(ax, arrow)
        assert xa == pytest.approx(row["n"]) and xb == pytest.approx(row["n"])
        assert ya == pytest.approx(row["no_pooling"], abs=slack)
        assert yb == pytest.approx(row["partial_pooling"], abs=slack)
    assert ax.get_xscale() == "log"
    assert "log scale" in ax.get_xlabel() and _has_scale(ax.get_ylabel())
    flat = [ln for ln in ax.lines if len(set(ln.get_ydata())) == 1]
    assert any(ln.get_ydata()[0] == pytest.approx(3.25) for ln in flat)
    texts = [t.get_text() for t in ax.texts]
    assert "Zudan (N = 4)" in texts and "Zudania (N = 3,000)" in texts
    labels = _legend_labels(fig, ax)
    assert labels[:2] == ["No pooling", "Partial pooling"]
    assert labels[2].startswith("Complete pooling")
    fig.savefig(tmp_path / "shrinkage.png")


def test_shrinkage_plot_rejects_bad_input():
    table = _shrinkage_table()
    with pytest.raises(ValueError, match="partial_pooling"):
        plots.shrinkage_plot(table.drop(columns="partial_pooling"))
    with pytest.raises(ValueError, match="positive"):
        plots.shrinkage_plot(table.assign(n=0))
    with pytest.raises(ValueError, match="Sudan"):
        plots.shrinkage_plot(table, highlight=["Sudan"])


# ------------------------------------------------------------------------------------------
# varying effects
# ------------------------------------------------------------------------------------------
POP = {"mu_alpha": 3.2, "mu_beta": -0.15, "sigma_alpha": 0.3, "sigma_beta": 0.05, "rho": -0.5}


def _effects(seed):
    rng = np.random.default_rng(seed)
    names = [f"C{i}" for i in range(12)]
    return pd.DataFrame({"alpha": rng.normal(3.2, 0.4, 12), "beta": rng.normal(-0.15, 0.08, 12)},
                        index=names)


def test_varying_effects_plot_segments_and_population_ellipses(tmp_path):
    no, partial = _effects(1), _effects(2)
    fig, ax = plots.varying_effects_plot(no, partial, population=POP, highlight=["C0"])
    (segments,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segs = segments.get_segments()
    assert len(segs) == len(no)
    assert segs[0][0] == pytest.approx(no.iloc[0].to_numpy())
    assert segs[0][1] == pytest.approx(partial.iloc[0].to_numpy())
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 2
    # each contour holds its share of the population distribution
    cov = np.array([[0.3**2, -0.5 * 0.3 * 0.05], [-0.5 * 0.3 * 0.05, 0.05**2]])
    draws = np.random.default_rng(0).multivariate_normal([3.2, -0.15], cov, 20000)
    for ell, level in zip(ellipses, (0.5, 0.89)):
        unit = ell.get_patch_transform().inverted().transform(draws)
        assert np.mean(np.hypot(*unit.T) <= 1) == pytest.approx(level, abs=0.015)
    assert _legend_labels(fig, ax)[:2] == ["No pooling", "Partial pooling"]
    assert _has_scale(ax.get_xlabel()) and _has_scale(ax.get_ylabel())
    assert "C0" in [t.get_text() for t in ax.texts]
    fig.savefig(tmp_path / "varying.png")


def test_varying_effects_plot_rejects_bad_input():
    no, partial = _effects(1), _effects(2)
    with pytest.raises(ValueError, match="same groups"):
        plots.varying_effects_plot(no, partial.iloc[:5])
    with pytest.raises(ValueError, match="rho"):
        plots.varying_effects_plot(no, partial, population={**POP, "rho": 1.5})
    with pytest.raises(ValueError, match="sigma_beta"):
        plots.varying_effects_plot(no, partial, population={k: v for k, v in POP.items()
                                                             if k != "sigma_beta"})
    with pytest.raises(ValueError, match="beta"):
        plots.varying_effects_plot(no.drop(columns="beta"), partial)


def test_effects_table_and_population_parameters(idata):
    table = plots.effects_table(idata, ["alpha", "beta"])
    assert list(table.columns) == ["alpha", "beta"]
    assert table["beta"].nunique() == 1  # a common slope is broadcast
    pop = plots.population_parameters(idata, names=("mu_alpha", "sigma_alpha"))
    assert pop["mu_alpha"] == pytest.approx(float(idata.posterior["mu_alpha"].mean()))


# ------------------------------------------------------------------------------------------
# ArviZ wrappers
# ------------------------------------------------------------------------------------------
def test_trace_plot_returns_styled_figure(idata, tmp_path):
    fig, axes = plots.trace_plot(idata, ["mu_alpha", "sigma_alpha"])
    assert isinstance(fig, Figure)
    assert len(axes) == 4  # density and trace for each variable
    assert "Trace" in fig.get_suptitle()
    assert fig.get_layout_engine() is not None
    fig.savefig(tmp_path / "trace.png")


def test_rank_plot_returns_figure(idata):
    fig, axes = plots.rank_plot(idata, ["mu_alpha"])
    assert isinstance(fig, Figure) and len(axes) >= 1


def test_forest_plot_overlays_models_in_pooling_colours(idata):
    other = _posterior(seed=5)
    fig, axes = plots.forest_plot({"No pooling": idata, "Partial pooling": other}, ["alpha"])
    assert isinstance(fig, Figure)
    assert _legend_labels(fig) == ["No pooling", "Partial pooling", "Posterior mean",
                                   "50% HDI", "94% HDI"]
    colours = {to_hex(ln.get_color()) for ln in axes[-1].lines}
    assert style.POOLING_COLORS["No pooling"].lower() in colours
    assert style.POOLING_COLORS["Partial pooling"].lower() in colours
    assert "94%" in axes[-1].get_title()
    assert "No pooling vs partial pooling" in axes[-1].get_title()
    assert axes[-1].get_xlabel()


def test_ppc_plot_labels_the_outcome_scale(idata):
    fig, axes = plots.ppc_plot(idata, num_samples=10)
    assert isinstance(fig, Figure)
    assert any("(1–5 score)" in ax.get_xlabel() for ax in axes)
    with pytest.raises(ValueError, match="posterior_predictive"):
        plots.ppc_plot(_posterior(with_ppc=False))


def test_pair_plot_shows_the_funnel_with_divergences(idata, tmp_path):
    fig, axes = plots.pair_plot(idata, ["alpha", "sigma_alpha"], coords={"country": "Zudan"})
    assert isinstance(fig, Figure)
    labels = {ax.get_xlabel() for ax in axes} | {ax.get_ylabel() for ax in axes}
    assert "log(sigma_alpha)" in labels
    assert "alpha [Zudan]" in labels  # the element the coords chose
    n_div = int(idata.sample_stats["diverging"].sum())
    assert _legend_labels(fig)[-1] == f"Divergent transition ({n_div})"
    assert f"{n_div} divergent transition" in " ".join(fig.get_suptitle().split())
    fig.savefig(tmp_path / "pair.png")


def test_pair_plot_title_says_when_there_are_no_divergences(idata):
    clean = idata.copy()
    clean["sample_stats"]["diverging"] = clean["sample_stats"]["diverging"] & False
    fig, _ = plots.pair_plot(clean, ["alpha", "sigma_alpha"], coords={"country": "Zudan"})
    assert " ".join(fig.get_suptitle().split()) == (  # long titles are wrapped
        "Posterior draws of alpha and log(sigma_alpha) (no divergent transitions)")
    assert not fig.legends  # nothing to point out


@pytest.mark.parametrize("func", ["trace_plot", "rank_plot", "forest_plot", "pair_plot"])
def test_arviz_wrappers_name_a_missing_variable(idata, func):
    with pytest.raises(ValueError, match="'gamma'"):
        getattr(plots, func)(idata, ["gamma"])


# ------------------------------------------------------------------------------------------
# model graph
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model():
    pm = pytest.importorskip("pymc")
    with pm.Model(coords={"country": ["A", "B"]}) as model:
        alpha = pm.Normal("alpha", 3, 1, dims="country")
        pm.Normal("china", alpha[np.array([0, 1, 1])], 1, observed=[3.0, 2.5, 4.0])
    return model


def test_model_graph_returns_graphviz(tiny_model):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed here")
    graph = plots.model_graph(tiny_model)
    assert "alpha" in graph.source and "china" in graph.source


def test_model_graph_explains_a_missing_dot(tiny_model, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError) as info:
        plots.model_graph(tiny_model)
    message = str(info.value)
    assert "Graphviz `dot`" in message
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert "model itself is fine" in message


def test_style_context_leaves_settings_it_does_not_own_alone():
    # Jupyter's inline backend switches the interactive flag on while the first figure is
    # drawn; restoring it on exit would stop later figures from being shown.
    import matplotlib as mpl

    from pooling.style import RC_PARAMS, style_context

    was_interactive = mpl.is_interactive()
    mpl.interactive(False)
    try:
        with style_context():
            mpl.interactive(True)
            styled = {key: mpl.rcParams[key] for key in RC_PARAMS}
        assert mpl.is_interactive()
        assert styled == {key: mpl.rcParams.validate[key](value) for key, value in RC_PARAMS.items()}
    finally:
        mpl.interactive(was_interactive)


def _trade_table():
    rng = np.random.default_rng(4)
    groups = [f"Country {i}" for i in range(12)]
    log_trade = rng.uniform(4, 10, size=12)
    no_pooling = 3 + 0.1 * (log_trade - 7) + rng.normal(0, 0.3, size=12)
    partial = 0.5 * no_pooling + 0.5 * (3 + 0.1 * (log_trade - 7))
    return pd.DataFrame(
        {"log_trade_china": log_trade, "no_pooling": no_pooling, "partial_pooling": partial},
        index=groups,
    )


def test_group_predictor_plot_draws_vertical_segments_and_the_line():
    from pooling.plots import group_predictor_plot

    table = _trade_table()
    fig, ax = group_predictor_plot(
        table, predictor="log_trade_china", line=(3.0, 0.1, 7.0), highlight=["Country 0"]
    )
    segments = ax.collections[0].get_segments()
    assert len(segments) == len(table)
    assert all(np.isclose(seg[0, 0], seg[1, 0]) for seg in segments), "segments must be vertical"
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["No pooling", "Partial pooling", "Group-level regression"]
    assert "log USD" in ax.get_xlabel()
    plt.close(fig)


def test_group_predictor_plot_names_a_missing_column():
    from pooling.plots import group_predictor_plot

    with pytest.raises(ValueError, match="log_uranium"):
        group_predictor_plot(_trade_table(), predictor="log_uranium")


# ------------------------------------------------------------------------------------------
# reading the figures on the page
# ------------------------------------------------------------------------------------------
def _saved_width_px(fig) -> float:
    """Width in px of the image the site saves: tight bounding box plus padding, at PAGE_DPI."""
    fig.draw_without_rendering()
    tight = fig.get_tightbbox(fig.canvas.get_renderer())
    return (tight.width + 2 * mpl.rcParams["savefig.pad_inches"]) * style.PAGE_DPI


def _shown_text_px(fig) -> tuple[float, str]:
    """Height in CSS px of the smallest text of ``fig`` as the page shows it.

    The site saves figures at ``style.PAGE_DPI`` with a tight bounding box; a figure wider
    than the page column (``style.COLUMN_WIDTH_PX``) is shrunk to fit, and its text with it.
    """
    shrink = min(1.0, style.COLUMN_WIDTH_PX / _saved_width_px(fig))
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    smallest = min(texts, key=lambda t: t.get_fontsize())
    return smallest.get_fontsize() * style.PAGE_DPI / 72 * shrink, smallest.get_text()


def _every_figure(survey, idata):
    names = list(survey["country_name"].cat.categories)
    sizes = survey["country_name"].value_counts()
    other = _posterior(seed=5)
    yield "binned_scatter", plots.binned_scatter(survey)[0]
    yield "caterpillar", plots.caterpillar(
        {"No pooling": _estimates(names, 3), "Partial pooling": _estimates(names, 4)},
        sizes=sizes)[0]
    yield "pooling_panels", plots.pooling_panels(survey, _lines_for(survey), SIX)[0]
    yield "shrinkage_plot", plots.shrinkage_plot(_shrinkage_table(), highlight=["Zudan"])[0]
    yield "varying_effects_plot", plots.varying_effects_plot(
        _effects(1), _effects(2), population=POP, highlight=["C0"])[0]
    yield "group_predictor_plot", plots.group_predictor_plot(
        _trade_table(), predictor="log_trade_china", line=(3.0, 0.1, 7.0))[0]
    yield "contextual_effect_plot", plots.contextual_effect_plot(
        _context_panels(), highlight=["Zudan"])[0]
    yield "forest_plot", plots.forest_plot({"No pooling": idata, "Partial pooling": other},
                                           ["alpha", "sigma_alpha"])[0]
    yield "ppc_plot", plots.ppc_plot(idata, num_samples=10)[0]
    yield "pair_plot", plots.pair_plot(idata, ["alpha", "sigma_alpha"],
                                       coords={"country": "Zudan"})[0]
    yield "trace_plot", plots.trace_plot(idata, ["mu_alpha", "sigma_alpha"])[0]
    yield "rank_plot", plots.rank_plot(idata, ["mu_alpha", "sigma_alpha"])[0]


def test_every_figure_fits_the_page_column_with_text_at_least_11_px(survey, idata):
    for name, fig in _every_figure(survey, idata):
        px, text = _shown_text_px(fig)
        assert px >= 11, f"{name}: {text!r} is {px:.1f} px tall on the page"
        width = _saved_width_px(fig)
        assert width <= style.COLUMN_WIDTH_PX, f"{name} is saved {width:.0f} px wide"
        plt.close(fig)


def _marker_centres_px(ax) -> np.ndarray:
    """Display coordinates of every scatter marker on ``ax``."""
    offsets = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
    return ax.transData.transform(np.vstack(offsets))


def _assert_labels_clear(fig, ax, texts):
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    centres = _marker_centres_px(ax)
    boxes = []
    for text in texts:
        box = Text.get_window_extent(text, renderer)  # the text, without its leader line
        inside = ((centres[:, 0] > box.x0) & (centres[:, 0] < box.x1)
                  & (centres[:, 1] > box.y0) & (centres[:, 1] < box.y1))
        assert not inside.any(), f"{text.get_text()!r} covers {int(inside.sum())} marker(s)"
        assert (frame.x0 <= box.x0 and box.x1 <= frame.x1
                and frame.y0 <= box.y0 and box.y1 <= frame.y1), f"{text.get_text()!r} sticks out"
        boxes.append(box)
    for a, b in itertools.combinations(boxes, 2):
        assert not _overlap(a, b)


def test_shrinkage_labels_keep_clear_of_crowded_data():
    # the largest group sits at the right edge among groups of similar size and estimate,
    # where a label on either side used to cover other groups' markers
    rng = np.random.default_rng(7)
    n = np.concatenate([rng.integers(1, 12, 60), rng.integers(20, 60, 20), [100, 105]])
    no = rng.normal(1.3, 0.45, n.size)
    no[-2:] = [1.35, 1.32]
    w = n / (n + 4)
    table = pd.DataFrame({"n": n, "no_pooling": no, "partial_pooling": 1.3 + w * (no - 1.3),
                          "complete_pooling": 1.25}, index=[f"C{i}" for i in range(n.size)])
    fig, ax = plots.shrinkage_plot(table, highlight=["C81", "C80", "C0"])
    texts = [t for t in ax.texts if "(N = " in t.get_text()]
    assert [t.get_text() for t in texts] == [
        f"C81 (N = 105)", f"C80 (N = 100)", f"C0 (N = {n[0]})"]
    _assert_labels_clear(fig, ax, texts)


def test_shrinkage_label_does_not_cross_a_neighbouring_arrow():
    # a one-member group right next to a three-member group with a long arrow that passes
    # at the height of the first group's label: the label must not be drawn across it
    n = pd.Series({"One": 1, "Three": 3, "Big A": 200, "Big B": 400, "Big C": 800})
    no = pd.Series({"One": -0.05, "Three": -0.71, "Big A": 0.1, "Big B": -0.1, "Big C": 0.05})
    pp = pd.Series({"One": -0.005, "Three": -0.045, "Big A": 0.09, "Big B": -0.09, "Big C": 0.05})
    table = pd.DataFrame({"n": n, "no_pooling": no, "partial_pooling": pp, "complete_pooling": 0.0})
    fig, ax = plots.shrinkage_plot(table, highlight=["One", "Three"])
    _assert_labels_clear(fig, ax, ax.texts)
    renderer = fig.canvas.get_renderer()
    for text in ax.texts:
        box = Text.get_window_extent(text, renderer)
        for group, row in table.iterrows():
            (x, y0), (_, y1) = ax.transData.transform([(row["n"], row["no_pooling"]),
                                                       (row["n"], row["partial_pooling"])])
            crosses = box.x0 < x < box.x1 and min(y0, y1) < box.y1 and box.y0 < max(y0, y1)
            assert not crosses, f"{text.get_text()!r} is drawn across the arrow of {group}"


def test_varying_effects_and_group_predictor_labels_keep_clear_of_data():
    fig, ax = plots.varying_effects_plot(_effects(1), _effects(2), population=POP,
                                         highlight=["C0", "C1", "C2"])
    _assert_labels_clear(fig, ax, ax.texts)
    fig, ax = plots.group_predictor_plot(_trade_table(), predictor="log_trade_china",
                                         line=(3.0, 0.1, 7.0),
                                         highlight=["Country 0", "Country 5"])
    _assert_labels_clear(fig, ax, ax.texts)


def test_place_labels_avoids_given_obstacles_and_each_other():
    fig, ax = plt.subplots(figsize=(5, 4))
    xs, ys = np.meshgrid(np.linspace(0, 10, 11), np.linspace(0, 10, 11))
    ax.scatter(xs.ravel(), ys.ravel())
    ax.set(xlim=(-1, 11), ylim=(-1, 11))
    # the only free space is between the rows of markers: labels must find it
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    texts = plots.place_labels(ax, [("A", (5, 5)), ("B", (5, 5)), ("C", (10, 10))], grid)
    assert [t.get_text() for t in texts] == ["A", "B", "C"]
    _assert_labels_clear(fig, ax, texts)
    assert all(not t.get_in_layout() for t in texts)


def test_forest_plot_one_parameter_rows_are_the_models(idata):
    other = _posterior(seed=5)
    fig, axes = plots.forest_plot(
        {"Partial pooling": idata, "Partial pooling with trade": other}, "sigma_alpha",
        x_label="sigma_alpha (china points)")
    (ax,) = axes
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Partial pooling", "Partial pooling with trade"]
    # the rows already name the models: the legend is only the key to the marks
    assert _legend_labels(fig) == ["Posterior mean", "50% HDI", "94% HDI"]
    assert "sigma_alpha" in ax.get_title() and "94%" in ax.get_title()
    # every interval lies well inside the frame, none on its edges
    lo, hi = ax.get_xlim()
    ends = np.concatenate([ln.get_xdata() for ln in ax.lines])
    assert lo < ends.min() and ends.max() < hi
    colours = [to_hex(ln.get_color()) for ln in ax.lines]
    assert style.POOLING_COLORS["Partial pooling"].lower() in colours
    # a model that is not one of the three strategies never borrows a pooling colour
    others = set(colours) - {style.POOLING_COLORS["Partial pooling"].lower()}
    assert others and not others & {c.lower() for c in style.POOLING_COLORS.values()}
    # the thin line is the 94% HDI of the draws, the thick one the 50% HDI
    import arviz_stats as azs

    draws = idata.posterior["sigma_alpha"]
    wide = np.asarray(azs.hdi(draws, prob=0.94, dim=["chain", "draw"]))
    assert sorted(ax.lines[0].get_xdata()) == pytest.approx(sorted(wide))
    assert ax.lines[2].get_xdata()[0] == pytest.approx(float(draws.mean()))


def test_forest_plot_vector_variable_one_row_per_element(idata):
    fig, axes = plots.forest_plot(idata, "alpha", coords={"country": ["Zudan", "Nigeria"]})
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    assert labels == ["alpha[Zudan]", "alpha[Nigeria]"]
    with pytest.raises(ValueError, match="hdi_prob"):
        plots.forest_plot(idata, "alpha", hdi_prob=94)


def _three_model_ppc(idata):
    import xarray as xr

    pp = idata.posterior_predictive["china"]
    obs = idata.observed_data["china"]
    return xr.DataTree.from_dict({
        "posterior_predictive": xr.Dataset({m: pp + 0.3 * i for i, m in enumerate(POOLING_LABELS)}),
        "observed_data": xr.Dataset({m: obs for m in POOLING_LABELS}),
    })


@pytest.mark.parametrize("kind, y_label", [("kde", "Density"), ("ecdf", "Cumulative proportion")])
def test_ppc_plot_stacks_models_on_a_shared_x_axis(idata, kind, y_label):
    fig, axes = plots.ppc_plot(_three_model_ppc(idata), num_samples=10, kind=kind,
                               x_label="Attitude toward China (1–5 score)")
    assert len(axes) == 3
    fig.draw_without_rendering()
    assert len({ax.get_xlim() for ax in axes}) == 1, "panels must share one x range"
    # stacked: same left edge, one above the other
    boxes = [ax.get_position() for ax in axes]
    assert len({round(b.x0, 6) for b in boxes}) == 1
    assert boxes[0].y0 > boxes[1].y0 > boxes[2].y0
    assert [ax.get_title() for ax in axes] == [f"{m} (N = 40)" for m in POOLING_LABELS]
    assert all(ax.get_ylabel() == y_label for ax in axes)
    assert [ax.get_xlabel() for ax in axes] == ["", "", "Attitude toward China (1–5 score)"]
    assert _legend_labels(fig) == ["Observed data", "Replicated data sets (10)"]


def test_model_graph_is_readable_at_page_width(tiny_model):
    import re
    import shutil

    pm = pytest.importorskip("pymc")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed here")

    def width_px(graph):
        svg = graph.pipe(format="svg").decode()
        return float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1)) * 4 / 3

    small = plots.model_graph(tiny_model)
    assert small.graph_attr["rankdir"] == "LR"
    assert small.node_attr["fontsize"] == "12" and "Sans" in small.node_attr["fontname"]
    # plate labels sit at the top of their plate, away from the arrows that leave it
    assert "labelloc=t" in small.source and "labelloc=b" not in small.source
    # twelve parameters side by side: far too wide top-down, one column wide left-to-right
    with pm.Model() as wide_model:
        params = [pm.Normal(f"parameter_{i:02d}", 0, 1) for i in range(12)]
        pm.Normal("outcome", sum(params), 1, observed=[0.5, 1.0])
    top_down = plots.model_graph(wide_model, direction="TB")
    assert top_down.graph_attr["rankdir"] == "TB"
    assert width_px(top_down) > 2 * style.COLUMN_WIDTH_PX
    assert width_px(plots.model_graph(wide_model)) <= style.COLUMN_WIDTH_PX
    with pytest.raises(ValueError, match="direction"):
        plots.model_graph(tiny_model, direction="up")


def test_rank_plot_stacks_variables_and_moves_the_test_into_the_title(idata):
    fig, axes = plots.rank_plot(idata, ["mu_alpha", "sigma_alpha"])
    assert len(axes) == 2
    fig.draw_without_rendering()
    assert axes[0].get_xlim() == axes[1].get_xlim()
    assert axes[0].get_position().y0 > axes[1].get_position().y0
    for ax, name in zip(axes, ["mu_alpha", "sigma_alpha"]):
        assert ax.get_title().startswith(f"{name} (test that the chains agree: p = ")
        assert ax.get_ylabel() == "ECDF difference"
        assert not [t for t in ax.texts if t.get_text().startswith("p=")]
        assert any(set(ln.get_ydata()) == {0.0} for ln in ax.lines), "no reference line at 0"
    assert _has_scale(axes[-1].get_xlabel()) and axes[0].get_xlabel() == ""
    assert _legend_labels(fig) == ["Chain 1", "Chain 2", "Outside the expected range"]


def test_pair_plot_takes_axis_labels_with_units(idata):
    fig, axes = plots.pair_plot(
        idata, ["alpha", "sigma_alpha"], coords={"country": "Zudan"},
        labels={"alpha": "Zudan's intercept (china, 1–5 score)"})
    labels = {ax.get_xlabel() for ax in axes} | {ax.get_ylabel() for ax in axes}
    assert "Zudan's intercept (china, 1–5 score)" in labels
    assert "log(sigma_alpha)" in labels
    with pytest.raises(ValueError, match="'beta'"):
        plots.pair_plot(idata, ["alpha", "sigma_alpha"], labels={"beta": "slope"})


# ------------------------------------------------------------------------------------------
# dark mode: the site inverts figure images (styles/figures.scss)
# ------------------------------------------------------------------------------------------
def _dark_filter():
    """The CSS filter applied to figure images in dark mode, as a function on RGB in 0..1.

    Reads ``invert(a) hue-rotate(d)`` from styles/figures.scss and applies the two filter
    functions as the Filter Effects specification defines them (in sRGB).
    """
    import math
    import re
    from pathlib import Path

    scss = (Path(__file__).parents[1] / "styles" / "figures.scss").read_text()
    found = re.search(r"filter:\s*invert\(([0-9.]+)\)\s*hue-rotate\(([0-9.]+)deg\)", scss)
    assert found, "styles/figures.scss has no invert(...) hue-rotate(...) filter for figures"
    amount, degrees = float(found.group(1)), float(found.group(2))
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    rotate = np.array([
        [0.213 + 0.787 * c - 0.213 * s, 0.715 - 0.715 * c - 0.715 * s,
         0.072 - 0.072 * c + 0.928 * s],
        [0.213 - 0.213 * c + 0.143 * s, 0.715 + 0.285 * c + 0.140 * s,
         0.072 - 0.072 * c - 0.283 * s],
        [0.213 - 0.213 * c - 0.787 * s, 0.715 - 0.715 * c + 0.715 * s,
         0.072 + 0.928 * c + 0.072 * s],
    ])

    def apply(rgb):
        inverted = amount * (1 - np.asarray(rgb)) + (1 - amount) * np.asarray(rgb)
        return np.clip(rotate @ inverted, 0, 1)

    return apply


def _contrast(a, b) -> float:
    def luminance(rgb):
        rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]

    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_dark_mode_figures_sit_on_the_page_background_and_keep_the_pooling_colours():
    from matplotlib.colors import to_rgb

    dark = _dark_filter()
    page = np.array(to_rgb("#222222"))  # darkly's body background
    # the white figure background becomes the page background: no glaring box
    assert dark(np.ones(3)) == pytest.approx(page, abs=1 / 255)
    shown = {label: dark(np.array(to_rgb(c))) for label, c in style.POOLING_COLORS.items()}
    for label, rgb in shown.items():
        assert _contrast(rgb, page) >= 4.5, f"{label} is too faint on the dark page"
    # each strategy keeps a colour of its own (and its hue: vermillion stays red-orange,
    # blue stays blue)
    for a, b in itertools.combinations(shown, 2):
        assert np.abs(shown[a] - shown[b]).max() > 0.25, f"{a} and {b} look alike"
    vermillion, blue = shown["No pooling"], shown["Partial pooling"]
    assert vermillion[0] > vermillion[2] and blue[2] > blue[0]


# ------------------------------------------------------------------------------------------
# contextual effects: within-country vs between-country slopes
# ------------------------------------------------------------------------------------------
def _context_panels():
    """Two panels of group means: ten countries, then the same plus a tiny 'Zudan'."""
    rng = np.random.default_rng(3)
    names = [f"Country {i}" for i in range(10)]
    table = pd.DataFrame(
        {"x_mean": rng.normal(2.5, 0.2, 10), "y_mean": rng.normal(3.2, 0.2, 10),
         "n": rng.integers(300, 2000, 10)},
        index=pd.Index(names, name="country"),
    )
    more = pd.concat([table, pd.DataFrame({"x_mean": [1.9], "y_mean": [2.1], "n": [4]}, index=["Zudan"])])
    lines = {"within": -0.1, "between": -0.05, "center": 2.5, "level": 3.2}
    return {"Simulated countries": (table, lines),
            "With Zudan": (more, {**lines, "between": 0.3})}


def test_contextual_effect_plot_draws_dots_segments_and_both_slopes():
    panels = _context_panels()
    fig, axes = plots.contextual_effect_plot(panels, highlight=["Zudan"], half_width=0.2)
    assert len(axes) == 2
    for ax, (table, lines) in zip(axes, panels.values(), strict=True):
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(dots) == 1 and len(dots[0].get_offsets()) == len(table)
        # dot area grows with the group size
        areas = dots[0].get_sizes()
        assert areas[np.argmax(table["n"].to_numpy())] == areas.max()
        segments = [c for c in ax.collections if isinstance(c, LineCollection)][0].get_segments()
        assert len(segments) == len(table)
        for seg, x0 in zip(segments, table["x_mean"], strict=True):
            assert np.isclose(seg[1, 0] - seg[0, 0], 0.4)
            assert np.isclose((seg[1, 1] - seg[0, 1]) / (seg[1, 0] - seg[0, 0]), lines["within"])
            assert np.isclose(seg[:, 0].mean(), x0)
        slopes = sorted(line._slope for line in ax.get_lines())
        assert np.allclose(slopes, sorted([lines["within"], lines["between"]]))
        colours = {to_hex(line.get_color()) for line in ax.get_lines()}
        assert colours <= OKABE_ITO_HEX
        assert _has_scale(ax.get_xlabel())
    assert _has_scale(axes[0].get_ylabel())
    # group counts, the range of group sizes and both slopes in the panel titles
    assert "10 countries, n = " in axes[0].get_title()
    assert "11 countries, n = 4–" in axes[1].get_title()
    assert "between 0.30" in axes[1].get_title() and "within \N{MINUS SIGN}0.10" in axes[1].get_title()
    assert [t.get_text() for t in axes[1].texts] == ["Zudan"] and not axes[0].texts
    assert _legend_labels(fig) == [
        "Country mean (dot area ∝ respondents)", "Within-country slope β through each country mean",
        "Within-country slope β", "Between-country slope β + γ₁",
    ]
    assert fig.get_suptitle()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: {}, "non-empty dict"),
        (lambda p: {"A": p["With Zudan"][0]}, "pair"),
        (lambda p: {"A": (p["With Zudan"][0].drop(columns="n"), p["With Zudan"][1])}, "'n'"),
        (lambda p: {"A": (p["With Zudan"][0], {"within": 0.1})}, "lack"),
        (lambda p: {"A": (p["With Zudan"][0].assign(n=0), p["With Zudan"][1])}, "positive"),
        (lambda p: {"A": (p["With Zudan"][0], {**p["With Zudan"][1], "between": np.nan})}, "finite"),
    ],
)
def test_contextual_effect_plot_names_bad_input(change, message):
    with pytest.raises(ValueError, match=message):
        plots.contextual_effect_plot(change(_context_panels()))


def test_contextual_effect_plot_names_an_unknown_highlight():
    with pytest.raises(ValueError, match="Atlantis"):
        plots.contextual_effect_plot(_context_panels(), highlight=["Atlantis"])
