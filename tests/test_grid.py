"""Sample grids: the layout image_grid uses is the one written into the PNG and the one a viewer crops by."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gantui.engine.events import SampleGrid
from gantui.engine.grid import PNG_KEY, GridLayout, grid_tiles
from gantui.engine.run.writer import RunDir, RunDirSink
from gantui.engine.samples import grid_layout, image_grid


def test_image_grid_lays_out_tiles_as_its_layout_says() -> None:
    images = torch.linspace(0, 1, 10).view(10, 1, 1, 1).expand(10, 1, 28, 20)
    grid = image_grid(images, "unit")
    layout = grid_layout(images)
    assert layout == GridLayout(10, 4, 20, 28) and (grid.shape[1], grid.shape[0]) == layout.size
    tiles = grid_tiles(grid, layout)
    assert [int(tile.mean()) for tile in tiles] == [round(v * 255) for v in torch.linspace(0, 1, 10).tolist()]
    assert grid[:2].max() == 0 and grid[:, :2].max() == 0  # the padding is black
    assert grid_tiles(grid[:-1], layout) == []  # a picture of another size is not cut by this layout


def test_a_single_sample_and_a_strip_keep_the_same_padding() -> None:
    assert image_grid(torch.ones(1, 3, 8, 8), "unit").shape == (12, 12, 3)
    assert image_grid(torch.ones(5, 1, 8, 8), "unit", columns=5).shape == (12, 52, 1)


def test_the_png_carries_its_layout(tmp_path: Path) -> None:
    layout = GridLayout(4, 2, 8, 8)
    assert GridLayout.from_text(layout.to_text()) == layout and GridLayout.from_text("count=x") is None
    sink = RunDirSink(RunDir(tmp_path / "run"))
    sink.handle(SampleGrid(0, np.zeros((*reversed(layout.size), 1), dtype=np.uint8), layout))
    with Image.open(tmp_path / "run" / "samples" / "latest.png") as picture:
        assert GridLayout.from_text(picture.text[PNG_KEY]) == layout


def test_a_grid_of_known_count_gives_its_layout_back() -> None:
    layout = GridLayout.about_square(64, 28, 28)
    assert GridLayout.of_picture(64, *layout.size) == layout
    assert GridLayout.of_picture(10, 122, 92) == GridLayout(10, 4, 28, 28)
    assert GridLayout.of_picture(64, 123, 122) is None  # no layout of 64 tiles makes that size
