"""The model as a Graphviz graph (:func:`model_graph`)."""

from __future__ import annotations

import shutil
import subprocess

_DOT_HELP = (
    "Drawing the model graph needs the Graphviz `dot` program, which was not found on PATH. "
    "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS) or `conda install graphviz` (conda), then restart the kernel. "
    "The model itself is fine: only the drawing failed."
)


#: Graphviz attributes of every model graph: a sans-serif face at 12 pt (16 px on screen when
#: the graph is shown at its natural size), compact spacing, plate labels at the top of
#: their plate, where arrows do not cross them.
GRAPH_ATTRS: dict[str, str] = {"fontname": "DejaVu Sans", "fontsize": "12", "nodesep": "0.2",
                               "ranksep": "0.35", "bgcolor": "white", "pad": "0.1"}
NODE_ATTRS: dict[str, str] = {"fontname": "DejaVu Sans", "fontsize": "12",
                              "margin": "0.08,0.04"}
EDGE_ATTRS: dict[str, str] = {"arrowsize": "0.7"}


def model_graph(model, *, direction: str = "LR"):
    """The model as a Graphviz graph (``pm.model_to_graphviz``), sized to be read on a page.

    Parameters
    ----------
    direction : ``"LR"`` (default: left to right, priors on the left, the observed outcome
        on the right) or ``"TB"`` (top to bottom). Drawn top to bottom, a model's many
        parameters stand side by side and the graph is two to three times wider than the
        page column, so the page shrinks it and its text becomes too small to read; left to
        right, the same graph is tall and narrow and is shown at its natural size.

    Text is set in a sans-serif face at 12 pt (:data:`GRAPH_ATTRS`, :data:`NODE_ATTRS`).
    Raises a clear RuntimeError when the Graphviz ``dot`` program is missing.
    """
    import graphviz
    import pymc as pm

    if direction not in ("TB", "LR"):
        raise ValueError(f"model_graph: `direction` must be 'LR' or 'TB', got {direction!r}")
    if shutil.which("dot") is None:
        raise RuntimeError(_DOT_HELP)
    try:
        graphviz.version()
    except (graphviz.ExecutableNotFound, OSError, subprocess.CalledProcessError) as err:
        raise RuntimeError(_DOT_HELP) from err
    graph = pm.model_to_graphviz(model)
    graph.graph_attr.update(GRAPH_ATTRS)
    graph.node_attr.update(NODE_ATTRS)
    graph.edge_attr.update(EDGE_ATTRS)
    # PyMC puts plate labels at the bottom right, where the arrows leave the plate
    graph.body[:] = [line.replace("labelloc=b", "labelloc=t") for line in graph.body]
    graph.graph_attr["rankdir"] = direction
    return graph
