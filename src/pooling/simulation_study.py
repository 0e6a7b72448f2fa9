"""Does partial pooling estimate better? A simulation study with known truth.

Many surveys are drawn from a varying-intercept model whose true country intercepts are
known; each is analysed three ways, in closed form, and every country's estimate is
compared with its truth:

* **no pooling**: the country's own mean of ``china`` at the overall mean of ``antiauth``,
  with the within-country slope shared by all countries;
* **complete pooling**: one value for every country, the overall mean of ``china``;
* **partial pooling**: the precision-weighted average of the two (chapter 6's formula),
  with the between-country standard deviation ``tau`` estimated from the same survey
  (DerSimonian-Laird moment estimator) and the residual standard deviation from the
  within-country residuals. This is the empirical-Bayes form of the partial-pooling model:
  its posterior means given those two variance estimates.

Generative model of one survey (country ``j`` with ``n_j`` respondents, respondent ``i``)::

    alpha_j ~ Normal(mu, tau)
    antiauth_i ~ Normal(center, antiauth_sd)
    china_i = alpha_j + beta * (antiauth_i - center) + Normal(0, sigma_y)

All quantities are in points of the 1-5 ``china`` score (``antiauth`` in points of the 0-4
index). The true intercept that an estimate targets is the country's expected ``china``
at the survey's overall mean of ``antiauth``, ``alpha_j + beta * (mean antiauth - center)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pooling.simulate import TRUE_PARAMETERS

__all__ = ["METHODS", "StudyDesign", "simulate_survey", "closed_form_estimates", "run_study", "error_by_size"]

#: The three estimates, in the order the site plots them.
METHODS = ("no_pooling", "partial_pooling", "complete_pooling")


@dataclass(frozen=True)
class StudyDesign:
    """Sizes and true parameters of the simulated surveys.

    ``sizes`` lists the respondents of every country (one entry per country). The default
    design has 4 countries of each of 8 sizes from 2 to 1,000 respondents; the true values
    are those behind the site's simulated survey (``pooling.simulate.TRUE_PARAMETERS``):
    ``tau`` 0.16, ``sigma_y`` 0.50, ``beta`` -0.10, ``mu`` 3.2.
    """

    sizes: tuple[int, ...] = tuple(n for n in (2, 5, 10, 25, 50, 100, 250, 1000) for _ in range(4))
    mu: float = TRUE_PARAMETERS.gamma_0
    tau: float = TRUE_PARAMETERS.tau_alpha
    beta: float = TRUE_PARAMETERS.beta
    sigma_y: float = TRUE_PARAMETERS.sigma_y
    antiauth_center: float = TRUE_PARAMETERS.antiauth_center
    antiauth_sd: float = TRUE_PARAMETERS.antiauth_sd

    def __post_init__(self):
        sizes = np.asarray(self.sizes)
        if sizes.ndim != 1 or len(sizes) < 3:
            raise ValueError(f"sizes must list at least 3 countries, got {self.sizes!r}")
        if not np.issubdtype(sizes.dtype, np.integer) or (sizes < 2).any():
            raise ValueError(f"every country needs an integer number of respondents >= 2, got {self.sizes!r}")
        for name in ("tau", "sigma_y", "antiauth_sd"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")


def simulate_survey(design: StudyDesign, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    """One simulated survey and its true intercepts.

    Returns
    -------
    survey
        One row per respondent: ``country`` (``"C01"``, ``"C02"``, ...), ``antiauth``, ``china``.
    truth
        True ``alpha_j`` (at ``antiauth = center``), indexed by country.
    """
    names = [f"C{j + 1:02d}" for j in range(len(design.sizes))]
    alpha = rng.normal(design.mu, design.tau, size=len(names))
    country = np.repeat(np.arange(len(names)), design.sizes)
    antiauth = rng.normal(design.antiauth_center, design.antiauth_sd, size=len(country))
    china = (alpha[country] + design.beta * (antiauth - design.antiauth_center)
             + rng.normal(0.0, design.sigma_y, size=len(country)))
    survey = pd.DataFrame({"country": np.asarray(names)[country], "antiauth": antiauth, "china": china})
    return survey, pd.Series(alpha, index=pd.Index(names, name="country"), name="alpha")


def closed_form_estimates(survey: pd.DataFrame) -> pd.DataFrame:
    """No-, complete- and partial-pooling estimates of every country's intercept.

    Parameters
    ----------
    survey
        One row per respondent with columns ``country``, ``antiauth`` and ``china``; at least
        3 countries and 2 respondents per country.

    Returns
    -------
    pandas.DataFrame
        One row per country (index ``country``): ``n``, the estimates in :data:`METHODS`
        (expected ``china`` at the overall mean of ``antiauth``), the partial-pooling
        ``weight`` on the country's own data, and the estimated ``tau`` and ``sigma_y``
        (the same in every row).
    """
    missing = [c for c in ("country", "antiauth", "china") if c not in survey.columns]
    if missing:
        raise ValueError(f"survey is missing column(s) {missing}")
    groups = survey.groupby("country", sort=True)
    n = groups.size()
    if len(n) < 3:
        raise ValueError(f"partial pooling needs at least 3 countries, got {len(n)}")
    if (n < 2).any():
        raise ValueError(f"every country needs at least 2 respondents; too few in {list(n[n < 2].index)}")
    x_bar = survey["antiauth"].mean()
    x_dev = survey["antiauth"] - groups["antiauth"].transform("mean")
    y_dev = survey["china"] - groups["china"].transform("mean")
    beta_within = (x_dev * y_dev).sum() / (x_dev**2).sum()
    means = groups[["antiauth", "china"]].mean()
    no_pooling = means["china"] - beta_within * (means["antiauth"] - x_bar)

    residual = y_dev - beta_within * x_dev
    sigma_y = float(np.sqrt((residual**2).sum() / (len(survey) - len(n) - 1)))
    variance = sigma_y**2 / n  # sampling variance of each no-pooling estimate
    w = 1.0 / variance
    centre = (w * no_pooling).sum() / w.sum()
    q = (w * (no_pooling - centre) ** 2).sum()
    tau2 = max(0.0, (q - (len(n) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    precision = 1.0 / (tau2 + variance)
    mu = (precision * no_pooling).sum() / precision.sum()
    weight = tau2 / (tau2 + variance)
    return pd.DataFrame({
        "n": n,
        "no_pooling": no_pooling,
        "partial_pooling": weight * no_pooling + (1 - weight) * mu,
        "complete_pooling": survey["china"].mean(),
        "weight": weight,
        "tau": np.sqrt(tau2),
        "sigma_y": sigma_y,
    })


def run_study(design: StudyDesign = StudyDesign(), *, replicates: int = 500, seed: int = 5650) -> pd.DataFrame:
    """Simulate ``replicates`` surveys, estimate every country three ways, record the errors.

    Returns
    -------
    pandas.DataFrame
        One row per replicate, country and method: ``replicate``, ``country``, ``n``,
        ``method`` (one of :data:`METHODS`), ``estimate``, ``truth`` and
        ``error = estimate - truth`` (points of ``china``).
    """
    if int(replicates) < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates!r}")
    rng = np.random.default_rng(seed)
    frames = []
    for replicate in range(int(replicates)):
        survey, alpha = simulate_survey(design, rng)
        estimates = closed_form_estimates(survey)
        truth = alpha + design.beta * (survey["antiauth"].mean() - design.antiauth_center)
        long = estimates[["n", *METHODS]].melt(id_vars="n", var_name="method", value_name="estimate",
                                               ignore_index=False).reset_index()
        long["truth"] = truth.reindex(long["country"]).to_numpy()
        long["replicate"] = replicate
        frames.append(long)
    results = pd.concat(frames, ignore_index=True)
    results["error"] = results["estimate"] - results["truth"]
    return results[["replicate", "country", "n", "method", "estimate", "truth", "error"]]


def error_by_size(results: pd.DataFrame, methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """Root mean squared error of each method for each country size.

    Returns
    -------
    pandas.DataFrame
        Index ``n`` (respondents per country), one column per method: the square root of
        the mean squared error over all countries of that size in all replicates (points of
        ``china``).
    """
    unknown = sorted(set(methods) - set(results["method"]))
    if unknown:
        raise ValueError(f"no results for method(s) {unknown}; available: {sorted(results['method'].unique())}")
    squared = results[results["method"].isin(methods)].assign(squared=lambda d: d["error"] ** 2)
    table = squared.pivot_table(index="n", columns="method", values="squared", aggfunc="mean")
    return np.sqrt(table[list(methods)]).rename_axis(columns=None)
