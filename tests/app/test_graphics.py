"""Pictures: the automatic choice falls back to text without a terminal; every forced mode draws."""

from __future__ import annotations

from pathlib import Path

import pytest

from gantui.app.app import GanApp
from gantui.app.graphics import MODES, detect_graphics, next_mode, resolve_graphics
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.widgets.ascii_image import AsciiImage, ascii_lines
from gantui.app.widgets.sample_view import SampleView, picture_class


def test_auto_falls_back_to_ascii_without_a_tty() -> None:
    # pytest captures stdout: no terminal to ask, so no sixel / kitty / half-cell guess
    assert detect_graphics() == "ascii"
    assert resolve_graphics("auto") == "ascii"


def test_forced_modes_are_kept_and_unknown_ones_refused() -> None:
    for mode in MODES:
        assert resolve_graphics(mode) == mode
    with pytest.raises(ValueError):
        resolve_graphics("png")
    assert [next_mode(m) for m in MODES] == ["kitty", "halfcell", "ascii", "sixel"]


def test_ascii_rendering_keeps_the_aspect_and_the_brightness() -> None:
    from PIL import Image

    picture = Image.new("L", (40, 20), 0)
    picture.paste(255, (20, 0, 40, 20))
    lines = ascii_lines(picture, 80, 100)
    assert len(lines) == 20 and all(len(line) == 80 for line in lines)  # cells are twice as tall as wide
    assert lines[0] == " " * 40 + "@" * 40
    assert len(ascii_lines(picture, 80, 10)) == 10 and len(ascii_lines(picture, 80, 10)[0]) == 40


@pytest.mark.parametrize("mode", MODES)
async def test_each_forced_mode_draws_the_samples(mode: str, runs_dir: Path, image_run: Path,
                                                  wait_until) -> None:
    app = GanApp([runs_dir], watch=image_run, graphics=mode, poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.poll is not None,
                         what="the first poll")
        view = app.screen.query_one(SampleView)
        await wait_until(pilot, lambda: view.picture is not None, what="the sample grid")
        picture = view.query_one(".picture")
        assert type(picture) is picture_class(mode)
        assert picture.image is view.picture
        await pilot.pause()
        assert picture.size.width > 0 and picture.size.height > 0


async def test_g_cycles_the_mode(runs_dir: Path, image_run: Path, wait_until) -> None:
    app = GanApp([runs_dir], watch=image_run, graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.poll is not None,
                         what="the first poll")
        view = app.screen.query_one(SampleView)
        await wait_until(pilot, lambda: view.picture is not None, what="the sample grid")
        seen = []
        for _ in MODES:
            await pilot.press("g")
            seen.append(view.mode)
            assert type(view.query_one(".picture")) is picture_class(view.mode)
        assert seen == ["sixel", "kitty", "halfcell", "ascii"]
        assert isinstance(view.query_one(".picture"), AsciiImage)
