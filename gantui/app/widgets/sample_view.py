"""Samples: a picture (sixel, kitty, half-cell or ASCII) of a sample grid, or a chart for toy data.

The dashboard gives it snapshot files from the run's samples/ folder; the launcher gives it the real
data's preview. Switching the graphics mode swaps the picture widget for one of another kind. A grid whose
layout is known is cut into its samples and as many shown as the renderer draws recognisably
(`picture_fit`); `zoom` caps that at 16, 4 or 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.containers import Center, Container
from textual.widget import Widget
from textual.widgets import Static

from gantui.app.graphics import PIXEL_MODES
from gantui.app.picture_fit import TEXT_CELL_PIXELS, ZOOMS, Fit, fit_samples, spread
from gantui.app.widgets.ascii_image import AsciiImage
from gantui.app.widgets.halfcell_image import HalfcellImage
from gantui.app.widgets.toy_chart import ToyChart
from gantui.engine.grid import PNG_KEY, GridLayout, grid_tiles, tile_grid


def picture_class(mode: str) -> type[Widget]:
    """The widget class that draws pictures in `mode` (textual-image only for real pixels)."""
    if mode == "ascii":
        return AsciiImage
    if mode == "halfcell":
        return HalfcellImage
    from textual_image.widget import SixelImage, TGPImage

    return {"sixel": SixelImage, "kitty": TGPImage}[mode]


def cell_pixels(mode: str) -> tuple[int, int]:
    """How many of the picture's pixels one cell shows, across and down."""
    if mode in PIXEL_MODES:
        from textual_image.widget import get_cell_size

        size = get_cell_size()
        return size.width, size.height
    return TEXT_CELL_PIXELS


class PictureBox(Center):
    """Where the picture goes; its size decides how many samples fit, so a new size redraws them."""

    def on_resize(self) -> None:
        if isinstance(self.parent, SampleView):
            self.parent.redraw()


class SampleView(Container):
    """One sample snapshot (or data preview) at a time, drawn the way the graphics mode says."""

    DEFAULT_CSS = """
    SampleView {
        height: 1fr;
    }
    SampleView > PictureBox {
        height: 1fr;
        align: center middle;
    }
    SampleView .picture {
        width: auto;
        height: auto;
        max-height: 100%;
    }
    SampleView > #sample-message {
        height: auto;
        color: $text-muted;
    }
    """

    def __init__(self, mode: str = "ascii", *, title: str = "Samples", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self.border_title = title
        self.picture: PILImage.Image | None = None
        self.grid: GridLayout | None = None  # how the picture's tiles lie, when known
        self.values: tuple[str, Any, Any] | None = None
        self.zoom: int | None = None  # at most this many samples; None: all that fit
        self.expected_count: int | None = None  # the run's sample_count, for PNGs that do not say their layout
        self.fit: Fit | None = None  # what is drawn now
        self.caption = ""

    def compose(self) -> ComposeResult:
        with PictureBox(id="picture-box"):
            yield picture_class(self.mode)(classes="picture")  # type: ignore[call-arg]
        yield ToyChart(id="toy-chart")
        yield Static("", id="sample-message")

    def on_mount(self) -> None:
        self._show_parts()

    # ---- what to show ---------------------------------------------------------------------------------
    def show_file(self, path: Path | None) -> None:
        """A snapshot file: PNG grid, or toy JSON {"step", "fake", "real"}."""
        if path is None:
            self.show_message("no samples yet")
            return
        try:
            if path.suffix == ".json":
                data = json.loads(path.read_text(encoding="utf-8"))
                self.show_values(str(data.get("dataset", "")), data.get("fake"), data.get("real"))
            else:
                with PILImage.open(path) as picture:
                    self.show_picture(picture.copy(), self._layout_of(picture))
        except (OSError, ValueError) as error:  # being replaced right now: the next poll tries again
            self.show_message(f"cannot read {path.name}: {error}")

    def expect_samples(self, config: dict[str, Any]) -> None:
        """A run's config says how many samples its grids hold (PNGs written before they said it themselves);
        one that does not say is not guessed at: a wrong count would cut the digits apart."""
        count = config.get("sample_count")
        self.expected_count = count if isinstance(count, int) and count > 0 else None

    def _layout_of(self, picture: PILImage.Image) -> GridLayout | None:
        written = getattr(picture, "text", {}).get(PNG_KEY)
        if written:
            return GridLayout.from_text(written)
        return GridLayout.of_picture(self.expected_count, *picture.size) if self.expected_count else None

    def show_picture(self, picture: PILImage.Image | np.ndarray, layout: GridLayout | None = None) -> None:
        if isinstance(picture, np.ndarray):
            picture = PILImage.fromarray(picture.squeeze(-1) if picture.ndim == 3 and picture.shape[-1] == 1
                                         else picture)
        self.picture, self.grid, self.values = picture, layout, None
        self.query_one("#sample-message", Static).update("")
        self._show_parts()
        self.redraw()

    def show_values(self, dataset: str, fake: Any, real: Any) -> None:
        self.values, self.picture, self.grid, self.fit = (dataset, fake, real), None, None, None
        self.query_one(ToyChart).show(dataset, fake, real)
        self.query_one("#sample-message", Static).update("")
        self._show_parts()

    def show_message(self, text: str) -> None:
        self.picture = self.values = self.grid = self.fit = None
        self.query_one("#sample-message", Static).update(text)
        self._show_parts()

    def set_dataset(self, dataset: str) -> None:
        """Toy JSON files don't name their dataset; the run's config does."""
        if self.values is not None and self.values[0] != dataset:
            self.show_values(dataset, self.values[1], self.values[2])

    # ---- how to show it -------------------------------------------------------------------------------
    async def set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        box = self.query_one("#picture-box", PictureBox)
        await box.remove_children()
        # made with its picture: a textual-image widget mounted empty where another was stays 0×0 once given one
        await box.mount(picture_class(mode)(self._fitted(), classes="picture"))  # type: ignore[call-arg]
        self.redraw()

    def cycle_zoom(self) -> None:
        """All samples that fit → 16 → 4 → 1 → all."""
        self.zoom = ZOOMS[(ZOOMS.index(self.zoom) + 1) % len(ZOOMS)] if self.zoom in ZOOMS else None
        self.redraw()

    def set_caption(self, caption: str) -> None:
        self.caption = caption
        self._show_subtitle()

    def _box_cells(self) -> tuple[int, int]:
        size = self.query_one("#picture-box").size
        return size.width, size.height

    def _fitted(self) -> PILImage.Image | None:
        """The picture to draw: the samples that fit (evenly spread over the grid), cut out and laid out anew."""
        box = self._box_cells()
        if self.picture is None or box[0] < 1 or box[1] < 1:
            self.fit = None
            return self.picture
        layout = self.grid
        tiles = grid_tiles(np.asarray(self.picture), layout) if layout is not None else []
        if layout is None or not tiles:  # a picture of unknown layout: one tile, the whole of it
            layout = GridLayout(1, 1, *self.picture.size, padding=0)
            tiles = [np.asarray(self.picture)]
        self.fit = fit_samples(layout.count, (layout.tile_width, layout.tile_height), layout.padding, box,
                               cell_pixels(self.mode), self.zoom, self.mode in PIXEL_MODES)
        if self.fit.count == layout.count and self.fit.columns == layout.columns:
            return self.picture
        shown = GridLayout(self.fit.count, self.fit.columns, layout.tile_width, layout.tile_height,
                           layout.padding)
        return PILImage.fromarray(tile_grid([tiles[index] for index in spread(len(tiles), self.fit.count)], shown))

    def redraw(self) -> None:
        """Fit the samples to the pane as it is now (its size, the mode, the zoom) and draw them."""
        if not self.is_mounted:
            return
        widget = self.query_one(".picture")
        if self.picture is not None:
            shown = self._fitted()
            if self.fit is not None:
                widget.styles.width, widget.styles.height = self.fit.cells
            widget.image = shown  # type: ignore[attr-defined]
        self._show_subtitle()

    def _show_subtitle(self) -> None:
        total = self.grid.count if self.grid is not None else 0
        shown = f"{self.fit.count} of {total} samples" if self.fit is not None and total > 1 else ""
        self.border_subtitle = " · ".join(part for part in (shown, self.caption) if part)

    def _show_parts(self) -> None:
        self._show_subtitle()
        self.query_one("#picture-box").display = self.picture is not None
        self.query_one(ToyChart).display = self.values is not None
        self.query_one("#sample-message").display = self.picture is None and self.values is None
