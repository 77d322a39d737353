"""A picture drawn with half-cell blocks: '▀' in the upper pixel's colour on the lower pixel's.

gantui's own, not textual-image's: importing textual-image asks the terminal about graphics, and inside
tmux that query lands in the pane title. Half-cell blocks need no question answered, so this widget works
in every terminal with colour, tmux included.
"""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from gantui.app.widgets.ascii_image import AsciiImage, fit_cells


def halfcell_rows(picture: PILImage.Image, columns: int, rows: int) -> list[list[tuple[tuple, tuple]]]:
    """The picture fitted into columns×rows cells: per row, each cell's (upper, lower) RGB colours."""
    cols, lines = fit_cells(picture, columns, rows)
    if cols == 0:
        return []
    pixels = np.asarray(picture.convert("RGB").resize((cols, lines * 2), PILImage.Resampling.BOX))
    return [[(tuple(int(v) for v in upper), tuple(int(v) for v in lower))
             for upper, lower in zip(pixels[2 * row], pixels[2 * row + 1], strict=True)] for row in range(lines)]


class HalfcellImage(AsciiImage):
    """Shows a PIL image as coloured half-cell blocks, scaled to the widget (two pixels a cell)."""

    def __init__(self, image: PILImage.Image | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(image, id=id, classes=classes)
        self._rows: list[Strip] = []
        self._drawn_for: tuple[PILImage.Image | None, object] = (None, None)

    def render_line(self, y: int) -> Strip:
        if self._drawn_for[0] is not self._image or self._drawn_for[1] != self.size:
            self._drawn_for = (self._image, self.size)
            rows = halfcell_rows(self._image, self.size.width, self.size.height) if self._image else []
            self._rows = [Strip([Segment("▀", Style.from_color(_rgb(upper), _rgb(lower))) for upper, lower in row])
                          for row in rows]
        return self._rows[y] if y < len(self._rows) else Strip.blank(self.size.width)


def _rgb(colour: tuple) -> Color:
    return Color.from_rgb(*colour)
