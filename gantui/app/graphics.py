"""How pictures are drawn: sixel, kitty (terminal graphics protocol), half-cell blocks, or ASCII text.

textual-image asks the terminal what it supports when it is first imported, which only works before
Textual takes over the terminal: `detect_graphics()` must run before the app starts (`run_app` does).

Inside tmux nothing asks: textual-image's kitty query is an APC sequence, which tmux takes for a pane
title (`Gi=…,s=1,v=1` in the status line), and it does not wrap its queries or pictures for tmux's
passthrough. There gantui draws half-cell blocks (its own widget, no query) unless `--graphics` forces a
mode; the `g` cycle then offers only the modes that need no question (half-cell and ASCII).
"""

from __future__ import annotations

import os
import sys

MODES = ("sixel", "kitty", "halfcell", "ascii")
PIXEL_MODES = ("sixel", "kitty")  # real pixels, drawn by textual-image
TEXT_MODES = ("halfcell", "ascii")  # drawn by gantui's own widgets, no terminal query
CHOICES = ("auto", *MODES)


def in_tmux() -> bool:
    return bool(os.environ.get("TMUX"))


def detect_graphics() -> str:
    """The best mode this terminal supports: half-cell inside tmux (asking nothing), ascii without a terminal."""
    stdout = sys.__stdout__
    if stdout is None or not stdout.isatty():
        return "ascii"
    if in_tmux():
        return "halfcell"
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
    """A forced mode as given; `auto` as detected. Outside tmux it detects either way, so the terminal is
    asked in time for a later `g`; inside tmux it asks only for a forced sixel or kitty."""
    if choice not in CHOICES:
        raise ValueError(f"unknown graphics mode {choice!r}; choose one of {', '.join(CHOICES)}")
    if not in_tmux():
        detected = detect_graphics()
        return detected if choice == "auto" else choice
    if choice in PIXEL_MODES:
        try:
            from textual_image.widget import get_cell_size

            get_cell_size()  # asked now, before Textual owns the terminal
        except Exception:  # nothing sensible answered: the forced mode still draws, at a guessed cell size
            pass
    return detect_graphics() if choice == "auto" else choice


def cycle_modes(choice: str) -> tuple[str, ...]:
    """The modes `g` steps through: inside tmux, unless a pixel mode was forced, only those asking nothing."""
    return MODES if not in_tmux() or choice in PIXEL_MODES else TEXT_MODES


def next_mode(mode: str, modes: tuple[str, ...] = MODES) -> str:
    return modes[(modes.index(mode) + 1) % len(modes)] if mode in modes else modes[0]
