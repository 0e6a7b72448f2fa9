"""Labels, layout and small helpers shared by the figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from pooling.style import BLACK, GREY

#: Axis labels (with units or scale) for the columns of the survey and radon data.
AXIS_LABELS: dict[str, str] = {
    "antiauth": "Anti-authoritarian attitudes, antiauth (0–4 index)",
    "china": "Attitude toward China, china (1–5 score)",
    "trade_china": "Trade with China (USD millions)",
    "log_trade_china": "Trade with China (log USD millions)",
    "log_radon": "Radon, log_radon (log pCi/L)",
    "floor": "Floor (0 = basement, 1 = first floor)",
    "log_uranium": "County soil uranium (log ppm)",
}

#: Compact axis labels for small panels (the figure title names the variables in words).
PANEL_LABELS: dict[str, str] = {
    "antiauth": "antiauth (0–4 index)",
    "china": "china (1–5 score)",
    "trade_china": "trade_china (USD millions)",
    "log_trade_china": "log_trade_china (log USD m)",
    "log_radon": "log_radon (log pCi/L)",
    "floor": "floor (0 = basement, 1 = first)",
    "log_uranium": "log_uranium (log ppm)",
}

#: Short names used inside titles.
SHORT_NAMES: dict[str, str] = {
    "antiauth": "anti-authoritarianism",
    "china": "attitude toward China",
    "trade_china": "trade with China",
    "log_trade_china": "log trade with China",
    "log_radon": "log radon",
    "floor": "floor",
    "log_uranium": "log uranium",
}

DEFAULT_INTERCEPT_LABEL = "Intercept at mean antiauth (china, 1–5 score)"

DEFAULT_SLOPE_LABEL = "Slope (china points per antiauth point)"


def axis_label(column: str) -> str:
    return AXIS_LABELS.get(column, column)


def short_name(column: str) -> str:
    return SHORT_NAMES.get(column, column)


def with_n(name: Any, n: int) -> str:
    return f"{name} (N = {int(n):,})"


def join_labels(labels: Sequence[str]) -> str:
    """'No pooling', 'Complete pooling', 'Partial pooling' -> 'No, complete and partial pooling'."""
    labels = list(labels)
    if labels and all(lab.endswith(" pooling") for lab in labels):
        heads = [lab[: -len(" pooling")] for lab in labels]
        heads = [heads[0]] + [h.lower() for h in heads[1:]]
        if len(heads) == 1:
            return f"{heads[0]} pooling"
        return f"{', '.join(heads[:-1])} and {heads[-1]} pooling"
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


def new_axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def figure_legend(fig, handles, *, ncols: int, **kwargs):
    """A legend below the axes, in as many of ``ncols`` columns as fit the figure's width.

    A legend wider than the figure would widen the saved image, and the page would then
    shrink the whole figure, text and all, to fit its column.
    """
    renderer = fig.canvas.get_renderer()
    for n in range(min(ncols, len(handles)), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=n, **kwargs)
        if n == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()
    return legend


def add_legend(fig, ax, handles, created: bool, *, ncols: int = 3, title: str | None = None):
    """Below the axes (outside) when this module made the figure; inside otherwise."""
    if created:
        return figure_legend(fig, handles, ncols=ncols, title=title)
    return ax.legend(handles=handles, loc="best", fontsize=9, title=title)


def _greedy_lines(artist, words: list[str], max_px: float, renderer, along: str) -> list[str]:
    """Words packed into lines no longer than ``max_px`` (first-fit), measured on ``artist``."""
    lines, current = [], words[0]
    for word in words[1:]:
        artist.set_text(f"{current} {word}")
        if getattr(artist.get_window_extent(renderer), along) <= max_px:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def _wrap_to_width(artist, max_px: float, renderer, along: str = "width") -> None:
    """Break a Text artist's text into lines no longer than ``max_px`` display pixels.

    ``along`` is ``"width"`` for horizontal text and ``"height"`` for text rotated by 90
    degrees (a y-axis label). The lines come out about equally long: a two-line title is
    split near its middle rather than leaving one word on the second line.
    """
    text = artist.get_text()
    if not text or "\n" in text:
        return
    full = getattr(artist.get_window_extent(renderer), along)
    if full <= max_px:
        return
    words = text.split(" ")
    lines = _greedy_lines(artist, words, max_px, renderer, along)
    # the narrowest width that still needs no more lines than the first fit
    target = full / len(lines)
    while target < max_px:
        balanced = _greedy_lines(artist, words, target, renderer, along)
        if len(balanced) <= len(lines):
            lines = balanced
            break
        target *= 1.05
    artist.set_text("\n".join(lines))


def fit_to_figure(fig) -> None:
    """Wrap titles and axis labels that are longer than their space onto more lines.

    Each axes title and x label gets the width of its axes, each y label its height, the
    figure title the width of the figure. Text sticking out of the figure would be kept by
    the saved image, and the page would then shrink the whole figure, text and all, to fit
    its column. Call inside the style context, after everything is drawn.
    """
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        frame = ax.get_window_extent(renderer)
        if ax.get_title():
            _wrap_to_width(ax.title, frame.width, renderer)
        if ax.get_xlabel():
            _wrap_to_width(ax.xaxis.label, frame.width, renderer)
        if ax.get_ylabel():
            _wrap_to_width(ax.yaxis.label, frame.height, renderer, along="height")
    if fig.get_suptitle():
        # calling suptitle again returns the existing title artist
        _wrap_to_width(fig.suptitle(fig.get_suptitle()), 0.96 * fig.bbox.width, renderer)


def title_join(names: Sequence[str]) -> str:
    """['No pooling', 'Partial pooling'] -> 'No pooling vs partial pooling'."""
    names = [str(n) for n in names]
    return " vs ".join([names[0]] + [n[:1].lower() + n[1:] for n in names[1:]])


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# Where a point label may go, as (dx, dy) offsets in points from the point, with the text
# alignment that keeps the text on that side; near positions first, then farther ones.
_LABEL_SPOTS: tuple[tuple[float, float, str, str], ...] = tuple(
    (sx * d, sy * d, ha, va)
    for d in (9.0, 22.0, 40.0)
    for sx, sy, ha, va in (
        (1, 0, "left", "center"), (-1, 0, "right", "center"),
        (0, 1, "center", "bottom"), (0, -1, "center", "top"),
        (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
        (1, -1, "left", "top"), (-1, -1, "right", "top"),
    )
)


def _densify_px(segments_px: np.ndarray, step: float = 2.0) -> np.ndarray:
    """Points every ``step`` display pixels along each segment of shape (k, 2, 2)."""
    if len(segments_px) == 0:
        return np.empty((0, 2))
    start, end = segments_px[:, 0, :], segments_px[:, 1, :]
    counts = np.maximum(2, np.ceil(np.hypot(*(end - start).T) / step).astype(int) + 1)
    t = np.concatenate([np.linspace(0.0, 1.0, c) for c in counts])
    which = np.repeat(np.arange(len(segments_px)), counts)
    return start[which] + t[:, None] * (end[which] - start[which])


def place_labels(
    ax,
    labels: Sequence[tuple[str, tuple[float, float]]],
    obstacles: np.ndarray | None = None,
    *,
    segments: np.ndarray | None = None,
    fontsize: float = 10.0,
    fontweight: str = "bold",
    radius: float = 2.5,
) -> list:
    """Label points without covering data, lines, other labels or the axes frame.

    Parameters
    ----------
    labels : ``(text, (x, y))`` pairs in data coordinates, placed in this order.
    obstacles : array of shape (k, 2): data coordinates of points a label must not cover
        (markers; a curve given as many points along it).
    segments : array of shape (m, 2, 2): straight lines a label must not cross, each as
        ``[(x0, y0), (x1, y1)]`` in data coordinates (arrows, reference lines).
    radius : how far, in points, a label keeps clear of each obstacle.

    Each label tries the spots in ``_LABEL_SPOTS`` (right, left, above, below, the diagonals,
    then the same farther out) and takes the one with the smallest overlap with the
    obstacles, the labels placed before it, a legend inside the axes and the area outside
    the axes, measured in display pixels with ``Text.get_window_extent``; nearer spots win
    ties. A label placed away from its point gets a thin leader line. Labels are left out of
    the layout, so placing them never resizes the axes. Call after everything else is drawn
    and the axis limits are final.

    Returns the list of ``matplotlib.text.Annotation`` objects, one per label.
    """
    fig = ax.figure
    fig.draw_without_rendering()  # run the layout engine: positions are final from here
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    pts = np.empty((0, 2)) if obstacles is None else np.asarray(obstacles, dtype=float)
    pts = pts[np.isfinite(pts).all(axis=1)] if len(pts) else pts
    pix = ax.transData.transform(pts) if len(pts) else np.empty((0, 2))
    if segments is not None and len(segments):
        seg = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
        seg = seg[np.isfinite(seg).all(axis=(1, 2))]
        seg_px = ax.transData.transform(seg.reshape(-1, 2)).reshape(-1, 2, 2)
        pix = np.vstack([pix, _densify_px(seg_px)])
    clear = radius * fig.dpi / 72.0
    legend = ax.get_legend()  # a legend inside the axes is kept clear too
    placed_boxes = [legend.get_window_extent(renderer)] if legend is not None else []
    style = dict(textcoords="offset points", fontsize=fontsize, fontweight=fontweight,
                 color=BLACK, zorder=6)
    artists = []
    for text, (x, y) in labels:
        best = None
        for dx, dy, ha, va in _LABEL_SPOTS:
            ann = ax.annotate(text, xy=(x, y), xytext=(dx, dy), ha=ha, va=va, **style)
            box = ann.get_window_extent(renderer)
            ann.remove()
            inside = ((pix[:, 0] > box.x0 - clear) & (pix[:, 0] < box.x1 + clear)
                      & (pix[:, 1] > box.y0 - clear) & (pix[:, 1] < box.y1 + clear))
            clash = sum(max(0.0, min(box.x1, b.x1) - max(box.x0, b.x0))
                        * max(0.0, min(box.y1, b.y1) - max(box.y0, b.y0)) for b in placed_boxes)
            out_w = max(0.0, frame.x0 - box.x0) + max(0.0, box.x1 - frame.x1)
            out_h = max(0.0, frame.y0 - box.y0) + max(0.0, box.y1 - frame.y1)
            cost = (20.0 * int(inside.sum()) + 10.0 * clash
                    + 3.0 * (out_w * box.height + out_h * box.width)
                    + 0.5 * max(abs(dx), abs(dy)))  # nearer is better when all else is equal
            if best is None or cost < best[0]:
                best = (cost, dx, dy, ha, va, box)
        _, dx, dy, ha, va, box = best
        far = max(abs(dx), abs(dy)) > 10
        ann = ax.annotate(
            text, xy=(x, y), xytext=(dx, dy), ha=ha, va=va, **style,
            arrowprops=dict(arrowstyle="-", color=GREY, linewidth=0.8, shrinkA=0,
                            shrinkB=3) if far else None,
        )
        ann.set_in_layout(False)
        placed_boxes.append(box)
        artists.append(ann)
    return artists
