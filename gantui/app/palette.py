"""The plots' colours, chosen in one place that knows the terminal's colours, so that a legend always shows
its curve's colour and every curve stands apart from the others and from the background.

Curves and legends both get RGB (plotext's points and the border title's markup), which Textual renders
the same way: downgraded to the 16 colours of TERM=xterm, each hue is one of that palette's own entries and
keeps it. Under NO_COLOR Textual shows every colour as a grey of its luminance, so the curves are greys of
their own, spread from the background to the text colour of the theme; eight greys are too close to tell
apart, so there each curve also has a marker of its own (`MARKERS`), and its legend shows that marker.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.color import Color
from textual.markup import escape

Rgb = tuple[int, int, int]
# The 16-colour palette's bright red, cyan, yellow, green, magenta, blue, white, grey: up to 8 runs on compare.
ON_DARK: tuple[Rgb, ...] = ((255, 85, 85), (85, 255, 255), (255, 255, 85), (85, 255, 85), (255, 85, 255),
                            (85, 85, 255), (255, 255, 255), (170, 170, 170))
# The same palette's plain ones, which read on a light background.
ON_LIGHT: tuple[Rgb, ...] = ((170, 0, 0), (0, 170, 170), (170, 85, 0), (0, 170, 0), (170, 0, 170), (0, 0, 170),
                             (0, 0, 0), (85, 85, 85))
GREY_SHARES = (1.0, 0.6, 0.8, 0.45, 0.9, 0.7, 0.55, 0.95)  # NO_COLOR: how far each curve is from the background
# NO_COLOR: each curve's marker (None: braille dots), distinct shapes in any font; the legend shows it too.
MARKERS: tuple[str | None, ...] = (None, "+", "x", "o", "*", "#", "=", "@")
BRAILLE_LEGEND = "━"  # a braille curve's legend: a line
REFERENCE_SHARE, CURSOR_SHARE = 0.3, 0.75  # the dim equilibrium line, the inspect cursor


@dataclass(frozen=True)
class PlotColours:
    """The curves' colours (and markers) in legend order, the reference lines' and the inspect cursor's."""

    curves: tuple[Rgb, ...]
    reference: Rgb
    cursor: Rgb
    markers: tuple[str | None, ...] = (None,)  # per curve: None draws braille dots

    def curve(self, index: int) -> Rgb:
        return self.curves[index % len(self.curves)]

    def marker(self, index: int) -> str | None:
        """The curve's plot marker: None for braille dots (full resolution), else one character per cell."""
        return self.markers[index % len(self.markers)]

    def legend(self, index: int) -> str:
        """The curve's legend sample as markup: its marker (a line for braille) in its colour."""
        return f"[{markup(self.curve(index))}]{escape(self.marker(index) or BRAILLE_LEGEND)}[/]"


def plot_colours(app: App) -> PlotColours:
    """The colours for `app`'s theme (its surface and foreground) and colour mode (NO_COLOR)."""
    variables = app.theme_variables
    background = Color.parse(variables.get("surface", "#121212"))
    text = Color.parse(variables.get("foreground", "#e0e0e0"))

    def towards_text(share: float) -> Rgb:
        return background.blend(text, share).rgb

    if app.no_color:
        return PlotColours(tuple(towards_text(share) for share in GREY_SHARES), towards_text(REFERENCE_SHARE),
                           towards_text(CURSOR_SHARE), MARKERS)
    curves = ON_LIGHT if background.brightness > 0.5 else ON_DARK
    return PlotColours(curves, towards_text(REFERENCE_SHARE), towards_text(CURSOR_SHARE))


def markup(colour: Rgb) -> str:
    """The colour as a Textual or Rich markup style."""
    return "rgb({},{},{})".format(*colour)
