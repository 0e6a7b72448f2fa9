"""What a model is built from: the column roles, the data summaries its priors are scaled
by, and the :class:`ModelSpec` that every builder in :mod:`pooling.models` attaches to its model.

:func:`pooling.fitting.fit` copies the spec into the fitted result (see :func:`spec_of`), so
everything downstream (summaries, predictions, figures) reads which model it has instead of
guessing from variable names.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pymc as pm

from pooling.columns import SURVEY, Columns, check_frame, numeric_column, require_columns

__all__ = [
    "HIERARCHICAL_KINDS",
    "PRIOR_SD_MULTIPLIER",
    "RESULT_ATTRIBUTE",
    "ModelSpec",
    "PriorScales",
    "attach_spec",
    "model_spec",
    "prior_scales",
    "record_spec",
    "result_spec",
    "robust_sd",
    "scales_from",
    "spec_from_json",
    "spec_to_json",
]

#: Multiplier of the outcome sd in the intercept and slope prior scales.
PRIOR_SD_MULTIPLIER = 2.5

SPEC_ATTRIBUTE = "pooling_spec"
#: Key of the fitted result's ``attrs`` under which :func:`record_spec` stores the spec (JSON).
RESULT_ATTRIBUTE = "pooling_spec"
#: Builders whose groups are drawn from a population (``sigma_alpha``), so a new group can be.
HIERARCHICAL_KINDS = ("partial_pooling", "varying_slopes", "group_level_predictor", "three_level")


@dataclass(frozen=True)
class PriorScales:
    """Data summaries the default priors are scaled by.

    Attributes
    ----------
    outcome_mean, outcome_sd
        Mean and sd (ddof=1) of the outcome over all rows.
    predictor_sd
        Sd of the predictor over all rows (1.0 if the predictor is constant).
    """

    outcome_mean: float
    outcome_sd: float
    predictor_sd: float

    @property
    def intercept_sd(self) -> float:
        """Prior sd of intercepts and of their mean: ``2.5 * s_y``."""
        return PRIOR_SD_MULTIPLIER * self.outcome_sd

    @property
    def slope_sd(self) -> float:
        """Prior sd of slopes and of their mean: ``2.5 * s_y / s_x``."""
        return PRIOR_SD_MULTIPLIER * self.outcome_sd / self.predictor_sd


@dataclass(frozen=True)
class ModelSpec:
    """What a model was built from; attached to every model the builders return.

    Attributes
    ----------
    kind
        Name of the builder (``"partial_pooling"``, ...).
    outcome, predictor
        Column names; the observed variable and the predictor container are
        named after them.
    group, group_dim, group_index
        Group column, its dimension name and the name of the container with
        each row's group code (``None`` for complete pooling).
    group_names
        Coordinate values of ``group_dim`` (empty for complete pooling).
    parameterization
        ``"centered"``/``"noncentered"`` (``None`` when the model has no
        hierarchical level). For :func:`three_level` this is the country
        level; ``subgroup_parameterization`` is the party level.
    likelihood
        ``"full"`` (an observed variable with one entry per row) or
        ``"sufficient"`` (a :func:`pymc.Potential` on per-group statistics).
    predictor_mean
        The centring constant (sample mean of the predictor).
    priors
        The :class:`PriorScales` used.
    varying_slopes
        Whether slopes vary by group.
    group_predictor, subgroup, subgroup_dim, subgroup_index, subgroup_names,
    subgroup_parameterization
        Set by :func:`group_level_predictor` and :func:`three_level`.
    group_sd_scale
        Scale of the ``sigma_alpha`` prior when it was set explicitly
        (``partial_pooling(..., sigma_alpha_scale=...)``); ``None`` means the
        default, ``s_y``.
    """

    kind: str
    outcome: str
    predictor: str
    predictor_mean: float
    priors: PriorScales
    group: str | None = None
    group_dim: str | None = None
    group_index: str | None = None
    group_names: tuple = ()
    parameterization: str | None = None
    likelihood: str = "full"
    varying_slopes: bool = False
    group_predictor: str | None = None
    subgroup: str | None = None
    subgroup_dim: str | None = None
    subgroup_index: str | None = None
    subgroup_names: tuple = ()
    subgroup_parameterization: str | None = None
    group_sd_scale: float | None = None

    @property
    def columns(self) -> Columns:
        """The model's column roles as a :class:`~pooling.columns.Columns`."""
        return Columns(outcome=self.outcome, predictor=self.predictor, group=self.group, group_dim=self.group_dim)


def model_spec(model: pm.Model) -> ModelSpec:
    """Return the :class:`ModelSpec` of a model built by this module.

    Raises
    ------
    ValueError
        If ``model`` was not built by one of the builders here.
    """
    spec = getattr(model, SPEC_ATTRIBUTE, None)
    if not isinstance(spec, ModelSpec):
        raise ValueError(
            "this model was not built by pooling.models (it has no ModelSpec); "
            "build it with one of the pooling.models builders"
        )
    return spec


def attach_spec(model: pm.Model, spec: ModelSpec) -> pm.Model:
    setattr(model, SPEC_ATTRIBUTE, spec)
    return model


def robust_sd(values: np.ndarray) -> float:
    if values.size < 2:
        return 1.0
    sd = float(np.std(values, ddof=1))
    return sd if np.isfinite(sd) and sd > 0 else 1.0


def scales_from(y: np.ndarray, x: np.ndarray) -> PriorScales:
    return PriorScales(outcome_mean=float(np.mean(y)), outcome_sd=robust_sd(y), predictor_sd=robust_sd(x))


def prior_scales(data: pd.DataFrame, *, columns: Columns = SURVEY, outcome: str | None = None,
                 predictor: str | None = None) -> PriorScales:
    """Data summaries that set the default prior scales (see the module docstring).

    Returns
    -------
    PriorScales
        ``outcome_mean``, ``outcome_sd`` and ``predictor_sd`` (ddof=1; 1.0 for
        a constant column).
    """
    outcome = outcome or columns.outcome
    predictor = predictor or columns.predictor
    data = check_frame(data)
    require_columns(data, [outcome, predictor])
    y = numeric_column(data, outcome, "outcome")
    x = numeric_column(data, predictor, "predictor")
    return scales_from(y, x)


def _plain(value):
    """``value`` with NumPy scalars turned into Python ones (for JSON)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def spec_to_json(spec: ModelSpec) -> str:
    """The spec as a JSON string (what :func:`record_spec` stores in a result's ``attrs``)."""
    fields = {key: _plain(value) for key, value in asdict(spec).items()}
    return json.dumps(fields, sort_keys=True, default=str)  # names JSON cannot hold become strings


def spec_from_json(text: str) -> ModelSpec:
    """Inverse of :func:`spec_to_json`."""
    fields = json.loads(text)
    fields["priors"] = PriorScales(**fields["priors"])
    for key in ("group_names", "subgroup_names"):
        fields[key] = tuple(fields[key])
    return ModelSpec(**fields)


def record_spec(idata, model: pm.Model):
    """Store the :class:`ModelSpec` of ``model`` in ``idata.attrs`` (if the model has one).

    :func:`pooling.fitting.fit` calls this on every result, so the posterior of a model built
    by :mod:`pooling.models` remembers which model it came from; :func:`result_spec` reads
    it back. A model written by hand in PyMC has no spec and leaves ``attrs`` alone. The
    spec is stored as a JSON string, so the result can still be saved to netCDF or Zarr.
    Returns ``idata``.
    """
    spec = getattr(model, SPEC_ATTRIBUTE, None)
    if isinstance(spec, ModelSpec):
        idata.attrs[RESULT_ATTRIBUTE] = spec_to_json(spec)
    return idata


def result_spec(idata) -> ModelSpec | None:
    """The :class:`ModelSpec` that :func:`record_spec` stored in a fitted result, or ``None``
    (a model written by hand, or draws made without :func:`pooling.fitting.fit`)."""
    text = getattr(idata, "attrs", {}).get(RESULT_ATTRIBUTE)
    return spec_from_json(text) if text else None
