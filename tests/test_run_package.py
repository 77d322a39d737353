"""The run package: one layout, one set of states, one way to name a run folder, one follower."""

import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from gantui.engine.events import MetricsLogged, Notice, RunEnded, RunStarted, SampleGrid, StateChanged
from gantui.engine.run.follower import FollowedRun, RunFollower
from gantui.engine.run.history import AllRows, LatestRows, MetricsHistory
from gantui.engine.run.layout import RunLayout, child_log, new_run_path
from gantui.engine.run.reader import read_run
from gantui.engine.run.state import FINAL_STATES, LIVE_STATES, RunState, effective_state
from gantui.engine.run.writer import RunDir, RunDirSink


def metrics(step: int) -> MetricsLogged:
    return MetricsLogged(step=step, epoch=0, time=step / 10, loss_d=0.5, loss_g=0.7, d_real=0.6, d_fake=0.4,
                         grad_norm_d=1.0, grad_norm_g=2.0, samples_per_s=1000.0, mem_allocated=None,
                         mem_reserved=None, mem_peak=None, rss=1)


def started(step: int = 0, resumed: bool = False) -> RunStarted:
    return RunStarted(config={"dataset": "mnist", "arch": "mlp", "loss": "bce"}, device="cpu", device_name="CPU",
                      step=step, total_steps=100, steps_per_epoch=50, params_g=1, params_d=2, resumed=resumed)


@pytest.fixture
def sink(tmp_path: Path) -> RunDirSink:
    return RunDirSink(RunDir(tmp_path / "run"))


# ---- states ---------------------------------------------------------------------------------------------------
def test_states_are_plain_strings_in_status_json(sink: RunDirSink) -> None:
    sink.handle(started())
    sink.handle(StateChanged(RunState.PAUSED, 3))
    status = json.loads(sink.run.layout.status.read_text())
    assert status["state"] == "paused" and type(status["state"]) is str
    assert f"{RunState.PAUSED}" == str(RunState.PAUSED) == "paused" and RunState.PAUSED == "paused"
    assert json.loads(sink.run.layout.events.read_text().splitlines()[-1])["event"] == "paused"


def test_live_and_final_sets() -> None:
    assert LIVE_STATES == {"starting", "running", "paused"}
    assert FINAL_STATES == {"finished", "stopped", "failed", "diverged"}
    assert not LIVE_STATES & FINAL_STATES
    assert set(RunState) - LIVE_STATES - FINAL_STATES == {RunState.LOST, RunState.UNKNOWN, RunState.INCOMPLETE}


def test_a_state_nobody_knows_reads_as_unknown_and_a_silent_live_one_as_lost() -> None:
    assert RunState.of("exploded") is RunState.UNKNOWN and RunState.of("finished") is RunState.FINISHED
    assert effective_state({}) is RunState.UNKNOWN and effective_state({"state": 3}) is RunState.UNKNOWN
    now = time.time()
    alive = {"state": "paused", "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": now}
    assert effective_state(alive, now) is RunState.PAUSED
    assert effective_state({**alive, "heartbeat": now - 61}, now) is RunState.LOST


# ---- layout and naming ----------------------------------------------------------------------------------------
def test_layout_names_every_file_of_the_contract(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    named = {
        layout.config: "config.json", layout.status: "status.json", layout.metrics: "metrics.csv",
        layout.evals: "eval.csv", layout.events: "events.jsonl", layout.control: "control.json",
        layout.generator: "generator.pt", layout.last_checkpoint: "checkpoints/last.pt",
        layout.best_checkpoint: "checkpoints/best.pt", layout.sample_png(20): "samples/step-20.png",
        layout.sample_json(20): "samples/step-20.json", layout.latest_png: "samples/latest.png",
        layout.latest_json: "samples/latest.json", layout.exported_grid(4): "exports/samples-step-4.png",
    }
    for path, relative in named.items():
        assert path == tmp_path / relative
    assert child_log(tmp_path, "r") == tmp_path / ".logs" / "r.log"
    assert child_log(tmp_path, "r", resumed=True) == tmp_path / ".logs" / "r.resume.log"


def test_sample_steps_and_files(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    assert layout.sample_steps() == [] and layout.sample_file() is None
    layout.samples.mkdir()
    for name in ("step-200.png", "step-30.json", "step-x.png", "step-7.txt", "latest.json"):
        (layout.samples / name).write_text("")
    assert layout.sample_steps() == [30, 200]
    assert layout.sample_file() == layout.latest_json and layout.sample_file(30) == layout.sample_json(30)
    assert layout.sample_file(200) == layout.sample_png(200) and layout.sample_file(5) is None
    (layout.samples / "latest.png").write_text("")
    assert layout.sample_file() == layout.latest_png  # a picture first


def test_new_run_path_names_or_makes_a_fresh_folder(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    named = new_run_path(runs, "mnist", "mlp", "x")
    assert not runs.exists() and named.name.endswith("-mnist-mlp-x")  # only named: nothing written
    assert len(named.name.split("-")[0]) == 8 and new_run_path(runs, "mnist", "mlp").name.endswith("-mnist-mlp")
    made = new_run_path(runs, "mnist", "mlp", "x", create=True)
    again = new_run_path(runs, "mnist", "mlp", "x", create=True)
    assert made.is_dir() and again.is_dir() and made != again


def test_names_taken_in_the_same_second_get_a_suffix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gantui.engine.run import layout

    monkeypatch.setattr(layout, "_run_name", lambda *parts: "20260101-000000-mnist-mlp")
    made = [new_run_path(tmp_path, "mnist", "mlp", create=True).name for _ in range(3)]
    assert made == ["20260101-000000-mnist-mlp", "20260101-000000-mnist-mlp.1", "20260101-000000-mnist-mlp.2"]
    assert new_run_path(tmp_path, "mnist", "mlp").name == "20260101-000000-mnist-mlp.3"  # the same rule, unmade
    assert not (tmp_path / "20260101-000000-mnist-mlp.3").exists()


# ---- the follower ---------------------------------------------------------------------------------------------
def test_follower_returns_the_same_record_until_something_changes(sink: RunDirSink) -> None:
    follower = RunFollower(sink.run.path, metrics=AllRows(), events=10, samples=True)
    first = follower.poll()
    assert first.state is RunState.STARTING and first.config == {} and first.metrics == {}
    assert follower.poll() is first
    sink.handle(started())
    sink.handle(metrics(10))
    second = follower.poll()
    assert second is not first and second.version == first.version + 1
    assert second.state is RunState.RUNNING and second.config["arch"] == "mlp" and second.step == 10
    assert second.metrics["step"].tolist() == [10.0] and [e["event"] for e in second.events] == ["start"]
    assert follower.poll() is second
    sink.handle(SampleGrid(10, np.zeros((4, 4, 1), dtype=np.uint8)))
    third = follower.poll()
    assert third.sample_steps == (10,) and third.samples_stamp > 0 and third.metrics is second.metrics


def test_whole_history_keeps_every_row_and_starts_over_on_resume(sink: RunDirSink) -> None:
    follower = RunFollower(sink.run.path, metrics=AllRows())
    sink.handle(started())
    for step in range(10, 60, 10):
        sink.handle(metrics(step))
        follower.poll()
    assert follower.poll().metrics["step"].tolist() == [10, 20, 30, 40, 50]
    sink.handle(started(step=20, resumed=True))  # metrics.csv cut back to step 20
    sink.handle(metrics(30))
    assert follower.poll().metrics["step"].tolist() == [10, 20, 30]


def test_bounded_history_and_events_stay_within_their_bounds(sink: RunDirSink) -> None:
    follower = RunFollower(sink.run.path, metrics=MetricsHistory(capacity=16), evals=LatestRows(2), events=3)
    sink.handle(started())
    for step in range(1, 101):
        sink.handle(metrics(step))
        sink.handle(Notice("info", f"note {step}", step))
    for step in (10, 20, 30):
        sink.run.append_eval({"step": step, "fid": 100 - step})
    run = follower.poll()
    assert run.metrics.count <= 16 and run.metrics.latest["step"] == 100
    assert [event["message"] for event in run.events] == ["note 98", "note 99", "note 100"]
    assert [row["step"] for row in run.evals] == [20, 30] and run.evals[-1]["fid"] == 70


def test_a_follower_reads_only_what_it_is_asked_to(sink: RunDirSink) -> None:
    sink.handle(started())
    sink.handle(metrics(10))
    sink.handle(SampleGrid(10, np.zeros((4, 4, 1), dtype=np.uint8)))
    run = RunFollower(sink.run.path, evals=AllRows(), no_status=RunState.UNKNOWN).poll()
    assert run.metrics is None and run.events == () and run.sample_steps == () and run.evals == {}
    assert isinstance(run, FollowedRun) and run.state is RunState.RUNNING


def test_the_state_without_status_json_and_a_status_caught_mid_replace(sink: RunDirSink) -> None:
    layout = sink.run.layout
    layout.config.write_text(json.dumps({"dataset": "mnist"}))
    assert RunFollower(layout.path, no_status=RunState.UNKNOWN).poll().state is RunState.UNKNOWN
    assert read_run(layout.path).state is RunState.UNKNOWN  # as the CLI lists it
    follower = RunFollower(layout.path)
    assert follower.poll().state is RunState.STARTING  # as the dashboard, about to see it start
    sink.handle(RunEnded(RunState.FINISHED, 5, 0))
    done = follower.poll()
    layout.status.write_text('{"state": "runn')  # torn: the last good status stands
    assert follower.poll() is done and done.state is RunState.FINISHED


def test_a_rewritten_config_is_read_again(sink: RunDirSink) -> None:
    follower = RunFollower(sink.run.path)
    sink.handle(started())
    assert follower.poll().config["loss"] == "bce"
    config = sink.run.layout.config
    config.write_text(json.dumps({"dataset": "mnist", "arch": "mlp", "loss": "hinge"}))
    os.utime(config, (time.time() + 5, time.time() + 5))  # a later mtime even on coarse clocks
    assert follower.poll().config["loss"] == "hinge"


@pytest.mark.parametrize("text", ["[1,2]", '{"id": "abc", "command": "stop"}', '{"command": "explode", "id": 5}',
                                  "{not json", '"stop"', '{"command": "stop", "id": true}'])
def test_a_malformed_control_file_is_ignored_with_one_warning(tmp_path, text):
    from gantui.engine.control import RunControl

    control = RunControl(tmp_path)
    RunLayout(tmp_path).control.write_text(text)
    control.poll()
    control._last_poll = 0.0
    control.poll()
    assert not control.stop_requested and not control.paused
    assert len(control.warnings) == 1 and "control.json" in control.warnings[0]


def test_a_good_control_request_after_a_bad_one_is_followed(tmp_path):
    from gantui.engine.control import RunControl, request

    control = RunControl(tmp_path)
    RunLayout(tmp_path).control.write_text("[1,2]")
    control.poll()
    request(tmp_path, "pause")
    control._last_poll = 0.0
    control.poll()
    assert control.paused


def test_a_folder_its_process_never_set_up_lists_as_incomplete(tmp_path):
    from gantui.engine.run.reader import list_runs

    empty = tmp_path / "20260101-000000-mnist-mlp"
    empty.mkdir()
    (tmp_path / "my-notes").mkdir()  # not a run: no run files and no run's name
    listed = list_runs([tmp_path])
    assert [run.name for run in listed] == [empty.name]
    assert listed[0].state == RunState.UNKNOWN  # just made: its process may still be starting
    old = time.time() - 3600
    os.utime(empty, (old, old))
    assert list_runs([tmp_path])[0].state == RunState.INCOMPLETE
    follower = RunFollower(empty)
    assert follower.poll().state == RunState.INCOMPLETE


def test_taking_a_runs_lock_clears_what_a_killed_writer_left(tmp_path):
    from gantui.engine.errors import UserError
    from gantui.engine.run.lock import RunLock

    layout = RunLayout(tmp_path)
    layout.checkpoints.mkdir()
    layout.samples.mkdir()
    leftovers = [tmp_path / ".status.json.abc.tmp", layout.checkpoints / ".last.pt.x1.tmp",
                 layout.samples / ".step-400.png.q.tmp"]
    for path in leftovers:
        path.write_bytes(b"half")
    (layout.samples / "step-400.png").write_bytes(b"kept")
    lock = RunLock(tmp_path).acquire()
    assert not any(path.exists() for path in leftovers) and (layout.samples / "step-400.png").exists()
    with pytest.raises(UserError, match=f"being trained by pid {os.getpid()}"):
        RunLock(tmp_path).acquire()  # a second writer, even in this process
    lock.release()
    RunLock(tmp_path).acquire().release()
