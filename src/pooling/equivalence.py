"""Check that two PyMC models are the same model.

The chapters write each model out in plain PyMC, so readers see (and can copy) every line,
and then confirm that the library's builder produces the identical model. "Identical" here
means: the same named variables with the same dims and coordinates, the same observed data,
and the same joint log density at several random points of the parameter space.
"""

from __future__ import annotations

import numpy as np
import pymc as pm

__all__ = ["ModelMismatchError", "assert_equivalent_models"]


class ModelMismatchError(AssertionError):
    """Raised when two models differ; the message lists every difference found."""


def _variable_dims(model: pm.Model) -> dict[str, tuple[str, ...]]:
    return {
        rv.name: tuple(model.named_vars_to_dims.get(rv.name, ()) or ())
        for rv in model.free_RVs + model.observed_RVs
    }


def _coords(model: pm.Model) -> dict[str, tuple]:
    return {
        name: tuple(values) if values is not None else ()
        for name, values in model.coords.items()
    }


def assert_equivalent_models(
    model: pm.Model,
    reference: pm.Model,
    *,
    n_points: int = 5,
    random_seed: int = 0,
    rtol: float = 1e-8,
) -> None:
    """Raise ``ModelMismatchError`` unless ``model`` and ``reference`` are the same model.

    Compares, in order: free and observed variable names, their dims, the coordinate values
    of every shared dim, the observed values, and the joint log density (including the
    Jacobians of the transforms) at ``n_points`` random points on the unconstrained scale.

    Parameters
    ----------
    model, reference
        The two models, e.g. one written out in a chapter and one built by ``pooling.models``.
    n_points
        How many random points the log densities are compared at.
    random_seed
        Seed for the random points, so the check is reproducible.
    rtol
        Relative tolerance for the log densities (both are float64 sums over all rows).
    """
    problems: list[str] = []

    names = {rv.name for rv in model.free_RVs}
    reference_names = {rv.name for rv in reference.free_RVs}
    if names != reference_names:
        problems.append(
            "free variables differ: "
            f"only in the first model {sorted(names - reference_names)}, "
            f"only in the reference {sorted(reference_names - names)}"
        )
    observed = {rv.name for rv in model.observed_RVs}
    reference_observed = {rv.name for rv in reference.observed_RVs}
    if observed != reference_observed:
        problems.append(
            f"observed variables differ: {sorted(observed)} vs {sorted(reference_observed)}"
        )
    if problems:
        raise ModelMismatchError("; ".join(problems))

    dims, reference_dims = _variable_dims(model), _variable_dims(reference)
    for name in sorted(dims):
        if dims[name] != reference_dims[name]:
            problems.append(f"{name} has dims {dims[name]} but the reference has {reference_dims[name]}")
    coords, reference_coords = _coords(model), _coords(reference)
    for dim in sorted(set(coords) & set(reference_coords)):
        if coords[dim] != reference_coords[dim]:
            problems.append(f"coordinates of dim {dim!r} differ")

    for name in sorted(observed):
        values = np.asarray(model.rvs_to_values[model[name]].eval())
        reference_values = np.asarray(reference.rvs_to_values[reference[name]].eval())
        if values.shape != reference_values.shape or not np.allclose(values, reference_values):
            problems.append(f"observed values of {name} differ")
    if problems:
        raise ModelMismatchError("; ".join(problems))

    logp = model.compile_logp()
    reference_logp = reference.compile_logp()
    start = model.initial_point(random_seed=random_seed)
    reference_start = reference.initial_point(random_seed=random_seed)
    if set(start) != set(reference_start):
        raise ModelMismatchError(
            "value variables differ (different transforms?): "
            f"{sorted(start)} vs {sorted(reference_start)}"
        )
    rng = np.random.default_rng(random_seed)
    for i in range(n_points):
        point = {key: value + rng.normal(scale=0.3, size=np.shape(value)) for key, value in start.items()}
        first, second = float(logp(point)), float(reference_logp(point))
        if not np.isclose(first, second, rtol=rtol, atol=1e-6):
            problems.append(f"log density differs at random point {i}: {first:.6f} vs {second:.6f}")
    if problems:
        raise ModelMismatchError("; ".join(problems))
