"""The samples pane at the resolution its renderer has: readable half-cell samples, zoom and full screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from gantui.app.app import GanApp
from gantui.app.picture_fit import MIN_SAMPLE_CELLS, TEXT_CELL_PIXELS, fit_samples, spread
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.samples import SamplesScreen
from gantui.app.widgets.sample_view import SampleView
from gantui.engine.grid import GridLayout

SIZES = [(80, 24), (160, 48)]


def readable(cells: tuple[int, int]) -> bool:
    return cells[0] >= MIN_SAMPLE_CELLS[0] and cells[1] >= MIN_SAMPLE_CELLS[1]


def drawn(view: SampleView) -> bool:
    picture = view.query_one(".picture")
    return view.fit is not None and picture.size.width > 0 and picture.image is not None  # type: ignore[attr-defined]


async def _samples(pilot, wait_until) -> SampleView:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.poll is not None,
                     what="the first poll")
    view = app.screen.query_one(SampleView)
    await wait_until(pilot, lambda: drawn(view), what="the samples drawn")
    return view


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_half_cell_samples_are_readable_and_z_zooms(size: tuple[int, int], runs_dir: Path, image_run: Path,
                                                          wait_until) -> None:
    app = GanApp([runs_dir], watch=image_run, graphics="halfcell", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=size) as pilot:
        view = await _samples(pilot, wait_until)
        fitting = view.fit
        assert 1 <= fitting.count < 16 and readable(fitting.sample_cells)  # not 16 digits of 3×2 cells
        picture = view.query_one(".picture")
        assert (picture.size.width, picture.size.height) == fitting.cells
        shown = []
        for zoom in (16, 4, 1, None):
            await pilot.press("z")
            await wait_until(pilot, lambda zoom=zoom: view.zoom == zoom and drawn(view), what=f"zoom {zoom}")
            shown.append((view.fit.count, view.fit.sample_cells))
        assert [count for count, _ in shown] == [min(fitting.count, 16), min(fitting.count, 4), 1, fitting.count]
        one = shown[2][1]
        assert one[0] >= fitting.sample_cells[0] and one[1] >= fitting.sample_cells[1]
        assert f"{fitting.count} of 16 samples" in str(view.border_subtitle)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_full_screen_shows_more_and_steps_through_snapshots(size: tuple[int, int], runs_dir: Path,
                                                                  image_run: Path, wait_until) -> None:
    app = GanApp([runs_dir], watch=image_run, graphics="halfcell", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=size) as pilot:
        view = await _samples(pilot, wait_until)
        dashboard = app.screen
        in_pane = view.fit.count
        await pilot.press("Z")
        await wait_until(pilot, lambda: isinstance(app.screen, SamplesScreen), what="the full-screen samples")
        screen = app.screen
        full = screen.query_one(SampleView)
        await wait_until(pilot, lambda: drawn(full), what="the full-screen samples drawn")
        assert full.fit.count > in_pane and readable(full.fit.sample_cells)
        if size == (160, 48):
            assert full.fit.count == 16  # every sample, each still readable
        steps = screen.all_sample_steps()
        await pilot.press("comma")
        assert screen.sample_step == steps[-2] and f"step {steps[-2]}" in str(full.border_title)
        await pilot.press("z", "z", "z")
        await wait_until(pilot, lambda: full.zoom == 1 and drawn(full), what="one sample full-screen")
        assert full.fit.count == 1 and full.fit.sample_cells[1] >= size[1] * 3 // 4
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is dashboard, what="back on the dashboard")
        assert dashboard.sample_step == steps[-2]  # the snapshot stepped to there is shown here


def test_text_modes_show_fewer_samples_larger_and_pixel_modes_all() -> None:
    tile = (28, 28)
    small = fit_samples(64, tile, 2, (34, 17), TEXT_CELL_PIXELS, None, real_pixels=False)
    assert 1 <= small.count <= 4 and readable(small.sample_cells)
    large = fit_samples(64, tile, 2, (158, 44), TEXT_CELL_PIXELS, None, real_pixels=False)
    assert large.count > 16 and readable(large.sample_cells)
    assert fit_samples(64, tile, 2, (158, 44), TEXT_CELL_PIXELS, 4, real_pixels=False).count == 4
    tiny = fit_samples(64, tile, 2, (8, 4), TEXT_CELL_PIXELS, None, real_pixels=False)
    assert tiny.count == 1 and tiny.cells[0] <= 8 and tiny.cells[1] <= 4  # one, as large as the pane allows
    pixels = fit_samples(64, tile, 2, (34, 17), (10, 20), None, real_pixels=True)
    assert pixels.count == 64 and max(pixels.cells[0] / 34, pixels.cells[1] / 17) > 0.95  # it fills the pane


def test_fewer_samples_are_spread_over_the_grid_keeping_both_ends() -> None:
    assert spread(8, 2) == [0, 7] and spread(8, 3) == [0, 4, 7] and spread(8, 1) == [0]
    assert spread(4, 9) == [0, 1, 2, 3]


async def test_a_grid_written_before_pngs_carried_their_layout(runs_dir: Path, image_run: Path, wait_until) -> None:
    """Older runs' PNGs say nothing of their layout: the config's sample_count and the layout rule do."""
    for png in (image_run / "samples").glob("*.png"):
        with Image.open(png) as picture:
            bare = picture.copy()
        bare.save(png)  # no text chunk
    config = json.loads((image_run / "config.json").read_text())
    (image_run / "config.json").write_text(json.dumps({**config, "sample_count": 16}))
    app = GanApp([runs_dir], watch=image_run, graphics="halfcell", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(160, 48)) as pilot:
        view = await _samples(pilot, wait_until)
        assert view.grid == GridLayout(16, 4, 28, 28) and view.fit.count < 16 and readable(view.fit.sample_cells)
