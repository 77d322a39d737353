"""The run directory contract: what the trainer writes and how every view reads it back."""

import json
import os
import socket
import time

import numpy as np
import pytest

from gantui.engine import control
from gantui.engine.events import METRIC_COLUMNS, MetricsLogged, RunEnded, RunStarted, SampleGrid
from gantui.engine.run.layout import RunLayout, new_run_path
from gantui.engine.run.reader import list_runs, resolve_run
from gantui.engine.run.state import effective_state
from gantui.engine.run.tails import EventsTail, MetricsTail, load_metrics
from gantui.engine.run.writer import RunDir, RunDirSink


def metrics(step: int, loss_d: float = 0.5) -> MetricsLogged:
    return MetricsLogged(step=step, epoch=0, time=step / 10, loss_d=loss_d, loss_g=0.7, d_real=0.6, d_fake=0.4,
                         grad_norm_d=1.0, grad_norm_g=2.0, samples_per_s=1000.0, mem_allocated=None,
                         mem_reserved=None, mem_peak=None, rss=123456)


def started(step: int = 0, resumed: bool = False) -> RunStarted:
    return RunStarted(config={"dataset": "mnist", "arch": "mlp", "loss": "bce"}, device="cpu",
                      device_name="CPU", step=step, total_steps=100, steps_per_epoch=50, params_g=1, params_d=2,
                      resumed=resumed)


@pytest.fixture
def run(tmp_path):
    path = new_run_path(tmp_path, "mnist", "mlp", "t", create=True)
    return path, RunDirSink(RunDir(path))


def test_run_folder_name_and_uniqueness(tmp_path):
    first = new_run_path(tmp_path, "mnist", "mlp", "x", create=True)
    second = new_run_path(tmp_path, "mnist", "mlp", "x", create=True)
    assert first != second
    assert first.name.endswith("-mnist-mlp-x") and len(first.name.split("-")[0]) == 8


def test_sink_writes_the_contract(run):
    path, sink = run
    sink.handle(started())
    for step in (10, 20):
        sink.handle(metrics(step))
    sink.handle(SampleGrid(20, np.zeros((8, 8, 1), dtype=np.uint8)))
    sink.handle(RunEnded("finished", 20, 0))
    config = json.loads((path / "config.json").read_text())
    status = json.loads((path / "status.json").read_text())
    assert config["arch"] == "mlp"
    assert status["state"] == "finished" and status["step"] == 20 and status["pid"] == os.getpid()
    assert status["host"] == socket.gethostname() and status["heartbeat"] > time.time() - 60
    lines = (path / "metrics.csv").read_text().splitlines()
    assert lines[0].split(",") == list(METRIC_COLUMNS)
    assert len(lines) == 3 and lines[1].startswith("10,")
    assert (path / "samples" / "step-20.png").is_file() and (path / "samples" / "latest.png").is_file()
    kinds = [json.loads(line)["event"] for line in (path / "events.jsonl").read_text().splitlines()]
    assert kinds == ["start", "end"]
    assert RunLayout(path).sample_steps() == [20] and RunLayout(path).sample_file().name == "latest.png"


def test_metrics_tail_reads_only_new_complete_rows(run):
    path, sink = run
    sink.handle(started())
    tail = MetricsTail(path / "metrics.csv")
    assert tail.poll() == {}
    sink.handle(metrics(10))
    first = tail.poll()
    assert list(first["step"]) == [10.0] and np.isnan(first["mem_allocated"][0])
    with open(path / "metrics.csv", "a") as handle:
        handle.write("20,0,2.0,0.5")  # a torn line: the writer is mid-row
    assert tail.poll() == {}
    with open(path / "metrics.csv", "a") as handle:
        handle.write(",0.7,0.6,0.4,1,2,1000,,,,5,\n")  # skipped_steps empty: no fp16
    second = tail.poll()
    assert list(second["step"]) == [20.0] and second["rss"][0] == 5.0
    assert list(load_metrics(path / "metrics.csv")["step"]) == [10, 20]


def test_full_load_drops_a_torn_last_line(run):
    path, sink = run
    sink.handle(started())
    sink.handle(metrics(10))
    with open(path / "metrics.csv", "a") as handle:
        handle.write("20,0,2.0,0.")
    frame = load_metrics(path / "metrics.csv")
    assert list(frame["step"]) == [10]


def test_resume_truncates_rows_after_the_checkpoint(run):
    path, sink = run
    sink.handle(started())
    for step in (10, 20, 30):
        sink.handle(metrics(step))
    tail = MetricsTail(path / "metrics.csv")
    tail.poll()
    sink.handle(started(step=20, resumed=True))
    assert list(load_metrics(path / "metrics.csv")["step"]) == [10, 20]
    again = tail.poll()
    assert tail.reset and list(again["step"]) == [10.0, 20.0]


def test_live_state_with_dead_pid_or_stale_heartbeat_is_lost():
    now = time.time()
    alive = {"state": "running", "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": now}
    assert effective_state(alive, now) == "running"
    assert effective_state({**alive, "heartbeat": now - 3600}, now) == "lost"
    assert effective_state({**alive, "pid": 2**22 + 12345}, now) == "lost"
    assert effective_state({**alive, "host": "elsewhere", "pid": 1}, now) == "running"
    assert effective_state({"state": "finished"}, now) == "finished"


def test_list_and_resolve_runs(tmp_path, run):
    path, sink = run
    sink.handle(started())
    (tmp_path / "not-a-run").mkdir()
    runs = list_runs([tmp_path, tmp_path / "missing"])
    assert [r.path for r in runs] == [path] and runs[0].arch == "mlp"
    assert resolve_run(path.name, [tmp_path]) == path
    assert resolve_run("mnist-mlp-t", [tmp_path]) == path
    assert resolve_run(str(path), []) == path
    assert resolve_run("nothing-like-it", [tmp_path]) is None


def test_events_tail(run):
    path, sink = run
    tail = EventsTail(path / "events.jsonl")
    sink.handle(started())
    assert [e["event"] for e in tail.poll()] == ["start"]
    assert tail.poll() == []


def test_control_file_reaches_a_run_control(tmp_path):
    steer = control.RunControl(tmp_path)
    control.request(tmp_path, "pause")
    steer._last_poll = 0.0
    steer.poll()
    assert steer.paused
    control.request(tmp_path, "stop")
    steer._last_poll = 0.0
    steer.poll()
    assert steer.stop_requested
    # a new process on the same folder ignores the old request
    assert not control.RunControl(tmp_path).stop_requested
    later = control.RunControl(tmp_path)
    later.poll()
    assert not later.stop_requested


def test_a_long_first_read_is_parsed_in_bulk_exactly_like_row_by_row(tmp_path, monkeypatch):
    """MetricsTail's pandas path (a first read of a long run) keeps the contract of the row-by-row one."""
    from gantui.engine.run import tails

    rest = "," * (len(METRIC_COLUMNS) - 5) + "1"  # empty cells, then a last one
    rows = [f"{i},0,{i / 10},{0.5 + i % 7 / 100},0.7{rest}" for i in range(1, 3001)]
    rows[10] = "11,0,1.1"  # a short row: dropped
    rows[20] = f"21,0,x,0.5,0.7{rest}"  # an odd cell: NaN
    rows[30] = ""  # a blank line: skipped
    text = ",".join(METRIC_COLUMNS) + "\n" + "\n".join(rows) + "\n3001,0,300.1,0.5"  # a torn last line
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    bulk = MetricsTail(path)
    fast = bulk.poll()
    monkeypatch.setattr(tails, "BULK_PARSE_ROWS", 10**9)
    slow = MetricsTail(path).poll()
    assert set(fast) == set(slow) == set(METRIC_COLUMNS)
    for name in METRIC_COLUMNS:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    assert fast["step"].size == 2998 and np.isnan(fast["time"][19])
    with open(path, "a") as handle:  # the torn line completed: the next poll reads just it
        handle.write(f",0.7{rest}\n")
    assert bulk.poll()["step"].tolist() == [3001.0]


def test_atomic_files_follow_the_umask(tmp_path):
    import os

    from gantui.engine.atomic import _umask, write_json_atomic

    previous = os.umask(0o002)
    _umask.cache_clear()
    try:
        write_json_atomic(tmp_path / "status.json", {"state": "running"})
        (tmp_path / "metrics.csv").write_text("step\n")
    finally:
        os.umask(previous)
        _umask.cache_clear()
    assert (tmp_path / "status.json").stat().st_mode & 0o777 == 0o664
    assert (tmp_path / "status.json").stat().st_mode & 0o777 == (tmp_path / "metrics.csv").stat().st_mode & 0o777
