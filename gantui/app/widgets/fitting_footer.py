"""Textual's compact Footer, showing only the keys that fit whole beside the palette key.

Keys past the edge were drawn cut, and their leftovers showed beside the palette key (`…w Windo▏^p
palettes` at 80 columns). Every key of a screen is also in its `?` help and the command palette.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class FittingFooter(Footer):
    """A Footer that hides, from the last, the keys the width has no room for."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        keys = list(self.query(FooterKey))
        palette = [key for key in keys if key.has_class("-command-palette")]
        room = self.size.width - sum(self._width(key) for key in palette)
        used = 0
        for key in keys:
            if key in palette:
                continue
            used += self._width(key)
            key.display = used - key.styles.margin.right <= room  # the last key's margin may meet the edge

    def _width(self, key: FooterKey) -> int:
        content = key.get_content_width(self.size, self.app.size)
        return content + key.styles.gutter.width + key.styles.margin.width
