"""A run of several processes on the dashboard: the title says how many, the Ranks pane lists them with the
slowest marked, the device pane shows every GPU; a run of one process shows none of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXED_TIME  # at import: tests/remote has a conftest module of its own
from waiting import screen_settled

from gantui.app.app import GanApp
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.widgets.device_pane import DevicePane
from gantui.app.widgets.ranks_pane import SLOWEST_MARK, RanksPane
from gantui.app.widgets.run_title import RunTitle


def _app(runs_dir: Path, run: Path, **options) -> GanApp:
    return GanApp([runs_dir], watch=run, graphics="ascii", poll_interval=0.05, probe_host=False, **options)


async def _ready(pilot, wait_until, ranks: int) -> DashboardScreen:
    def loaded() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, DashboardScreen) and screen.poll is not None and len(screen.poll.ranks) == ranks

    await wait_until(pilot, screen_settled(pilot, loaded), what=f"the run's {ranks} ranks read and drawn")
    return pilot.app.screen


def _pane_lines(screen: DashboardScreen, widget: type) -> list[str]:
    return [line.plain for line in screen.query_one(widget)._shown]


async def test_the_ranks_pane_lists_each_rank_and_marks_the_slowest(runs_dir: Path, ddp_run: Path,
                                                                     wait_until) -> None:
    async with _app(runs_dir, ddp_run).run_test(size=(160, 48)) as pilot:
        screen = await _ready(pilot, wait_until, 2)
        pane = screen.query_one(RanksPane)
        assert pane.display and pane.region.height > 0
        lines = _pane_lines(screen, RanksPane)
        assert lines[0].split() == ["rank", "host", "device", "samples/s", "memory", "beat"]
        assert lines[1].split()[:5] == ["0", "fixture-host", "cpu", "1,312", "512.0"]
        assert lines[2].startswith(SLOWEST_MARK) and lines[2].split()[1:5] == ["1", "fixture-host", "cpu", "968"]
        assert not lines[1].startswith(SLOWEST_MARK)
        assert pane.border_subtitle == "slowest: rank 1"
        slow_style = str(pane._shown[2].spans[0].style) if pane._shown[2].spans else ""
        assert "bold" in slow_style  # the straggler's row stands out in colour as well as by its mark
        title = screen.query_one(RunTitle).render().plain
        assert "─ 2 processes · cpu (CPU (2 cores))" in title
        # a newer row in which rank 0 falls behind moves the mark
        with open(ddp_run / "ranks.csv", "a") as handle:
            handle.write("610,0,fixture-host,cpu,700.0,,,536870912,1767225631.0\n")
        await wait_until(pilot, lambda: _pane_lines(screen, RanksPane)[1].startswith(SLOWEST_MARK),
                         what="rank 0 marked the slowest")


async def test_a_single_process_run_has_no_ranks_pane(runs_dir: Path, image_run: Path, wait_until) -> None:
    async with _app(runs_dir, image_run).run_test(size=(160, 48)) as pilot:
        screen = await _ready(pilot, wait_until, 0)
        assert not screen.query_one(RanksPane).display
        title = screen.query_one(RunTitle).render().plain
        assert "process" not in title and "─ on cpu (CPU (2 cores))" in title


async def test_four_gpus_on_two_nodes(runs_dir: Path, cuda_ddp_run: Path, wait_until) -> None:
    async with _app(runs_dir, cuda_ddp_run).run_test(size=(160, 48)) as pilot:
        screen = await _ready(pilot, wait_until, 4)
        title = screen.query_one(RunTitle).render().plain
        assert "4 processes on 2 nodes · cuda (NVIDIA H100 80GB HBM3)" in title
        ranks = _pane_lines(screen, RanksPane)
        assert [line.split()[1] for line in ranks[1:] if line.startswith(SLOWEST_MARK)] == ["2"]
        device = "\n".join(_pane_lines(screen, DevicePane))
        for label in ("node-a:0", "node-a:1", "node-b:0", "node-b:1"):
            assert label in device
        assert "2.2 GiB / 79.6 GiB" in device  # rank 3's allocation against the GPU's memory


async def test_two_gpus_of_one_host_each_get_a_device_line(runs_dir: Path, cuda_ddp_run: Path,
                                                            wait_until) -> None:
    from distributed_run import make_distributed

    make_distributed(cuda_ddp_run, [("node-a", "cuda:0"), ("node-a", "cuda:1")], [100.0, 100.0], cuda_memory=True)
    async with _app(runs_dir, cuda_ddp_run).run_test(size=(160, 48)) as pilot:
        screen = await _ready(pilot, wait_until, 2)
        device = _pane_lines(screen, DevicePane)
        assert [line.split()[0] for line in device if line.startswith("gpu")] == ["gpu:0", "gpu:1"]
        assert not any(line.startswith(SLOWEST_MARK) for line in _pane_lines(screen, RanksPane))  # equally fast
        assert "2 processes · cuda" in screen.query_one(RunTitle).render().plain


async def test_many_ranks_in_the_compact_layout_keep_the_slowest(runs_dir: Path, image_run: Path,
                                                                  wait_until) -> None:
    from distributed_run import make_distributed

    speeds = [1000.0 + rank for rank in range(8)]
    speeds[6] = 10.0
    make_distributed(image_run, [("fixture-host", "cpu")] * 8, speeds)
    async with _app(runs_dir, image_run).run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot, wait_until, 8)
        assert screen.has_class("compact")
        lines = _pane_lines(screen, RanksPane)
        assert lines[-1].strip() == "+5 more ranks"
        assert lines[-2].startswith(SLOWEST_MARK) and lines[-2].split()[1] == "6"
        assert "8 processes" in screen.query_one(RunTitle).render().plain
        assert screen.query_one("#samples").region.height >= 4  # the samples keep room


async def test_the_banner_names_the_failed_rank(runs_dir: Path, image_run: Path, wait_until) -> None:
    from distributed_run import make_distributed

    make_distributed(image_run, [("fixture-host", "cpu")] * 2, [10.0, 11.0], failed_rank=1,
                     message="RuntimeError: boom at step 30")
    assert json.loads((image_run / "status.json").read_text())["failed_rank"] == 1
    async with _app(runs_dir, image_run).run_test(size=(100, 30)) as pilot:
        screen = await _ready(pilot, wait_until, 2)
        await wait_until(pilot, lambda: "rank 1: RuntimeError: boom" in str(screen.query_one("#banner").render()),
                         what="the banner naming rank 1")


# ---- the runs list, compare and `gantui runs` ------------------------------------------------------------
async def test_the_runs_list_and_compare_show_the_world_size(runs_dir: Path, ddp_run: Path, pattern_run: Path,
                                                             wait_until) -> None:
    from textual.widgets import DataTable

    from gantui.app.screens.compare import CompareScreen
    from gantui.app.screens.runs import RunsScreen

    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False, clock=lambda: FIXED_TIME + 3600)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and len(app.screen.rows) == 2,
                         what="both runs listed")
        table = app.screen.query_one("#runs-table", DataTable)
        assert str(table.get_cell(str(ddp_run), "device")) == "cpu ×2"
        assert str(table.get_cell(str(pattern_run), "device")) == "cpu"  # one process: as before
        assert {row.name: row.world_size for row in app.screen.rows} == {ddp_run.name: 2, pattern_run.name: 1}
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False, compare=[ddp_run, pattern_run],
                 clock=lambda: FIXED_TIME + 3600)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.loads_seen > 0
                         and app.screen.query_one(DataTable).row_count > 0, what="compare's table filled")
        table = app.screen.query_one(DataTable)
        assert [str(table.get_cell("device", key)) for key in ("0", "1")] == ["cpu ×2", "cpu"]
        assert "device" in app.screen.differing()


def test_gantui_runs_gives_the_world_size(runs_dir: Path, ddp_run: Path, pattern_run: Path, capsys) -> None:
    from gantui.cli import main

    with pytest.raises(SystemExit, match="0"):
        main(["runs", "--json", "--runs-dir", str(runs_dir)])
    listed = {row["name"]: (row["world_size"], row["nodes"]) for row in json.loads(capsys.readouterr().out)}
    assert listed == {ddp_run.name: (2, 1), pattern_run.name: (1, 1)}
    with pytest.raises(SystemExit, match="0"):
        main(["runs", "--runs-dir", str(runs_dir)])
    table = capsys.readouterr().out
    assert "processes" in table
    ddp_line = next(line for line in table.splitlines() if "mnist-mlp" in line)
    assert " 2 " in ddp_line
