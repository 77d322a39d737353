"""Shown instead of a screen's panes while the terminal is smaller than the screen needs.

Below its size a screen's panes collapse into empty boxes; this says so, and what size would do. The
screen calls `fit` with its size (on mount and on every resize); the stylesheet hides every other child of
a screen with the class `-too-small`.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Static


class TooSmall(Static):
    """`the dashboard needs at least 50×16; this terminal is 40×12`."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        color: $warning;
    }
    """

    def __init__(self, what: str, needs: tuple[int, int], quit_key: str = "q") -> None:
        super().__init__("", markup=False)
        self.what = what
        self.needs = needs
        self.quit_key = quit_key

    def fit(self, size: Size) -> bool:
        """Hide the screen's panes and say why when `size` is below the need; True when it is."""
        width, height = self.needs
        small = size.width < width or size.height < height
        if small:
            self.update(f"the {self.what} needs at least {width}×{height}; this terminal is "
                        f"{size.width}×{size.height} ({self.quit_key} quits)")
        self.screen.set_class(small, "-too-small")
        return small
