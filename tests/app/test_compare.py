"""Compare, driven by keys; its SVG snapshot and the runs list's; `gantui compare` argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXED_TIME
from textual.widgets import DataTable
from waiting import screen_settled, wait_until

from gantui.app.app import GanApp
from gantui.app.picture_fit import MIN_SAMPLE_CELLS
from gantui.app.screens.compare import METRICS, TABLE_ROWS, CompareScreen
from gantui.app.screens.runs import RunsScreen
from gantui.app.widgets.compare_plot import ComparePlot
from gantui.app.widgets.sample_view import SampleView
from gantui.cli import main


def _compare_app(runs_dir: Path, runs: list[Path]) -> GanApp:
    return GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False, compare=runs,
                  clock=lambda: FIXED_TIME + 3600)


async def _compare_ready(pilot) -> None:
    def loaded() -> bool:
        screen = pilot.app.screen
        return (isinstance(screen, CompareScreen) and screen.loads_seen > 0
                and screen.query_one(DataTable).row_count == len(TABLE_ROWS))

    await wait_until(pilot, screen_settled(pilot, loaded), what="compare's runs loaded and drawn")


async def _list_ready(pilot, marked: Path) -> None:
    """The list loaded, then `down` and `space`: the cursor on the older run, that run marked."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and len(pilot.app.screen.rows) == 2,
                     what="both runs listed")
    screen = pilot.app.screen
    await pilot.press("down", "space")
    await wait_until(pilot, screen_settled(pilot, lambda: screen.marked == {marked}),
                     what=f"{marked.name} marked and drawn")


async def test_compare_keys(runs_dir, image_run, pattern_run, press) -> None:
    app = _compare_app(runs_dir, [image_run, pattern_run])
    async with app.run_test(size=(140, 44)) as pilot:
        await _compare_ready(pilot)
        screen = pilot.app.screen
        plot = screen.query_one(ComparePlot)
        assert len(plot.curves) == 2 and plot.cells_drawn > 0
        assert {"dataset", "arch", "loss", "optimizer", "lr", "name", "sample interval", "params G", "step",
                "length"} <= set(screen.differing())
        table = screen.query_one(DataTable)
        for label in screen.differing():
            assert str(table.get_cell(label, "what")) == f"≠ {label}"
        assert str(table.get_cell("device", "what")) == "  device"  # both on the CPU: the same, unmarked
        await press(pilot, "m")
        await wait_until(pilot, lambda: plot.title == "loss G", what="loss G plotted")
        await press(pilot, "M", "M")
        await wait_until(pilot, lambda: METRICS[screen.metric][0] == METRICS[-1][0], what="the last metric")
        await press(pilot, "t")
        await wait_until(pilot, lambda: "wall time" in str(plot.border_subtitle), what="x by wall time")
        await press(pilot, "e")  # smoothing is the app's, shared with the dashboards
        await wait_until(pilot, lambda: app.ema == 0.9 and plot.view.ema == 0.9, what="EMA 0.9")
        steps = screen.all_sample_steps()
        await press(pilot, "comma")  # every grid one snapshot back, together
        await wait_until(pilot, lambda: screen.sample_step == steps[-2], what="one snapshot back")
        await press(pilot, "full_stop")
        await wait_until(pilot, lambda: screen.sample_step is None, what="following the latest again")


async def test_compare_zoom_and_inspect_by_keys(runs_dir, image_run, pattern_run, press) -> None:
    app = _compare_app(runs_dir, [image_run, pattern_run])
    async with app.run_test(size=(140, 44)) as pilot:
        await _compare_ready(pilot)
        screen = pilot.app.screen
        plot = screen.query_one(ComparePlot)
        screen.query_one(DataTable).focus()  # ←/→ reach the cursor even past a focused table
        await press(pilot, "i", "right")
        await wait_until(pilot, lambda: plot.view.cursor is not None and "│ 1 " in str(plot.border_subtitle)
                         and " 2 " in str(plot.border_subtitle), what="both runs read at the cursor")
        assert f"step {int(plot.view.cursor):,}" in str(plot.border_subtitle)
        await press(pilot, "plus")
        await wait_until(pilot, lambda: plot.view.span is not None and plot.shown_range() == plot.view.span,
                         what="zoomed in")
        await press(pilot, "t")  # seconds are not steps: the zoom and the cursor go
        await wait_until(pilot, lambda: plot.view.span is None and plot.view.cursor is None, what="unzoomed")


async def test_compare_says_when_the_terminal_is_too_small(runs_dir, image_run, pattern_run) -> None:
    from gantui.app.widgets.too_small import TooSmall

    async with _compare_app(runs_dir, [image_run, pattern_run]).run_test(size=(50, 14)) as pilot:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen), what="compare shown")
        too_small = pilot.app.screen.query_one(TooSmall)
        await wait_until(pilot, lambda: too_small.display, what="the too-small note")
        assert "needs at least 60×18; this terminal is 50×14" in str(too_small.render())
        assert not pilot.app.screen.query_one(ComparePlot).display


def test_compare_snapshot(snap_compare, runs_dir: Path, image_run: Path, pattern_run: Path) -> None:
    assert snap_compare(_compare_app(runs_dir, [image_run, pattern_run]), terminal_size=(140, 44),
                        run_before=_compare_ready)


def test_runs_list_snapshot(snap_compare, runs_dir: Path, image_run: Path, pattern_run: Path) -> None:
    app = GanApp([runs_dir], graphics="ascii", probe_host=False, clock=lambda: FIXED_TIME + 3600)
    assert snap_compare(app, terminal_size=(120, 20), run_before=lambda pilot: _list_ready(pilot, image_run))


@pytest.mark.parametrize("refs, words", [
    (["only-one"], ["2 to 8", "got 1"]),
    ([f"run{i}" for i in range(9)], ["2 to 8", "got 9"]),
    (["fixture", "no-such-run"], ["no run folder matches", "no-such-run"]),
    (["fixture", "fixture"], ["the same run twice"]),
])
def test_compare_arguments(runs_dir, image_run, capsys, refs, words) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", *refs, "--runs-dir", str(runs_dir)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and all(word in error for word in words), error


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda size: f"{size[0]}x{size[1]}")
async def test_compare_grids_show_readable_samples(runs_dir, image_run, eval_run, size) -> None:
    """Two image runs side by side in half-cell blocks: each grid shows as many samples as stay readable
    (at 80×24 the grids' row is a few lines high: there one sample, as large as it goes)."""
    app = GanApp([runs_dir], graphics="halfcell", poll_interval=0.05, probe_host=False, compare=[image_run, eval_run])
    async with app.run_test(size=size) as pilot:
        await _compare_ready(pilot)
        views = [pilot.app.screen.query_one(f"#compare-sample-{index}", SampleView) for index in range(2)]
        await wait_until(pilot, lambda: all(view.fit is not None for view in views), what="both grids drawn")
        for view in views:
            cells = view.fit.sample_cells
            if size == (80, 24):
                assert view.fit.count == 1
            else:
                assert 1 < view.fit.count < 16 and cells[0] >= MIN_SAMPLE_CELLS[0] and cells[1] >= MIN_SAMPLE_CELLS[1]


def _shifted_copies(image_run: Path, count: int) -> list[Path]:
    """`count` copies of the run, copy i with loss D raised by 2·i: eight curves in bands of their own."""
    import csv
    import shutil

    copies = []
    for index in range(count):
        copy = Path(shutil.copytree(image_run, image_run.with_name(f"{image_run.name}-{index}")))
        metrics = copy / "metrics.csv"
        with metrics.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            row["loss_d"] = str(float(row["loss_d"]) + 2 * index)
        with metrics.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        copies.append(copy)
    return copies


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_eight_runs_each_have_their_own_curve_and_legend(runs_dir, image_run, monkeypatch, no_color) -> None:
    """Under NO_COLOR eight greys are too close: each run also has its own marker, drawn and in its legend."""
    import re

    from textual.color import Color
    from textual_plotext.plot import Plot

    from gantui.app.chart import draw_chart
    from gantui.app.palette import BRAILLE_LEGEND, markup

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    async with _compare_app(runs_dir, _shifted_copies(image_run, 8)).run_test(size=(160, 50)) as pilot:
        await _compare_ready(pilot)
        plot = pilot.app.screen.query_one(ComparePlot)
        await wait_until(pilot, lambda: plot.cells_drawn > 0, what="the plot drawn")
        curves = plot._chart.layers[-8:]
        legend = str(plot.border_title)
        built = Plot()
        draw_chart(built, plot._chart)
        built.plotsize(plot.size.width, plot.size.height)
        built._set_size(plot.size.width, plot.size.height)
        text = re.sub(r"\x1b\[[0-9;]*m", "", built.build())
        braille = [layer for layer in curves if all("\u2800" <= m <= "\u28ff" for m in layer.markers)]
        if not no_color:  # colours tell them apart: every curve braille, eight hues
            assert len(braille) == 8 and len({layer.colour for layer in curves}) == 8
            assert all(f"[{markup(layer.colour)}]{BRAILLE_LEGEND}[/" in legend for layer in curves), legend
            return
        assert len(braille) == 1  # the first run keeps the braille dots' resolution
        markers = [layer.markers[0] for layer in curves[1:]]
        assert len(set(markers)) == 7 and all(set(layer.markers) == {layer.markers[0]} for layer in curves[1:])
        for index, layer in enumerate(curves):  # the legend shows each curve's marker in the curve's grey
            sample = BRAILLE_LEGEND if index == 0 else layer.markers[0]
            assert f"[{markup(layer.colour)}]{sample}[/{markup(layer.colour)}] {index + 1} " in legend, legend
        assert all(marker in text for marker in markers)  # and every marker is on screen
        table = pilot.app.screen.query_one(DataTable)  # the table's run headers carry the markers too
        headers = [str(column.label) for column in table.columns.values()][1:]
        assert headers[0].startswith("1 ")
        assert all(header.startswith(f"{marker} ") for header, marker in zip(headers[1:], markers, strict=True))
        background = Color.parse(pilot.app.theme_variables["surface"]).brightness
        assert min(abs(Color(*layer.colour).brightness - background) for layer in curves) > 0.15


async def test_a_theme_change_recolours_the_table_headers(runs_dir, image_run, pattern_run, press) -> None:
    """Chosen by keys in the command palette (ctrl+p, "theme"), a light theme recolours the plot's legend and
    the configuration table's run headers alike, as drawn, not only as stored."""
    from gantui.app.palette import ON_DARK, ON_LIGHT, markup

    def header_colours(table: DataTable) -> set[tuple[int, int, int]]:
        return {tuple(segment.style.color.triplet) for segment in table.render_line(0)
                if segment.text.strip() and segment.style and segment.style.color
                and segment.style.color.triplet and segment.style.bold}

    def first_offer(pilot) -> str:
        """The command palette's first option, or '' while it has none."""
        lists = pilot.app.screen.query("CommandList")
        return str(lists.first().get_option_at_index(0).prompt) if lists and lists.first().option_count else ""

    async with _compare_app(runs_dir, [image_run, pattern_run]).run_test(size=(140, 44)) as pilot:
        await _compare_ready(pilot)
        table = pilot.app.screen.query_one(DataTable)
        plot = pilot.app.screen.query_one(ComparePlot)
        assert header_colours(table) == {ON_DARK[0], ON_DARK[1]}
        await press(pilot, "ctrl+p")
        await pilot.press(*"theme")
        await wait_until(pilot, lambda: "theme" in first_offer(pilot).lower(), what="the theme command offered")
        await press(pilot, "enter")
        await pilot.press(*"textual-light")
        await wait_until(pilot, lambda: "textual-light" in first_offer(pilot), what="the light theme offered")
        await press(pilot, "enter")
        await wait_until(pilot, lambda: pilot.app.theme == "textual-light", what="the light theme")
        await wait_until(pilot, lambda: header_colours(table) == {ON_LIGHT[0], ON_LIGHT[1]},
                         what="the headers in the light palette")
        assert f"[{markup(ON_LIGHT[0])}]━" in str(plot.border_title)
