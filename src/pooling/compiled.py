"""Compile each model once per process: nutpie's compiled log density, kept for the next fit.

nutpie compiles every model it samples to machine code with numba, which takes 5-20 s per
model on a laptop, far longer than drawing from most of this site's models. A chapter often
fits the *same* model more than once: with other sampler settings (more draws, a higher
``target_accept``), or after building it again from the same data. :func:`reusing_compiled_models`
keeps each compiled model in memory, under a fingerprint of everything the compiled code
depends on, and hands it back when a later fit asks for an identical model. The compiled
model is immutable and the draws depend only on it, the data and the sampler settings, so
a reused model draws exactly what a freshly compiled one would (``tests/test_compiled.py``).

The fingerprint covers the log density and the deterministics as graphs (operations, the
value of every constant, the name, type and value of every data container), the names,
dims and coordinates of the variables, their initial values and the compile options. Two
models that differ in anything but object identity get different fingerprints.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
import pymc as pm
import pytensor
from pytensor.graph.basic import Constant
from pytensor.graph.traversal import graph_inputs
from pytensor.tensor.sharedvar import SharedVariable

__all__ = ["MAX_KEPT", "clear", "fingerprint", "kept", "reusing_compiled_models"]

#: Compiled models kept per process (least recently used dropped first). Each holds its own
#: copy of the model's data, a few MB at most for this site's data sets.
MAX_KEPT = 8

_KEPT: OrderedDict[str, object] = OrderedDict()


def _array_digest(value) -> str:
    array = np.ascontiguousarray(value)
    return f"{array.dtype}{array.shape}:{hashlib.sha256(array.tobytes()).hexdigest()}"


def fingerprint(model: pm.Model, var_names=None, **compile_kwargs) -> str:
    """Hex SHA-256 of everything nutpie's compiled version of ``model`` depends on.

    ``var_names`` and ``compile_kwargs`` are the arguments of
    :func:`nutpie.compile_pymc_model` besides the model.
    """
    digest = hashlib.sha256()

    def add(part) -> None:
        digest.update(repr(part).encode())
        digest.update(b"\x00")

    graphs = [model.logp(), *model.replace_rvs_by_values(model.deterministics)]
    add(pytensor.dprint(graphs, file="str", print_type=True))
    for variable in graph_inputs(graphs):
        if isinstance(variable, Constant):
            add(("constant", _array_digest(variable.data)))
        elif isinstance(variable, SharedVariable):
            add(("shared", variable.name, str(variable.type), _array_digest(variable.get_value())))
        else:
            add(("input", variable.name, str(variable.type)))
    add(sorted((name, tuple(map(str, np.asarray(values, dtype=object)))) for name, values in model.coords.items()))
    add(sorted((name, tuple(dims or ())) for name, dims in model.named_vars_to_dims.items()))
    add([(rv.name, repr(model.rvs_to_initial_values.get(rv))) for rv in model.free_RVs])
    add(None if var_names is None else list(var_names))
    add(sorted((key, repr(value)) for key, value in compile_kwargs.items()))
    return digest.hexdigest()


def kept() -> int:
    """Number of compiled models kept in this process."""
    return len(_KEPT)


def clear() -> None:
    """Forget every kept compiled model."""
    _KEPT.clear()


@contextlib.contextmanager
def _rewriting_copies() -> Iterator[None]:
    """Inside this block, ``pytensor.graph.rewrite_graph`` rewrites a copy of the graph it is given.

    nutpie (0.16) simplifies the model's log density with ``rewrite_graph`` before compiling
    it, in place. Parts of that graph belong to the model and outlive the compile, for example
    the index arithmetic of ``pm.LKJCholeskyCov``'s transform, so the first compile changes the
    model: a second fit of the *same model object* then compiles other code and, from the same
    seed, draws other numbers (``tests/test_compiled.py``). Rewriting a copy (PyTensor's own
    ``clone=True``; the model's variables stay the inputs) compiles the same code and leaves
    the model as it was.
    """
    import pytensor.graph

    original = pytensor.graph.rewrite_graph

    def rewrite_copy(graph, *args, clone: bool = True, **kwargs):
        return original(graph, *args, clone=clone, **kwargs)

    pytensor.graph.rewrite_graph = rewrite_copy
    try:
        yield
    finally:
        pytensor.graph.rewrite_graph = original


def _reusing(compile_pymc_model, model, *, var_names=None, **compile_kwargs):
    key = fingerprint(model, var_names, **compile_kwargs)
    if key in _KEPT:
        _KEPT.move_to_end(key)
        return _KEPT[key]
    with _rewriting_copies():
        compiled = compile_pymc_model(model, var_names=var_names, **compile_kwargs)
    _KEPT[key] = compiled
    while len(_KEPT) > MAX_KEPT:
        _KEPT.popitem(last=False)
    return compiled


@contextlib.contextmanager
def reusing_compiled_models() -> Iterator[None]:
    """Inside this block, nutpie compiles a model only if no identical one was compiled before.

    :func:`pymc.sample` calls ``nutpie.compile_pymc_model`` when it samples with nutpie;
    inside the block that call first looks for a kept compiled model with the same
    :func:`fingerprint`.
    """
    import nutpie

    original = nutpie.compile_pymc_model
    nutpie.compile_pymc_model = functools.partial(_reusing, original)
    try:
        yield
    finally:
        nutpie.compile_pymc_model = original
