"""The latent explorer's keys on a real (tiny) conditional generator, and the dashboard's save-PNG key."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from gantui.app.app import GanApp
from gantui.app.picture_fit import MIN_SAMPLE_CELLS
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.explorer import ExplorerScreen
from gantui.app.screens.runs import RunsScreen
from gantui.app.widgets.sample_view import SampleView
from gantui.engine.grid import GridLayout


@pytest.fixture(scope="module")
def _cgan_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gantui.engine.config import resolve_config
    from gantui.engine.prepare import prepare_run
    from gantui.engine.trainer import train

    folder = tmp_path_factory.mktemp("cgan-runs")
    config = resolve_config("mnist", "cgan", steps=4, batch_size=8, log_every=2, sample_every=4,
                            checkpoint_every=4, sample_count=16, device="cpu", runs_dir=str(folder))
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    return prepared.path


@pytest.fixture
def cgan_run(_cgan_run: Path, runs_dir: Path) -> Path:
    return Path(shutil.copytree(_cgan_run, runs_dir / _cgan_run.name))


async def test_explorer_keys(runs_dir, cgan_run, wait_until, press) -> None:
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and bool(pilot.app.screen.rows),
                         what="the runs list")
        await press(pilot, "x")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen), what="the explorer")
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.renders == 1, what="the first strips")
        assert screen.conditional and screen.num_classes == 10
        first = screen.drawn["interpolation"]
        assert set(screen.drawn) == {"interpolation", "arithmetic", "classes"}
        assert first.shape[1] > first.shape[0] * 4  # 8 images in one row
        strip = screen.query_one("#strip-interpolation", SampleView)
        await wait_until(pilot, lambda: strip.fit is not None, what="the interpolation drawn")
        assert strip.grid == GridLayout(8, 8, 28, 28)  # cut into its samples, as many shown as stay readable
        assert strip.fit.sample_cells[0] >= MIN_SAMPLE_CELLS[0] and strip.fit.sample_cells[1] >= MIN_SAMPLE_CELLS[1]

        seed_b = screen.seed_b
        await press(pilot, "a")
        await wait_until(pilot, lambda: screen.renders == 2, what="re-rolled strips")
        assert screen.seed_a != 0 and screen.seed_b == seed_b
        assert not np.array_equal(screen.drawn["interpolation"], first)
        await press(pilot, "right_square_bracket")  # more steps
        await wait_until(pilot, lambda: screen.renders == 3, what="more steps")
        assert screen.steps == 10 and screen.drawn["interpolation"].shape[1] > first.shape[1]
        await press(pilot, "7")
        await wait_until(pilot, lambda: screen.renders == 4, what="class 7")
        assert screen.label == 7

        await press(pilot, "s")
        await wait_until(pilot, lambda: len(screen.saved) == 3, what="the strips saved")
        assert all(path.is_file() and path.parent == cgan_run / "exports" for path in screen.saved)
        assert any("class7" in path.name for path in screen.saved)

        await press(pilot, "escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), what="back to the list")
        await press(pilot, "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen)
                         and pilot.app.screen.poll is not None, what="the dashboard")
        await press(pilot, "a")  # save the grid shown
        await wait_until(pilot, lambda: (cgan_run / "exports" / "samples-step-4.png").is_file(), what="the grid saved")


async def test_explorer_says_when_the_terminal_is_too_small(runs_dir, cgan_run, wait_until, press) -> None:
    from gantui.app.widgets.too_small import TooSmall

    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and bool(pilot.app.screen.rows),
                         what="the runs list")
        await pilot.resize_terminal(40, 12)
        await press(pilot, "x")  # opened at 40×12: the note from the start
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen), what="the explorer")
        screen = pilot.app.screen
        too_small = screen.query_one(TooSmall)
        await wait_until(pilot, lambda: too_small.display, what="the too-small note")
        assert "latent explorer needs at least 50×16; this terminal is 40×12" in str(too_small.render())
        assert not screen.query_one("#explorer-strips").display
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not too_small.display and screen.query_one("#explorer-strips").display,
                         what="the strips back at 80×24")
        await pilot.resize_terminal(40, 12)  # and a resize below the size says so again
        await wait_until(pilot, lambda: too_small.display, what="the note again")
