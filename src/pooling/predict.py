"""Posterior predictions for a new observation and for a new group.

Two questions a multilevel model answers that the pooled and unpooled
models cannot both answer:

* *A new respondent in a country we have data for*: uses that country's
  intercept ``alpha[j]`` (:func:`predict_new_observation`).
* *A respondent in a country we have never seen*: draws a new intercept from
  the population distribution ``Normal(mu_alpha, sigma_alpha)``, once per
  posterior draw (:func:`predict_new_group`). Its spread adds the
  between-country sd to the within-country sd, so it is wider.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from pooling.columns import GROUP_PREDICTOR_MEAN, PREDICTOR_MEAN
from pooling.fitting import DEFAULT_SEED
from pooling.models import model_spec
from pooling.spec import HIERARCHICAL_KINDS, result_spec
from pooling.summaries import SAMPLE_DIMS

__all__ = ["predict_new_group", "predict_new_observation"]


def _as_rows(x) -> tuple[np.ndarray, bool]:
    values = np.asarray(x, dtype=float)
    if values.ndim > 1:
        raise ValueError(f"x must be a number or a 1-d sequence, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("x must be finite")
    return np.atleast_1d(values), values.ndim == 0


def _code(names, name, what: str, dim: str) -> int:
    names = list(names)
    if name not in names:
        shown = ", ".join(map(str, names[:10])) + (", ..." if len(names) > 10 else "")
        raise ValueError(f"{what} {name!r} is not in the model's {dim!r} coordinates ({shown})")
    return names.index(name)


def predict_new_observation(model: pm.Model, idata, group_name, x, *, random_seed: int = DEFAULT_SEED) -> xr.DataArray:
    """Posterior predictive draws of the outcome for new rows in a known group.

    Uses :func:`pymc.set_data` to put the new predictor value(s) and group
    code into the model and :func:`pymc.sample_posterior_predictive` to draw
    ``y_new ~ Normal(alpha[j] + beta * (x - predictor_mean), sigma_y)`` once
    per posterior draw. The model's data are restored afterwards.

    Parameters
    ----------
    model
        A model from :mod:`pooling.models` with ``likelihood="full"``.
    idata
        Its posterior (from :func:`pooling.fitting.fit`).
    group_name
        Name of the group (a coordinate value, e.g. ``"Nigeria"``). For
        :func:`~pooling.models.three_level` models, a party name (the
        lowest level). Ignored (may be ``None``) for complete pooling.
    x
        Predictor value, or a 1-d sequence of values (all in that group).
    random_seed
        Seed for the predictive draws.

    Returns
    -------
    xarray.DataArray
        Named after the outcome, dims ``(chain, draw)`` for a scalar ``x``
        or ``(chain, draw, obs_id)`` for a sequence.
    """
    spec = model_spec(model)
    if spec.likelihood != "full":
        raise ValueError(
            "predict_new_observation needs a model with an observed outcome; this one uses the "
            "sufficient-statistics likelihood; build it with likelihood='full'"
        )
    rows, scalar = _as_rows(x)
    updates = {spec.predictor: rows}
    if spec.kind == "three_level":
        if group_name in spec.group_names and group_name not in spec.subgroup_names:
            raise ValueError(
                f"{group_name!r} is a {spec.group_dim!r}; three-level predictions are made within a "
                f"{spec.subgroup_dim!r}, so pass the name of one of its {spec.subgroup_dim} values"
            )
        code = _code(spec.subgroup_names, group_name, "subgroup", spec.subgroup_dim)
        updates[spec.subgroup_index] = np.full(rows.size, code, dtype="int64")
    elif spec.group_index is not None:
        code = _code(spec.group_names, group_name, "group", spec.group_dim)
        updates[spec.group_index] = np.full(rows.size, code, dtype="int64")
    original = {name: model[name].get_value() for name in updates}
    original_obs = np.asarray(model.coords["obs_id"])
    try:
        with model:
            pm.set_data(updates, coords={"obs_id": np.arange(rows.size)})
            predictive = pm.sample_posterior_predictive(
                idata,
                var_names=[spec.outcome],
                predictions=True,
                random_seed=random_seed,
                progressbar=False,
            )
    finally:
        with model:
            pm.set_data(original, coords={"obs_id": original_obs})
    draws = predictive["predictions"][spec.outcome]
    if scalar:
        draws = draws.isel(obs_id=0, drop=True)
    return draws


@dataclass(frozen=True)
class _NewGroupModel:
    """What :func:`predict_new_group` needs to know about the model behind a posterior."""

    hierarchical: bool  # groups drawn from a population (mu_alpha / gamma, sigma_alpha)
    group_predictor: bool  # intercept mean gamma_0 + gamma_1 * (u - group_predictor_mean)
    correlated_slopes: bool  # (alpha, beta) drawn jointly: mu_beta, sigma_beta, rho
    subgroups: bool  # a nested level with sd sigma_party
    predictor_mean: float
    outcome: str  # name of the returned draws


def _new_group_model(idata) -> _NewGroupModel:
    """Read the model from the :class:`~pooling.spec.ModelSpec` that ``fit`` stored in the result.

    A posterior without one (a model written by hand in PyMC, as the chapters do, or draws
    made without :func:`pooling.fitting.fit`) is described by its variable and container
    names instead, which the hand-written models share with the builders.
    """
    spec = result_spec(idata)
    if spec is not None:
        return _NewGroupModel(
            hierarchical=spec.kind in HIERARCHICAL_KINDS,
            group_predictor=spec.group_predictor is not None,
            correlated_slopes=spec.kind == "varying_slopes",
            subgroups=spec.kind == "three_level",
            predictor_mean=spec.predictor_mean,
            outcome=spec.outcome if spec.likelihood == "full" else "y_new",
        )
    post = idata["posterior"].to_dataset()
    try:
        x_mean = float(idata["constant_data"][PREDICTOR_MEAN].values)
    except KeyError:
        raise ValueError("idata has no constant_data['predictor_mean']; fit a pooling.models model") from None
    outcome = "y_new"
    if "observed_data" in idata.children and len(idata["observed_data"].data_vars) == 1:
        outcome = str(next(iter(idata["observed_data"].data_vars)))
    return _NewGroupModel(
        hierarchical="sigma_alpha" in post,
        group_predictor="gamma_0" in post,
        correlated_slopes="rho" in post and "mu_beta" in post,
        subgroups="sigma_party" in post,
        predictor_mean=x_mean,
        outcome=outcome,
    )


def predict_new_group(
    idata,
    x,
    *,
    random_seed: int = DEFAULT_SEED,
    group_predictor_value: float | None = None,
) -> xr.DataArray:
    """Posterior predictive draws of the outcome in a group not in the data.

    For each posterior draw: a new intercept ``alpha_new ~ Normal(mu_alpha,
    sigma_alpha)``, then ``y_new ~ Normal(alpha_new + beta * (x -
    predictor_mean), sigma_y)``. Works on the posterior of

    * :func:`~pooling.models.partial_pooling` (either likelihood);
    * :func:`~pooling.models.varying_slopes`: ``(alpha_new, beta_new)`` drawn
      jointly from the bivariate normal with sds ``sigma_alpha``,
      ``sigma_beta`` and correlation ``rho``;
    * :func:`~pooling.models.group_level_predictor`: the intercept mean is
      ``gamma_0 + gamma_1 * (u - group_predictor_mean)``, so
      ``group_predictor_value`` (the new group's ``u``) is required;
    * :func:`~pooling.models.three_level`: a new country and a new party in
      it (``party_effect_new ~ Normal(0, sigma_party)``).

    Parameters
    ----------
    idata
        Result of :func:`pooling.fitting.fit`; the model is read from the
        :class:`~pooling.spec.ModelSpec` it carries (for a model written by
        hand, from its variable names; then ``constant_data`` must hold
        ``predictor_mean``).
    x
        Predictor value or 1-d sequence of values.
    random_seed
        Seed for the new-group and residual draws.
    group_predictor_value
        The new group's group-level predictor, for models that have one.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw)`` for a scalar ``x``, ``(chain, draw, obs_id)``
        otherwise; named after the observed variable when there is one.
    """
    rows, scalar = _as_rows(x)
    post = idata["posterior"].to_dataset()
    model = _new_group_model(idata)
    if not model.hierarchical:
        raise ValueError(
            "predicting a new group needs a hierarchical model (with sigma_alpha); "
            "complete- and no-pooling models have no population of groups to draw from"
        )
    x_mean = model.predictor_mean
    rng = np.random.default_rng(random_seed)
    shape = (post.sizes["chain"], post.sizes["draw"])
    sigma_alpha = post["sigma_alpha"].values
    z_alpha = rng.standard_normal(shape)
    if model.group_predictor:
        if group_predictor_value is None:
            raise ValueError(
                "this model has a group-level predictor; pass the new group's value as group_predictor_value"
            )
        u_mean = float(idata["constant_data"][GROUP_PREDICTOR_MEAN].values)
        alpha_mean = post["gamma_0"].values + post["gamma_1"].values * (float(group_predictor_value) - u_mean)
    else:
        alpha_mean = post["mu_alpha"].values
    alpha_new = alpha_mean + sigma_alpha * z_alpha
    if model.correlated_slopes:
        rho = post["rho"].values
        z_beta = rho * z_alpha + np.sqrt(np.clip(1.0 - rho**2, 0.0, None)) * rng.standard_normal(shape)
        beta = post["mu_beta"].values + post["sigma_beta"].values * z_beta
    else:
        beta = post["beta"].values
        if beta.shape != shape:
            raise ValueError("expected a common slope 'beta' (dims chain, draw) in the posterior")
    if model.subgroups:
        alpha_new = alpha_new + post["sigma_party"].values * rng.standard_normal(shape)
    sigma_y = post["sigma_y"].values
    mean = alpha_new[..., None] + beta[..., None] * (rows - x_mean)
    y_new = mean + sigma_y[..., None] * rng.standard_normal((*shape, rows.size))
    out = xr.DataArray(
        y_new,
        dims=(*SAMPLE_DIMS, "obs_id"),
        coords={"chain": post["chain"].values, "draw": post["draw"].values, "obs_id": np.arange(rows.size)},
        name=model.outcome,
    )
    if scalar:
        out = out.isel(obs_id=0, drop=True)
    return out
