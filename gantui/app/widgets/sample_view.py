"""Samples: a picture (sixel, kitty, half-cell or ASCII) of a sample grid, or a chart for toy data.

The dashboard gives it snapshot files from the run's samples/ folder; the launcher gives it the real
data's preview. Switching the graphics mode swaps the picture widget for one of another kind.
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

from gantui.app.widgets.ascii_image import AsciiImage
from gantui.app.widgets.toy_chart import ToyChart


def picture_class(mode: str) -> type[Widget]:
    """The widget class that draws pictures in `mode`."""
    if mode == "ascii":
        return AsciiImage
    from textual_image.widget import HalfcellImage, SixelImage, TGPImage

    return {"sixel": SixelImage, "kitty": TGPImage, "halfcell": HalfcellImage}[mode]


class SampleView(Container):
    """One sample snapshot (or data preview) at a time, drawn the way the graphics mode says."""

    DEFAULT_CSS = """
    SampleView {
        height: 1fr;
    }
    SampleView > Center {
        height: 1fr;
    }
    SampleView .picture {
        width: auto;
        height: auto;
        max-height: 100%;
    }
    SampleView AsciiImage.picture {
        width: 1fr;
        height: 1fr;
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
        self.values: tuple[str, Any, Any] | None = None

    def compose(self) -> ComposeResult:
        with Center(id="picture-box"):
            yield picture_class(self.mode)(classes="picture")
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
                    self.show_picture(picture.copy())
        except (OSError, ValueError) as error:  # being replaced right now: the next poll tries again
            self.show_message(f"cannot read {path.name}: {error}")

    def show_picture(self, picture: PILImage.Image | np.ndarray) -> None:
        if isinstance(picture, np.ndarray):
            picture = PILImage.fromarray(picture.squeeze(-1) if picture.ndim == 3 and picture.shape[-1] == 1
                                         else picture)
        self.picture, self.values = picture, None
        self.query_one(".picture").image = picture  # type: ignore[attr-defined]
        self.query_one("#sample-message", Static).update("")
        self._show_parts()

    def show_values(self, dataset: str, fake: Any, real: Any) -> None:
        self.values, self.picture = (dataset, fake, real), None
        self.query_one(ToyChart).show(dataset, fake, real)
        self.query_one("#sample-message", Static).update("")
        self._show_parts()

    def show_message(self, text: str) -> None:
        self.picture = self.values = None
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
        box = self.query_one("#picture-box", Center)
        await box.remove_children()
        widget = picture_class(mode)(classes="picture")
        await box.mount(widget)
        if self.picture is not None:
            widget.image = self.picture  # type: ignore[attr-defined]

    def _show_parts(self) -> None:
        self.query_one("#picture-box").display = self.picture is not None
        self.query_one(ToyChart).display = self.values is not None
        self.query_one("#sample-message").display = self.picture is None and self.values is None
