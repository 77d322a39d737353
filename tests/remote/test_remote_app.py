"""The app on remote runs over the loopback sshd: runs list, live dashboard, a dropped connection, pause and
stop, and compare of a local and a remote run. No screen is told it is remote: the places are."""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
from app.conftest import EVAL_RUN, MNIST_RUN, PATTERN_RUN, build_image_run, build_pattern_run
from app.conftest import _press as press
from waiting import block_until, wait_until

from gantui.app.app import GanApp
from gantui.app.screens.compare import CompareScreen
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.runs import RunsScreen
from gantui.engine.config import resolve_config
from gantui.engine.places import open_place, place_of
from gantui.engine.run.reader import read_json
from gantui.engine.spawn import spawn_train


async def test_the_runs_list_shows_remote_runs_beside_local_ones(box, places_file, tmp_path: Path) -> None:
    remote, local = tmp_path / "far", tmp_path / "near"
    build_image_run(remote / MNIST_RUN)
    build_pattern_run(local / PATTERN_RUN)
    app = GanApp([local, f"box:{remote}", "nowhere:/tmp/runs"], graphics="ascii", probe_host=False)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_until(pilot, lambda: len(screen.rows) == 2 and len(screen.place_lines) == 2,
                         what="both runs and a line per remote place")
        hosts = {row.name: row.host for row in screen.rows}
        assert hosts == {MNIST_RUN: "box", PATTERN_RUN: ""}
        far, nowhere = screen.place_lines
        assert far.startswith(f"box:{remote}: ") and "cores" in far or "GiB" in far, far
        assert nowhere.startswith("nowhere:/tmp/runs: ssh nowhere: connection refused"), nowhere
        await press(pilot, "slash", *"box", "enter")  # filterable by host
        await wait_until(pilot, lambda: [row.name for row in screen.shown] == [MNIST_RUN], what="the filter")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train_on_box(remote: Path, steps: int = 1_000_000):
    config = resolve_config("pattern1010", "pattern-mlp", steps=steps, log_every=20, sample_every=2000,
                            runs_dir=str(remote), device="cpu")
    return spawn_train(config, remote)


def _kill_the_session(remote: Path) -> int:
    """Kill the sshd process serving the agent of `remote` (the agent's parent): the connection drops."""
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "agent" in command and "--serve" in command and str(remote) in command:
            session = process.parent()
            while session is not None and "sshd" not in session.name():
                session = session.parent()
            assert session is not None, "no sshd above the agent"
            os.kill(session.pid, signal.SIGKILL)
            return session.pid
    raise AssertionError("no agent serving the remote place")


async def test_a_live_remote_run_survives_a_dropped_connection_then_pauses_and_stops(
        box, places_file, tmp_path: Path) -> None:
    remote = tmp_path / "far"
    spawned = _train_on_box(remote)
    try:
        place = open_place(f"box:{remote}")
        mirror = block_until(lambda: place.run_folders(), what="the remote run folder")[0]
        app = GanApp([tmp_path / "near"], watch=mirror, graphics="ascii", poll_interval=0.1, probe_host=False)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, DashboardScreen) and place_of(mirror) is place
            await wait_until(pilot, lambda: screen.poll is not None and screen.poll.state == "running"
                             and screen.poll.metrics.count >= 3, what="the remote run training on the dashboard")
            from gantui.app.widgets.run_title import RunTitle

            assert str(screen.query_one(RunTitle).render()).startswith(f"gantui ─ box:{mirror.name} ─ running")
            link = place.link  # the dashboard found the same place by the run's path
            before, settings = link.connections, link.settings
            link.settings = replace(settings, options=(*settings.options, "-o", f"Port={_free_port()}"))  # host down
            _kill_the_session(remote)
            await wait_until(pilot, lambda: "connection refused" in (screen.poll.connection or ""),
                             what="the dashboard saying it is disconnected")
            banner = str(screen.query_one("#banner").render())
            assert banner.startswith("disconnected — retrying: ssh box: connection refused"), banner
            count = screen.poll.metrics.count
            link.settings = settings  # the host is back
            await wait_until(pilot, lambda: screen.poll.connection is None and screen.poll.metrics.count > count + 2,
                             what="rows again after reconnecting")
            assert link.connections >= before + 1
            await press(pilot, "p")
            await wait_until(pilot, lambda: screen.poll.state == "paused", what="a pause reaching the host")
            rows = (remote / mirror.name / "metrics.csv").read_bytes()
            await wait_until(pilot, lambda: (mirror / "metrics.csv").read_bytes() == rows, what="the mirror caught up")
            steps = [int(line.split(b",")[0]) for line in rows.splitlines()[1:]]
            await wait_until(pilot, lambda: screen.poll.metrics.count == len(steps), what="every row on the plot")
            shown = screen.poll.metrics.step_column()
            assert np.array_equal(shown, np.array(steps, dtype=float)), "rows lost or repeated"
            assert len(set(steps)) == len(steps) and steps == sorted(steps)
            await press(pilot, "s")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ChoiceScreen", what="the stop question")
            await press(pilot, "y")
            await wait_until(pilot, lambda: screen.poll.state == "stopped", what="the stop reaching the host")
        assert spawned.process.wait(60) == 0
        assert read_json(remote / mirror.name / "status.json")["state"] == "stopped"
    finally:
        if spawned.process.poll() is None:
            os.killpg(spawned.process.pid, signal.SIGKILL)


async def test_compare_a_local_and_a_remote_run(box, places_file, tmp_path: Path) -> None:
    remote, local = tmp_path / "far", tmp_path / "near"
    build_image_run(remote / MNIST_RUN)
    build_image_run(local / EVAL_RUN, evals=True)
    place = open_place(f"box:{remote}")
    mirror = place.run_folders()[0]
    app = GanApp([local], compare=[local / EVAL_RUN, mirror], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and len(app.screen.runs) == 2,
                         what="compare on both runs")
        screen = app.screen
        near, far = screen.runs
        assert far.path == mirror and far.column("loss_d")[2].size == near.column("loss_d")[2].size == 60
        assert far.sample_steps == near.sample_steps == (0, 200, 400, 600)
        await press(pilot, "comma")  # step back through the snapshots: the remote one fetched on demand
        await wait_until(pilot, lambda: (mirror / "samples" / "step-400.png").stat().st_size > 0,
                         what="the remote snapshot of step 400 fetched")
        settings = place.link.settings
        place.link.settings = replace(settings, options=(*settings.options, "-o", f"Port={_free_port()}"))
        _kill_the_session(remote)  # the host goes away: the remote pane says so, the local one goes on
        await wait_until(pilot, lambda: screen.problems[1] and "connection refused" in screen.problems[1],
                         what="compare noticing the host is gone")
        assert screen.problems[0] is None
        caption = str(screen.query_one("#compare-sample-1").caption)
        assert caption.startswith("disconnected — retrying"), caption
        assert len(screen.runs) == 2 and screen.runs[1].column("loss_d")[2].size == 60  # what it had, kept
        place.link.settings = settings
        await wait_until(pilot, lambda: screen.problems[1] is None, what="compare reconnecting")


async def test_the_launcher_starts_a_run_on_the_remote_place_by_keys(box, places_file, tmp_path: Path) -> None:
    from app.test_launcher_runs import _configure, _launch, _tab_to

    remote, local = tmp_path / "far", tmp_path / "near"
    remote.mkdir()
    app = GanApp([local, f"box:{remote}"], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "n")
        screen = await _launch(pilot, wait_until, "pattern1010")
        assert screen.arch == "pattern-mlp"
        await _configure(pilot, screen, "60", "5", "30")
        await _tab_to(pilot, screen, "place")
        await pilot.press("enter", "down", "enter")  # the second place: the remote one
        assert screen.place.host == "box"
        device = screen.query_one("#device")
        await wait_until(pilot, lambda: any(value == "cpu" for _, value in device._options), what="the host's devices")
        await wait_until(pilot, lambda: screen.preview is not None and screen.preview.place == f"box:{remote}",
                         what="the data checked and previewed on the host")
        assert screen.arch == "pattern-mlp" and screen.query_one("#length").value == "60", "the form kept"
        await press(pilot, "f5")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the remote run's dashboard")
        dashboard = app.screen
        assert place_of(dashboard.path).host == "box"
        await wait_until(pilot, lambda: dashboard.poll is not None and dashboard.poll.state == "finished",
                         timeout=120, what="the remote run to finish")
        assert dashboard.poll.metrics.count == 12
    (run,) = [child for child in remote.iterdir() if not child.name.startswith(".")]
    assert run.name == dashboard.path.name and read_json(run / "status.json")["state"] == "finished"
    assert read_json(run / "config.json")["runs_dir"] == str(remote)
    assert not list(local.glob("*")), "nothing started here"


async def test_the_explorer_generates_on_the_host_that_has_the_checkpoint(box, places_file, tmp_path: Path) -> None:
    from gantui.app.screens.explorer import ExplorerScreen
    from gantui.engine.explore import StripMaker
    from gantui.engine.prepare import prepare_run
    from gantui.engine.trainer import train

    remote = tmp_path / "far"
    config = resolve_config("mnist", "cgan", steps=4, batch_size=8, log_every=2, sample_every=4,
                            checkpoint_every=4, sample_count=16, device="cpu", runs_dir=str(remote))
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    app = GanApp([f"box:{remote}"], graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: isinstance(screen, RunsScreen) and bool(screen.rows), what="the runs list")
        mirror = screen.rows[0].path
        assert (mirror / "checkpoints" / "last.pt").stat().st_size == 0, "the checkpoint stays on the host"
        await press(pilot, "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExplorerScreen) and app.screen.renders >= 1,
                         what="strips made on the host")
        drawn = app.screen.drawn
        expected = StripMaker(prepared.path).make(0, 1, 8).pictures
        assert set(drawn) == set(expected) == {"interpolation", "arithmetic", "classes"}
        assert all(np.array_equal(drawn[name], expected[name]) for name in expected)


async def test_the_launcher_checks_and_previews_the_data_on_the_remote_host(
        box, places_file, tmp_path: Path, monkeypatch) -> None:
    """A data path only the host can read (relative to the agent's folder there) is ✗ here and ✓ on the host,
    and the preview is the host's pictures."""
    import json

    from app.test_launcher_runs import _tab_to
    from PIL import Image

    host_folder, here = tmp_path / "host-cwd", tmp_path / "laptop"
    for index, colour in enumerate([(200, 10, 10), (10, 200, 10), (10, 10, 200)]):
        (host_folder / "pics" / "all").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (20, 20), colour).save(host_folder / "pics" / "all" / f"{index}.png")
    here.mkdir()
    monkeypatch.chdir(here)  # "pics" is nothing here
    settings = json.loads(places_file.read_text())
    settings["remote_command"] = f"cd {host_folder} && {settings['remote_command']}"  # the agent's folder there
    places_file.write_text(json.dumps(settings))
    remote = tmp_path / "far"
    remote.mkdir()
    app = GanApp([here / "runs", f"box:{remote}"], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "n")
        screen = app.screen
        await wait_until(pilot, lambda: getattr(screen, "catalog", None) is not None, what="the catalog")
        await pilot.press("enter", *"imagefolder", "enter")
        await wait_until(pilot, lambda: screen.dataset == "imagefolder", what="imagefolder chosen")
        await _tab_to(pilot, screen, "data")
        await pilot.press(*"pics")
        reason = screen.query_one("#data-reason")
        await wait_until(pilot, lambda: str(reason.render()) == "✗ pics is not a folder", what="the local check")
        await _tab_to(pilot, screen, "place")
        await pilot.press("enter", "down", "enter")  # the remote place: the check goes to its agent
        assert screen.place.host == "box"
        await wait_until(pilot, lambda: str(reason.render()) == "✓ usable on box", what="the host's check")
        await wait_until(pilot, lambda: screen.preview is not None, what="the host's preview")
        preview = screen.preview
        assert preview.place == f"box:{remote}" and preview.error is None, preview.error
        assert preview.summary.startswith("3×64×64 · 3 samples"), preview.summary
        assert preview.picture is not None and preview.picture.dtype == np.uint8
        assert any(row.problem is None for row in preview.archs) and screen.arch is not None
        await _tab_to(pilot, screen, "place")
        await pilot.press("enter", "up", "enter")  # back here: checked here again
        await wait_until(pilot, lambda: str(reason.render()) == "✗ pics is not a folder", what="checked here again")
        assert screen.preview is None


async def test_the_full_screen_samples_fetch_an_earlier_remote_snapshot_in_a_worker(
        box, places_file, tmp_path: Path) -> None:
    """While the host takes its time sending a snapshot, the screen says so and keeps answering keys."""
    import threading

    from gantui.app.screens.samples import SamplesScreen

    remote = tmp_path / "far"
    build_image_run(remote / MNIST_RUN)
    place = open_place(f"box:{remote}")
    mirror = place.run_folders()[0]
    release, asked = threading.Event(), threading.Event()
    request = place.link.request

    def slow_request(op: str, **fields):
        if op == "picture":
            asked.set()
            release.wait(30)  # the host is slow: a UI thread waiting here would freeze the test too
        return request(op, **fields)

    place.link.request = slow_request
    timer = threading.Timer(30, release.set)  # never hang the suite, even when the screen waits after all
    timer.start()
    app = GanApp([tmp_path / "near"], watch=mirror, graphics="ascii", poll_interval=0.1, probe_host=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            dashboard = app.screen
            await wait_until(pilot, lambda: dashboard.poll is not None and dashboard.poll.sample_steps,
                             what="the remote run's snapshots")
            await press(pilot, "Z")
            await wait_until(pilot, lambda: isinstance(app.screen, SamplesScreen)
                             and bool(app.screen.query("#sample-message")), what="the full-screen samples, mounted")
            screen = app.screen
            message = screen.query_one("#sample-message")
            await press(pilot, "comma")  # step 400: only a placeholder in the mirror yet
            await wait_until(pilot, lambda: asked.is_set() and screen.sample_step == 400, what="the fetch asked")
            assert str(message.render()) == "fetching step 400 from box…"
            await press(pilot, "z")  # keys still work while the host is sending
            assert not release.is_set(), "the screen waited for the host"
            release.set()
            await wait_until(pilot, lambda: screen.query_one("SampleView").picture is not None,
                             what="the fetched snapshot drawn")
            assert (mirror / "samples" / "step-400.png").stat().st_size > 0
    finally:
        release.set()
        timer.cancel()


async def test_resume_of_a_remote_run_from_the_runs_list_runs_on_the_host(box, places_file, tmp_path: Path) -> None:
    from gantui.engine.prepare import prepare_run
    from gantui.engine.trainer import train

    remote, local = tmp_path / "far", tmp_path / "near"
    config = resolve_config("pattern1010", "pattern-mlp", steps=20, log_every=5, sample_every=20,
                            checkpoint_every=20, device="cpu", runs_dir=str(remote))
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    app = GanApp([local, f"box:{remote}"], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: isinstance(screen, RunsScreen) and len(screen.rows) == 1, what="the remote run")
        await press(pilot, "r")
        await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "resume-steps", what="the dialog")
        await press(pilot, "ctrl+a", "ctrl+k", *"40", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the resumed run's dashboard")
        dashboard = app.screen
        assert place_of(dashboard.path).host == "box" and dashboard.path.name == prepared.path.name
        await wait_until(pilot, lambda: dashboard.poll is not None and dashboard.poll.state == "finished"
                         and dashboard.poll.step == 40, timeout=120, what="the resumed run to finish on the host")
    status = read_json(prepared.path / "status.json")
    assert (status["state"], status["step"]) == ("finished", 40)
    assert not local.exists() or not list(local.iterdir()), "nothing started here"


async def test_the_launcher_says_when_the_host_cannot_check_the_data(box, places_file, tmp_path: Path) -> None:
    from app.test_launcher_runs import _tab_to

    app = GanApp([tmp_path / "near", "nowhere:/tmp/runs"], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "n")
        screen = app.screen
        await wait_until(pilot, lambda: getattr(screen, "catalog", None) is not None, what="the catalog")
        await wait_until(pilot, lambda: screen.preview is not None, what="the local preview")
        await _tab_to(pilot, screen, "place")
        await pilot.press("enter", "down", "enter")
        reason = screen.query_one("#data-reason")
        await wait_until(pilot, lambda: "connection refused" in str(reason.render()), what="the host's problem")
        assert str(reason.render()).startswith("✗ ssh nowhere: connection refused") and screen.preview is None
        await press(pilot, "f5")  # nothing starts: the data was not checked there
        assert isinstance(app.screen, type(screen))
