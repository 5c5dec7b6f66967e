r"""One look for every plot: deterministic inline SVG that reads in light and dark mode.

[`figure`][notes.plotting.figure] makes a figure in the house size and palette;
[`to_svg`][notes.plotting.to_svg] turns it into an ``<svg>`` string to print from an
executed block (``html="1"``). The SVG is deterministic (no date, a fixed id salt, glyphs as
paths so no font is needed), has a transparent background, and draws text, axes and ticks in
``currentColor``, so it takes the page's text colour in both light and dark mode.

Examples:
    >>> from notes.plotting import figure, to_svg
    >>> fig, ax = figure()
    >>> _ = ax.plot([0, 1], [0, 1], label="y = x")
    >>> svg = to_svg(fig)
    >>> svg.startswith("<svg") and "currentColor" in svg
    True
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

mpl.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt
from cycler import cycler

from notes import _validate as check

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "RASTER_THRESHOLD", "figure", "to_svg"]

#: Line colours chosen to keep contrast on both a white and a near-black page
#: (mid-lightness hues, colour-blind safe order after Okabe and Ito).
PALETTE = ["#3b82f6", "#f97316", "#10b981", "#e11d48", "#a855f7", "#eab308", "#06b6d4"]

# Drawn in this sentinel, then rewritten to currentColor so that the page colour shows through.
_INK = "#010203"

_STYLE: Any = {  # a plain dict; typed Any because matplotlib types its keys as literals
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.edgecolor": _INK,
    "axes.labelcolor": _INK,
    "axes.titlecolor": _INK,
    "axes.facecolor": "none",
    "axes.grid": True,
    "grid.color": "#888888",
    "grid.alpha": 0.25,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": _INK,
    "ytick.color": _INK,
    "text.color": _INK,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "svg.fonttype": "path",
    "svg.hashsalt": "notes",
    "path.simplify": True,
}


def figure(nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 3.6) -> Any:
    """Create a figure in the house style (applied to ``matplotlib.rcParams``).

    Args:
        nrows: rows of axes, >= 1.
        ncols: columns of axes, >= 1.
        width: figure width in inches, > 0.
        height: figure height in inches, > 0.

    Returns:
        ``(fig, ax)`` as from ``plt.subplots``: ``ax`` is one `Axes` or an array of them.
    """
    for name, value in (("nrows", nrows), ("ncols", ncols)):
        if type(value) is not int or value < 1:  # bool is not accepted either
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    width, height = check.real("width", width, gt=0), check.real("height", height, gt=0)
    # Legends, labels and ticks read rcParams when they are made, after this call returns,
    # so the style is applied to matplotlib's settings rather than to a temporary context.
    mpl.rcParams.update(_STYLE)
    fig, ax = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")
    return fig, ax


#: A collection (scatter, hexbin, mesh) with more elements than this is drawn as an image
#: inside the SVG: thousands of vector markers weigh ~100 bytes each, an image a fraction.
RASTER_THRESHOLD = 100
RASTER_DPI = 150


def _rasterise_dense_layers(fig: Figure) -> None:
    for ax in fig.axes:
        for collection in ax.collections:
            offsets: Any = collection.get_offsets()
            count = max(len(offsets), len(collection.get_paths()))
            if count > RASTER_THRESHOLD:
                collection.set_rasterized(True)


def to_svg(fig: Figure, *, close: bool = True, alt: str | None = None) -> str:
    """Render a figure as a deterministic inline ``<svg>`` element.

    Axes, text and lines stay vectors; a dense layer (a collection of more than
    `RASTER_THRESHOLD` markers or cells) is embedded as an image at `RASTER_DPI`, which keeps
    a page light without changing what it shows.

    Args:
        fig: a matplotlib figure, ideally from [`figure`][notes.plotting.figure].
        close: close the figure afterwards to free its memory.
        alt: a text description for screen readers (``aria-label``).

    Returns:
        The SVG markup, without XML prolog or doctype, scaled to the page width.
    """
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    check.boolean("close", close)
    if alt is not None:
        check.text("alt", alt)
    buffer = io.StringIO()
    _rasterise_dense_layers(fig)
    with mpl.rc_context(_STYLE):
        fig.savefig(buffer, format="svg", dpi=RASTER_DPI, metadata={"Date": None, "Creator": None})
    if close:
        plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype
    svg = svg.replace(_INK, "currentColor")
    # Scale to the container: keep the viewBox, drop the fixed size.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    label = f' role="img" aria-label="{_escape(alt)}"' if alt else ' role="img"'
    svg = svg.replace("<svg", f'<svg class="notes-plot"{label}', 1)
    # Comments and the RDF metadata carry matplotlib's version only: strip them.
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.DOTALL).strip()
    # Lighter markup, same picture: coordinates to 1/10 pt, and no indentation.
    svg = re.sub(r"(\d\.\d)\d+", r"\1", svg)
    return re.sub(r"\s*\n\s*", " ", svg)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
