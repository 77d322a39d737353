"""A picture drawn with ASCII characters by brightness: works in any terminal, log file or snapshot."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage
from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

RAMP = " .:-=+*#%@"  # dark to bright
CELL_ASPECT = 2.0  # a terminal cell is about twice as tall as it is wide


def fit_cells(picture: PILImage.Image, columns: int, rows: int) -> tuple[int, int]:
    """The (columns, rows) the picture takes fitted into columns×rows cells, keeping its aspect; 0s if none."""
    width, height = picture.size
    if width == 0 or height == 0 or columns < 1 or rows < 1:
        return 0, 0
    cols = min(columns, max(1, round(rows * CELL_ASPECT * width / height)))
    return cols, max(1, min(rows, round(cols * height / width / CELL_ASPECT)))


def ascii_lines(picture: PILImage.Image, columns: int, rows: int) -> list[str]:
    """The picture fitted into columns×rows cells (keeping its aspect), one string per row."""
    cols, lines = fit_cells(picture, columns, rows)
    if cols == 0:
        return []
    small = picture.convert("L").resize((cols, lines), PILImage.Resampling.BOX)
    levels = (np.asarray(small, dtype=np.uint16) * len(RAMP)) // 256
    return ["".join(RAMP[level] for level in row) for row in levels]


class AsciiImage(Widget):
    """Shows a PIL image as text, scaled to the widget."""

    DEFAULT_CSS = """
    AsciiImage {
        width: 1fr;
        height: 1fr;
        content-align: center middle;
    }
    """

    def __init__(self, image: PILImage.Image | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._image = image

    @property
    def image(self) -> PILImage.Image | None:
        return self._image

    @image.setter
    def image(self, value: PILImage.Image | None) -> None:
        self._image = value
        self.refresh()

    def render(self) -> RenderResult:
        if self._image is None:
            return ""
        return Content("\n".join(ascii_lines(self._image, self.size.width, self.size.height)))
