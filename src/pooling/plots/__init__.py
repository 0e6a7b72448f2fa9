"""Every figure on the site.

Each function takes plain inputs (pandas DataFrames, numbers, ArviZ ``DataTree`` objects),
draws with the site style (:mod:`pooling.style`) and returns ``(fig, ax)`` or
``(fig, axes)``. Nothing here calls ``plt.show()``: the caller (a chapter or a test) decides
what to do with the figure.

Figures
-------
binned_scatter        quantile-binned means of the outcome against the predictor
caterpillar           group intercepts sorted by posterior mean with HDI bars (one or more models)
contextual_effect_plot
                      group means with the within-group and the between-group slopes
prior_predictive_plot prior regression lines, and simulated against observed answers
prior_group_spread_plot
                      the prior of the between-group sd, and simulated groups against the data
prior_scale_plot      estimates and sigma_alpha against the prior scale of sigma_alpha
pooling_panels        one panel per group: data plus the no / complete / partial pooling lines
shrinkage_plot        no-pooling -> partial-pooling arrows against group size
varying_effects_plot  group intercepts vs slopes, pulled toward the population ellipse
trace_plot, rank_plot, forest_plot, ppc_plot, pair_plot
                      thin wrappers around ArviZ 1.x (``arviz_plots``) with the site style
model_graph           the model as a Graphviz graph

One module per kind of figure: ``scatter``, ``intervals`` (caterpillar), ``panels``,
``arrows`` (shrinkage), ``effects``, ``priors`` (prior checks and sensitivity),
``contextual`` (within vs between slopes), ``diagnostics`` (ArviZ wrappers), ``graph``, and
``common`` (labels, legends, layout). The tables the figures take (``intercept_table``,
``lines_from_posterior``, ``effects_table``, ``population_parameters``) are computed by
:mod:`pooling.summaries` and re-exported here.
"""

from pooling.plots.arrows import shrinkage_plot
from pooling.plots.common import AXIS_LABELS, PANEL_LABELS, SHORT_NAMES, place_labels
from pooling.plots.contextual import contextual_effect_plot
from pooling.plots.diagnostics import forest_plot, pair_plot, ppc_plot, rank_plot, trace_plot
from pooling.plots.effects import group_predictor_plot, varying_effects_plot
from pooling.plots.graph import EDGE_ATTRS, GRAPH_ATTRS, NODE_ATTRS, model_graph
from pooling.plots.intervals import caterpillar
from pooling.plots.panels import pooling_panels
from pooling.plots.priors import prior_group_spread_plot, prior_predictive_plot, prior_scale_plot
from pooling.plots.scatter import binned_scatter, quantile_bins
from pooling.summaries import effects_table, intercept_table, lines_from_posterior, population_parameters

__all__ = [
    "AXIS_LABELS",
    "EDGE_ATTRS",
    "GRAPH_ATTRS",
    "NODE_ATTRS",
    "PANEL_LABELS",
    "SHORT_NAMES",
    "binned_scatter",
    "caterpillar",
    "contextual_effect_plot",
    "effects_table",
    "forest_plot",
    "group_predictor_plot",
    "intercept_table",
    "lines_from_posterior",
    "model_graph",
    "pair_plot",
    "place_labels",
    "pooling_panels",
    "prior_group_spread_plot",
    "prior_predictive_plot",
    "prior_scale_plot",
    "population_parameters",
    "ppc_plot",
    "quantile_bins",
    "rank_plot",
    "shrinkage_plot",
    "trace_plot",
    "varying_effects_plot",
]
