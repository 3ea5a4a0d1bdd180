"""Figures as PNG: one palette, one style, drawn on a plain matplotlib ``Figure``.

Every figure gradwise writes (the report's, the comparison's, the study's) goes through
:func:`render_png`: a ``Figure`` on its own Agg canvas, never pyplot, so drawing neither
switches a notebook user's backend nor leaves figures in pyplot's registry (a figure that fails
half-drawn is simply dropped). The pixels are encoded with Pillow, which writes no ``Software``
text chunk (matplotlib's holds its URL): a report holds no URLs, not even inside an image.

Colours are the Okabe–Ito palette, distinguishable under the common forms of colour-vision
deficiency (Okabe & Ito, *Color Universal Design*, 2002). Torch-free; matplotlib is imported on
the first drawing, not with this module.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradwise._io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# blue, orange, bluish green, vermillion, reddish purple, sky blue, black, yellow (faint on white)
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
GREY = "#999999"  # for what is shown only as context (pruned trials, hints)
DPI = 100  # figures are sized in inches for a ~1100 px wide page: 11 in at 100 dpi
STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,  # grid lines behind bars and bands
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
}


def colour(index: int) -> str:
    """The ``index``-th palette colour, cycling."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def render_png(draw: Callable[[Figure], None], width: float, height: float) -> bytes:
    """Call ``draw`` on a fresh ``width`` × ``height`` inch figure; return it as PNG bytes.

    The figure is drawn once (layout included) and its pixels encoded as an RGB PNG by Pillow:
    ``Figure.savefig`` would draw a constrained-layout figure twice (a layout pass, then the
    rendering), which made it the largest cost of a small run's report.
    """
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    with matplotlib.rc_context({**STYLE, "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO)}):
        figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        canvas = FigureCanvasAgg(figure)
        draw(figure)
        canvas.draw()  # runs the layout engine, then renders
        pixels = np.asarray(canvas.buffer_rgba())  # (H, W, 4), opaque: the figure is white
    buffer = io.BytesIO()
    image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]))
    image.save(buffer, format="png", dpi=(DPI, DPI))
    return buffer.getvalue()


def save_png(path: str | Path, draw: Callable[[Figure], None], width: float, height: float) -> Path:
    """:func:`render_png` written to ``path`` atomically (a reader sees the old file or the new)."""
    return atomic_write_bytes(path, render_png(draw, width, height))
