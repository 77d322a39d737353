"""How a sample grid lays out its tiles: one fact shared by the code that makes grids and the code that
crops them (numpy only, so a viewer can read a grid without importing torch).

A grid PNG carries its layout in a text chunk (`PNG_KEY`), so a reader can cut it back into its samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PADDING = 2  # pixels of black around and between the tiles
PNG_KEY = "gantui-grid"


@dataclass(frozen=True)
class GridLayout:
    """`count` tiles of tile_width×tile_height pixels, `columns` to a row, `padding` pixels apart."""

    count: int
    columns: int
    tile_width: int
    tile_height: int
    padding: int = PADDING

    @classmethod
    def about_square(cls, count: int, tile_width: int, tile_height: int, columns: int | None = None) -> GridLayout:
        """The layout image grids use: as many columns as asked, or about as many as rows."""
        columns = columns or math.ceil(math.sqrt(count))
        return cls(count, max(1, min(columns, count)), tile_width, tile_height)

    @classmethod
    def row_of(cls, count: int, width: int, height: int) -> GridLayout:
        """The layout of a one-row strip of `count` tiles that is width×height pixels in all."""
        return cls(count, count, max(1, (width - PADDING) // count - PADDING), max(1, height - 2 * PADDING))

    @classmethod
    def of_picture(cls, count: int, width: int, height: int) -> GridLayout | None:
        """The about-square layout of `count` tiles that makes a width×height grid, or None if none does
        (for grids written before PNGs carried their layout: the run's sample_count says how many)."""
        layout = cls.about_square(count, 1, 1)
        tile_width = (width - PADDING) / layout.columns - PADDING
        tile_height = (height - PADDING) / layout.rows - PADDING
        if count < 1 or tile_width < 1 or tile_height < 1 or not tile_width.is_integer() \
                or not tile_height.is_integer():
            return None
        return cls(count, layout.columns, int(tile_width), int(tile_height))

    @property
    def rows(self) -> int:
        return max(1, math.ceil(self.count / self.columns))

    @property
    def size(self) -> tuple[int, int]:
        """The whole grid's (width, height) in pixels."""
        return (self.columns * (self.tile_width + self.padding) + self.padding,
                self.rows * (self.tile_height + self.padding) + self.padding)

    def box(self, index: int) -> tuple[int, int, int, int]:
        """Tile `index`'s (left, top, right, bottom) in the grid."""
        row, column = divmod(index, self.columns)
        left = self.padding + column * (self.tile_width + self.padding)
        top = self.padding + row * (self.tile_height + self.padding)
        return left, top, left + self.tile_width, top + self.tile_height

    def to_text(self) -> str:
        return f"count={self.count} columns={self.columns} tile={self.tile_width}x{self.tile_height} " \
               f"padding={self.padding}"

    @classmethod
    def from_text(cls, text: str) -> GridLayout | None:
        """The layout a PNG's text chunk describes, or None for one that does not parse."""
        try:
            fields = dict(part.split("=", 1) for part in text.split())
            width, height = (int(value) for value in fields["tile"].split("x"))
            return cls(int(fields["count"]), int(fields["columns"]), width, height, int(fields["padding"]))
        except (KeyError, ValueError):
            return None


def tile_grid(tiles: list[np.ndarray], layout: GridLayout) -> np.ndarray:
    """H×W(×C) tiles, all of the layout's tile size, laid out as `layout` says on black."""
    width, height = layout.size
    grid = np.zeros((height, width, *tiles[0].shape[2:]), dtype=tiles[0].dtype)
    for index, tile in enumerate(tiles):
        left, top, right, bottom = layout.box(index)
        grid[top:bottom, left:right] = tile
    return grid


def grid_tiles(grid: np.ndarray, layout: GridLayout) -> list[np.ndarray]:
    """The tiles of a grid picture, in order; none when the picture is not the size its layout says."""
    if (grid.shape[1], grid.shape[0]) != layout.size:
        return []
    return [grid[top:bottom, left:right] for left, top, right, bottom in map(layout.box, range(layout.count))]
