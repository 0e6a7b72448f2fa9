"""The ModelSpec travels from the builder through fit into the result, and predictions read it."""

from __future__ import annotations

import numpy as np
import pytest

from pooling import fitting, models, predict, spec
from pooling.columns import SURVEY


def test_spec_survives_json(synthetic_three_level):
    built = models.model_spec(models.three_level(synthetic_three_level, group_predictor="log_trade_china"))
    again = spec.spec_from_json(spec.spec_to_json(built))
    assert again == built
    assert again.columns == SURVEY
    assert again.subgroup_names and again.group_predictor == "log_trade_china"


def test_fit_records_the_spec_on_its_result(monkeypatch, idata_factory, synthetic_groups, library_fit):
    draws = idata_factory({"alpha": np.zeros((2, 5))})
    monkeypatch.setattr(fitting.pm, "sample", lambda **kwargs: draws)
    model = models.no_pooling(synthetic_groups)
    idata = fitting.fit(model, check=False)
    assert spec.result_spec(idata) == models.model_spec(model)
    assert isinstance(idata.attrs[spec.RESULT_ATTRIBUTE], str)  # saveable to netCDF / Zarr


def test_a_result_without_spec_has_none(idata_factory):
    assert spec.result_spec(idata_factory({"alpha": np.zeros((2, 5))})) is None


def _with_spec(idata, kind, **details):
    built = spec.ModelSpec(kind=kind, outcome="china", predictor="antiauth", predictor_mean=2.0,
                           priors=spec.PriorScales(3.0, 1.0, 1.0), **details)
    idata.attrs[spec.RESULT_ATTRIBUTE] = spec.spec_to_json(built)
    return idata


def test_new_group_prediction_reads_the_model_from_the_spec(idata_factory):
    values = dict(mu_alpha=3.0, sigma_alpha=0.6, beta=0.5, sigma_y=0.8)
    posterior = {name: np.full((2, 4000), v) for name, v in values.items()}
    # The names say "hierarchical", the spec says no pooling: the spec decides.
    no_pooling = _with_spec(idata_factory(posterior), "no_pooling")
    with pytest.raises(ValueError, match="hierarchical model"):
        predict.predict_new_group(no_pooling, 4.0)
    # No constant_data at all: the centring constant comes from the spec.
    partial = _with_spec(idata_factory(posterior), "partial_pooling")
    draws = predict.predict_new_group(partial, 4.0, random_seed=1)
    assert draws.name == "china"
    assert float(draws.mean()) == pytest.approx(3.0 + 0.5 * (4.0 - 2.0), abs=0.05)
