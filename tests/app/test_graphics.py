"""Pictures: the automatic choice falls back to text without a terminal; every forced mode draws."""

from __future__ import annotations

from pathlib import Path

import pytest

from gantui.app.app import GanApp
from gantui.app.graphics import MODES, PIXEL_MODES, detect_graphics, next_mode, resolve_graphics
from gantui.app.picture_fit import MIN_SAMPLE_CELLS
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.widgets.ascii_image import AsciiImage, ascii_lines
from gantui.app.widgets.sample_view import SampleView, picture_class
from gantui.engine.grid import GridLayout


def readable(cells: tuple[int, int]) -> bool:
    return cells[0] >= MIN_SAMPLE_CELLS[0] and cells[1] >= MIN_SAMPLE_CELLS[1]


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
        await wait_until(pilot, lambda: view.fit is not None and picture.size.width > 0, what="the samples drawn")
        if mode in PIXEL_MODES:  # real pixels: the whole grid fills the pane
            assert picture.image is view.picture and view.fit.count == 16
        else:  # text: fewer samples, each large enough to read
            assert 1 <= view.fit.count < 16 and readable(view.fit.sample_cells)
            assert picture.image.size == GridLayout(view.fit.count, view.fit.columns, 28, 28).size


async def test_g_cycles_the_mode_and_the_pane_never_goes_blank(runs_dir: Path, image_run: Path, wait_until,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # a textual-image widget mounted empty where another had been stayed 0×0 once given its picture
    monkeypatch.delenv("TMUX", raising=False)
    app = GanApp([runs_dir], watch=image_run, graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.poll is not None,
                         what="the first poll")
        view = app.screen.query_one(SampleView)
        await wait_until(pilot, lambda: view.picture is not None, what="the sample grid")
        seen = []
        for _ in range(2 * len(MODES)):
            await pilot.press("g")
            seen.append(view.mode)
            picture = view.query_one(".picture")
            assert type(picture) is picture_class(view.mode)
            await wait_until(pilot, lambda picture=picture: picture.image is not None and picture.size.width > 0
                             and picture.size.height > 0, what=f"the samples drawn in {view.mode}")
        assert seen == ["sixel", "kitty", "halfcell", "ascii"] * 2
        assert isinstance(view.query_one(".picture"), AsciiImage)


FAKE_TTY = """
import io, json, os, sys
class Terminal(io.StringIO):
    def isatty(self): return True
sys.__stdout__ = sys.stdout = terminal = Terminal()
from gantui.app.graphics import cycle_modes, detect_graphics, resolve_graphics
modes = [detect_graphics(), resolve_graphics("auto"), resolve_graphics("ascii")]
print = sys.__stderr__.write
print(json.dumps({"modes": modes, "cycle": cycle_modes("auto"), "written": terminal.getvalue(),
                  "textual_image": any(name.startswith("textual_image") for name in sys.modules)}))
"""


def test_inside_tmux_nothing_asks_the_terminal() -> None:
    """A query reaching tmux unwrapped became its pane title (`Gi=…,s=1,v=1`): inside tmux, ask nothing."""
    import json
    import os
    import subprocess
    import sys

    environment = {**os.environ, "TMUX": "/tmp/tmux-0/default,1,0"}
    done = subprocess.run([sys.executable, "-c", FAKE_TTY], env=environment, capture_output=True, text=True,
                          timeout=60, check=True)
    answer = json.loads(done.stderr.strip().splitlines()[-1])
    assert answer == {"modes": ["halfcell", "halfcell", "ascii"], "cycle": ["halfcell", "ascii"], "written": "",
                      "textual_image": False}
