"""How many samples a pane shows, and how large: from the resolution the renderer really has.

Half-cell blocks and ASCII give one pixel per column and two per row, so a whole grid squeezed into a pane
turns each digit into a few blurred cells: there the pane shows as many samples as fit at a recognisable
size (`MIN_SAMPLE_CELLS`). Sixel and kitty draw real pixels, so there the whole grid fills the pane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TEXT_CELL_PIXELS = (1, 2)  # half-cell and ASCII: a cell stands for one pixel across and two down
MIN_SAMPLE_CELLS = (14, 7)  # columns × rows that keep a 28×28 digit readable (half its pixels)
ZOOMS = (None, 16, 4, 1)  # samples shown at most: all that fit, then 16, 4 and 1


@dataclass(frozen=True)
class Fit:
    """`count` samples, `columns` to a row, drawn in a `cells` (columns, rows) picture."""

    count: int
    columns: int
    cells: tuple[int, int]
    sample_cells: tuple[int, int]  # what one sample gets


def _arrange(count: int, tile: tuple[int, int], padding: int, box: tuple[int, int],
             cell_pixels: tuple[int, int], max_columns: int) -> Fit:
    """The column count that draws `count` tiles largest in `box` cells."""
    best: Fit | None = None
    best_scale = -1.0
    for columns in range(1, max(1, min(count, max_columns)) + 1):
        rows = math.ceil(count / columns)
        width = columns * (tile[0] + padding) + padding
        height = rows * (tile[1] + padding) + padding
        scale = min(box[0] * cell_pixels[0] / width, box[1] * cell_pixels[1] / height)
        if scale > best_scale:
            best_scale = scale
            cells = (max(1, min(box[0], round(width * scale / cell_pixels[0]))),
                     max(1, min(box[1], round(height * scale / cell_pixels[1]))))
            sample = (int(tile[0] * scale / cell_pixels[0]), int(tile[1] * scale / cell_pixels[1]))
            best = Fit(count, columns, cells, sample)
    assert best is not None
    return best


def fit_samples(total: int, tile: tuple[int, int], padding: int, box: tuple[int, int],
                cell_pixels: tuple[int, int], zoom: int | None, real_pixels: bool) -> Fit:
    """The samples to show out of `total` tiles of `tile` pixels in a pane of `box` cells.

    With `real_pixels` (sixel, kitty) every sample the zoom allows; otherwise only as many as keep
    MIN_SAMPLE_CELLS each (capped at the tile's own resolution), and always at least one."""
    limit = min(total, zoom or total)
    if real_pixels:
        return _arrange(limit, tile, padding, box, cell_pixels, limit)
    need = (min(MIN_SAMPLE_CELLS[0], math.ceil(tile[0] / cell_pixels[0])),
            min(MIN_SAMPLE_CELLS[1], math.ceil(tile[1] / cell_pixels[1])))
    max_columns = max(1, box[0] // need[0])
    count = min(limit, max_columns * max(1, box[1] // need[1]))
    while count > 1:
        fit = _arrange(count, tile, padding, box, cell_pixels, max_columns)
        if fit.sample_cells[0] >= need[0] and fit.sample_cells[1] >= need[1]:
            return fit
        count -= 1
    return _arrange(1, tile, padding, box, cell_pixels, 1)


def spread(total: int, count: int) -> list[int]:
    """`count` of `total` sample indices, evenly spread and keeping both ends (an interpolation's a and b)."""
    if count >= total:
        return list(range(total))
    return [0] if count <= 1 else [round(index * (total - 1) / (count - 1)) for index in range(count)]
