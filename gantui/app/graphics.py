"""How pictures are drawn: sixel, kitty (terminal graphics protocol), half-cell blocks, or ASCII text.

textual-image asks the terminal what it supports when it is first imported, which only works before
Textual takes over the terminal: `detect_graphics()` must run before the app starts (`run_app` does).
"""

from __future__ import annotations

import sys

MODES = ("sixel", "kitty", "halfcell", "ascii")
CHOICES = ("auto", *MODES)


def detect_graphics() -> str:
    """The best mode this terminal supports; ascii when stdout is not a terminal at all."""
    stdout = sys.__stdout__
    if stdout is None or not stdout.isatty():
        return "ascii"
    try:
        from textual_image import renderable
        from textual_image.widget import get_cell_size

        get_cell_size()  # cached for later, when Textual owns the terminal
    except Exception:  # a terminal that answers nothing sensible: text is always possible
        return "ascii"
    return {
        renderable.SixelImage: "sixel",
        renderable.TGPImage: "kitty",
        renderable.HalfcellImage: "halfcell",
    }.get(renderable.Image, "ascii")


def resolve_graphics(choice: str) -> str:
    """A forced mode as given; `auto` as detected. Detects either way, so the terminal is asked in time."""
    if choice not in CHOICES:
        raise ValueError(f"unknown graphics mode {choice!r}; choose one of {', '.join(CHOICES)}")
    detected = detect_graphics()
    return detected if choice == "auto" else choice


def next_mode(mode: str) -> str:
    return MODES[(MODES.index(mode) + 1) % len(MODES)] if mode in MODES else MODES[0]
