"""One look for every figure on the site.

Colours come from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"),
which stays distinguishable for the common forms of colour-vision deficiency. The three
pooling strategies also get their own line style and marker, so the figures still read
correctly when printed in greyscale.

Usage::

    from pooling import style
    style.apply_style()              # once, at the top of a chapter

    with style.style_context():      # or only for a block of code
        ...

ArviZ 1.x draws its matplotlib figures with matplotlib's own ``rcParams`` (colour cycle,
font sizes, spines, constrained layout), so :func:`apply_style` styles the ArviZ plots too;
it also makes sure ArviZ uses the matplotlib backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib as mpl
from cycler import cycler

__all__ = [
    "BLACK",
    "BLUE",
    "BLUISH_GREEN",
    "COLUMN_WIDTH_PX",
    "CYCLE",
    "GREY",
    "LIGHT_GREY",
    "MAX_FIG_WIDTH",
    "OKABE_ITO",
    "ORANGE",
    "PAGE_DPI",
    "POOLING_COLORS",
    "POOLING_LABELS",
    "POOLING_LINESTYLES",
    "POOLING_MARKERS",
    "REDDISH_PURPLE",
    "RC_PARAMS",
    "SKY_BLUE",
    "VERMILLION",
    "YELLOW",
    "apply_style",
    "pooling_style",
    "style_context",
]

# --- Okabe-Ito palette ---------------------------------------------------------------------
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"

#: The eight Okabe-Ito colours in their published order.
OKABE_ITO: tuple[str, ...] = (
    BLACK,
    ORANGE,
    SKY_BLUE,
    BLUISH_GREEN,
    YELLOW,
    BLUE,
    VERMILLION,
    REDDISH_PURPLE,
)

#: Colour cycle used for unnamed series, strongest contrast on white first. Yellow is left
#: out: thin yellow lines are close to invisible on a white background.
CYCLE: tuple[str, ...] = (
    BLUE,
    VERMILLION,
    BLUISH_GREEN,
    REDDISH_PURPLE,
    ORANGE,
    SKY_BLUE,
    BLACK,
)

#: Neutral greys for raw data and reference lines (not data series, so not in the palette).
GREY = "#6E6E6E"
LIGHT_GREY = "#BDBDBD"

# --- The three pooling strategies ----------------------------------------------------------
#: Legend labels, in the order the site introduces them.
POOLING_LABELS: tuple[str, str, str] = ("No pooling", "Complete pooling", "Partial pooling")

POOLING_COLORS: dict[str, str] = {
    "No pooling": VERMILLION,
    "Complete pooling": BLACK,
    "Partial pooling": BLUE,
}

#: Solid for the model the site argues for; dashed and dotted for the two extremes.
POOLING_LINESTYLES: dict[str, str] = {
    "No pooling": "--",
    "Complete pooling": ":",
    "Partial pooling": "-",
}

POOLING_MARKERS: dict[str, str] = {
    "No pooling": "o",
    "Complete pooling": "D",
    "Partial pooling": "s",
}


def pooling_style(label: str, index: int = 0) -> dict[str, str]:
    """Colour, line style and marker for a series called ``label``.

    The three pooling labels get their fixed look; any other label gets the ``index``-th
    colour of the Okabe-Ito cycle, a solid line and a circle marker.
    """
    if label in POOLING_COLORS:
        return {
            "color": POOLING_COLORS[label],
            "linestyle": POOLING_LINESTYLES[label],
            "marker": POOLING_MARKERS[label],
        }
    return {"color": CYCLE[index % len(CYCLE)], "linestyle": "-", "marker": "o"}


# --- page geometry -------------------------------------------------------------------------
#: Resolution of the site's figures in dots per inch (``fig-dpi`` in ``_quarto.yml``, and
#: ``figure.dpi`` below, so a notebook shows the same size): 1 inch of figure = 110 px.
PAGE_DPI: int = 110

#: Width of the page's text column in CSS pixels in a 1280-px-wide browser window (763 px
#: measured; about 940 px in wider windows). A figure no wider than this is shown at its
#: natural size, where 10-pt text is 15 px tall; a wider one is shrunk, its text with it.
COLUMN_WIDTH_PX: int = 763

#: The widest figure, in inches, that is shown without shrinking (COLUMN_WIDTH_PX / PAGE_DPI).
MAX_FIG_WIDTH: float = 6.8


# --- rcParams ------------------------------------------------------------------------------
RC_PARAMS: dict[str, object] = {
    # figure
    "figure.figsize": (7.0, 4.5),
    "figure.dpi": PAGE_DPI,
    "figure.facecolor": "white",
    "figure.constrained_layout.use": True,
    "figure.titlesize": 13.5,
    "figure.titleweight": "bold",
    "savefig.dpi": 150,
    "savefig.facecolor": "white",
    "savefig.bbox": "tight",
    # text
    "font.size": 11,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.titlepad": 8,
    "axes.labelsize": 11.5,
    "axes.labelcolor": "#222222",
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10.5,
    "legend.title_fontsize": 11,
    "text.color": "#222222",
    # axes
    "axes.facecolor": "white",
    "axes.edgecolor": "#444444",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.which": "major",
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(CYCLE)),
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.7,
    "grid.linestyle": "-",
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "xtick.direction": "out",
    "ytick.direction": "out",
    # artists
    "lines.linewidth": 2.0,
    "lines.markersize": 6,
    "lines.solid_capstyle": "round",
    "patch.linewidth": 0.8,
    "errorbar.capsize": 0,
    "scatter.edgecolors": "face",
    "image.cmap": "cividis",
    # legend
    "legend.frameon": False,
    "legend.handlelength": 2.6,
    "legend.borderaxespad": 0.4,
}


def _configure_arviz() -> None:
    """Make ArviZ draw with matplotlib, so the rcParams above apply to its figures."""
    try:
        from arviz_base import rcParams as az_rc
    except ImportError:  # pragma: no cover - arviz is a hard dependency of the package
        return
    az_rc["plot.backend"] = "matplotlib"


def apply_style() -> None:
    """Set the site's matplotlib (and ArviZ) style globally.

    Idempotent: calling it twice leaves the same settings as calling it once.
    """
    mpl.rcParams.update(RC_PARAMS)
    _configure_arviz()


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """Apply the site style inside a ``with`` block only.

    Only the settings the style changes are restored afterwards. ``matplotlib.rc_context``
    would restore every setting, including the interactive flag that Jupyter's inline
    backend switches on while the first figure is drawn, and later figures would then no
    longer be shown automatically.
    """
    _configure_arviz()
    previous = {key: mpl.rcParams[key] for key in RC_PARAMS}
    mpl.rcParams.update(RC_PARAMS)
    try:
        yield
    finally:
        mpl.rcParams.update(previous)
