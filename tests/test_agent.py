"""`gantui agent` without ssh: its protocol on pipes, and what it refuses to serve."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gantui.engine.remote.agent import Agent, serve
from gantui.engine.remote.place import RemoteSpec, parse_place, split_run
from gantui.engine.remote.protocol import PROTOCOL_VERSION, unpack_bytes
from gantui.engine.remote.ssh import ssh_problem


@pytest.mark.parametrize(("text", "expected"), [
    ("gpu1:runs", RemoteSpec("gpu1", "runs")),
    ("me@gpu2:/data/runs", RemoteSpec("me@gpu2", "/data/runs")),
    ("gpu1:", RemoteSpec("gpu1", ".")),
    ("./runs", Path("runs")),
    ("/abs/runs", Path("/abs/runs")),
    ("./a:b", Path("a:b")),  # a slash before the colon: local, as scp reads it
    ("runs", Path("runs")),
])
def test_places_are_read_as_scp_reads_them(text: str, expected) -> None:
    assert parse_place(text) == expected


def test_a_run_argument_names_its_place_and_run() -> None:
    assert split_run("gpu1:runs/20260101-000000-mnist-mlp") == (RemoteSpec("gpu1", "runs"), "20260101-000000-mnist-mlp")
    assert split_run("gpu1:RUN") == (RemoteSpec("gpu1", "."), "RUN")


def _run(folder: Path, text: str = "step,loss_d\n1,0.5\n") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "mlp"}))
    (folder / "metrics.csv").write_text(text)
    return folder


def test_the_agent_serves_only_runs_under_its_places(tmp_path: Path) -> None:
    served, other = tmp_path / "served", tmp_path / "other"
    run = _run(served / "20260101-000000-mnist-mlp")
    outside = _run(other / "20260101-000000-mnist-mlp")
    (served / "20260101-000001-link").symlink_to(outside)  # a link out of the place is outside it
    agent = Agent([str(served)])
    ok = agent.answer({"id": 1, "op": "sync", "run": str(run), "files": ["metrics.csv"]})
    assert ok["ok"] and ok["files"]["metrics.csv"]["text"] == "step,loss_d\n1,0.5\n"
    for path in (outside, served / ".." / "other" / outside.name, served / "20260101-000001-link", served, "/etc"):
        refused = agent.answer({"id": 2, "op": "sync", "run": str(path)})
        assert refused == {"id": 2, "ok": False, "error": f"{path} is not a run under the places this agent serves"}
    refused = agent.answer({"id": 3, "op": "sync", "run": str(run),
                            "files": ["../../../etc/passwd", "checkpoints/last.pt"]})
    assert refused["ok"] and refused["files"] == {}, "only the run's known files are sent"
    assert not agent.answer({"id": 4, "op": "scan", "place": str(other)})["ok"]
    assert agent.answer({"id": 5, "op": "rm -rf"})["error"] == "unknown operation 'rm -rf'"


def test_tails_send_only_new_complete_lines(tmp_path: Path) -> None:
    run = _run(tmp_path / "runs" / "20260101-000000-mnist-mlp", "step,loss_d\n1,0.5\n2,0.4")
    agent = Agent([str(tmp_path / "runs")])
    first = agent.answer({"id": 1, "op": "sync", "run": str(run), "files": ["metrics.csv"]})["files"]["metrics.csv"]
    assert first == {"reset": False, "from": 0, "text": "step,loss_d\n1,0.5\n"}  # the torn row waits
    with open(run / "metrics.csv", "a") as handle:
        handle.write("\n3,0.3\n")
    have = {"metrics.csv": len(first["text"])}
    second = agent.answer({"id": 2, "op": "sync", "run": str(run), "files": ["metrics.csv"], "have": have})
    assert second["files"]["metrics.csv"]["text"] == "2,0.4\n3,0.3\n"
    (run / "metrics.csv").write_text("step,loss_d\n")  # a resume rewrote it
    third = agent.answer({"id": 3, "op": "sync", "run": str(run), "files": ["metrics.csv"],
                          "have": {"metrics.csv": 30}})
    assert third["files"]["metrics.csv"] == {"reset": True, "from": 0, "text": "step,loss_d\n"}
    stamp = agent.answer({"id": 4, "op": "sync", "run": str(run), "files": ["config.json"]})["files"]["config.json"]
    assert json.loads(unpack_bytes(stamp["data"]))["arch"] == "mlp"
    again = agent.answer({"id": 5, "op": "sync", "run": str(run), "files": ["config.json"],
                          "have": {"config.json": stamp["stamp"]}})
    assert again["files"] == {}, "an unchanged file is not sent again"


def test_the_agent_speaks_a_versioned_line_protocol(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    stdin = io.BytesIO(b'{"id": 1, "op": "scan", "place": "%s"}\nnot json\n' % str(tmp_path / "runs").encode())
    stdout = io.BytesIO()
    assert serve([str(tmp_path / "runs")], stdin, stdout) == 0
    hello, reply, bad = (json.loads(line) for line in stdout.getvalue().splitlines())
    assert (hello["hello"], hello["protocol"]) == ("gantui-agent", PROTOCOL_VERSION)
    assert hello["places"] == {str(tmp_path / "runs"): str((tmp_path / "runs").resolve())}
    assert reply == {"id": 1, "ok": True, "place": str((tmp_path / "runs").resolve()), "runs": {}}
    assert bad["ok"] is False and "not a protocol line" in bad["error"]


def test_gantui_agent_keeps_stdout_for_the_protocol(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "gantui", "agent", "--serve", str(tmp_path)], input=b"",
                            capture_output=True, timeout=60, env={**os.environ, "PYTHONWARNINGS": "always"})
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["hello"] for line in result.stdout.splitlines()] == ["gantui-agent"]


@pytest.mark.parametrize(("status", "stderr", "words"), [
    (255, "root@gpu1: Permission denied (publickey).", "ssh-copy-id gpu1"),
    (255, "Host key verification failed.", "run `ssh gpu1` once"),
    (255, "ssh: Could not resolve hostname gpu1: Name or service not known", "no such host"),
    (255, "ssh: connect to host gpu1 port 22: Connection refused", "connection refused"),
    (127, "bash: line 1: gantui: command not found", "install gantui there"),
])
def test_each_ssh_failure_is_one_line_saying_what_to_do(status: int, stderr: str, words: str) -> None:
    line = ssh_problem("gpu1", status, stderr, "gantui")
    assert words in line and "\n" not in line


def test_a_hosts_status_is_read_on_this_clock_and_its_pid_only_here(tmp_path: Path) -> None:
    import time

    from gantui.engine.remote.host import machine_id
    from gantui.engine.remote.mirror import RemotePlace
    from gantui.engine.run.state import RunState, effective_state

    place = RemotePlace(RemoteSpec("gpu1", "runs"))
    host_now = time.time() - 3600  # the host's clock is an hour behind
    status = {"state": "running", "heartbeat": host_now - 5, "started": host_now - 100, "pid": 2**22 + 1,
              "host": socket.gethostname()}  # the same host name, another machine
    place.link.hello = {"machine": "another machine"}
    seen = json.loads(place._localise_status(json.dumps(status).encode(), host_now))
    assert abs(seen["heartbeat"] - (time.time() - 5)) < 2 and "pid" not in seen
    assert effective_state(seen) is RunState.RUNNING  # not lost: neither the clock nor a pid here says so
    place.link.hello = {"machine": machine_id()}  # the host is this machine: its pid is looked up here
    assert effective_state(json.loads(place._localise_status(json.dumps(status).encode(), host_now))) is RunState.LOST


def test_status_crosses_as_its_changed_fields_and_the_snapshot_names_once(tmp_path: Path) -> None:
    import time

    from gantui.engine.remote.mirror import RemotePlace

    run = _run(tmp_path / "runs" / "20260101-000000-mnist-mlp")
    (run / "samples").mkdir()
    (run / "samples" / "step-0.png").write_bytes(b"png")
    status = {"state": "running", "step": 10, "total_steps": 100, "heartbeat": time.time(), "loss_d": 0.7}

    def write(**fields) -> None:
        status.update(fields)
        (run / "status.json").write_text(json.dumps(status))
        stamp = (run / "status.json").stat().st_mtime_ns + 1000  # a new stamp even on a coarse clock
        os.utime(run / "status.json", ns=(stamp, stamp))

    write()
    agent = Agent([str(tmp_path / "runs")])
    place = RemotePlace(RemoteSpec("gpu1", str(tmp_path / "runs")))
    place.link.hello = {"machine": "another machine"}
    mirror = place.run_path(run.name)

    def sync() -> dict:
        reply = agent.answer({"id": 1, "op": "sync", "run": str(run), "files": ["status.json"],
                              "have": place._have(mirror, ("status.json",))})
        place._apply(mirror, reply)
        return reply

    first = sync()
    assert "data" in first["files"]["status.json"] and first["samples"] == ["step-0.png"]
    write(heartbeat=status["heartbeat"] + 2)  # a heartbeat alone: only it crosses
    second = sync()
    assert second["files"]["status.json"]["changed"] == {"heartbeat": status["heartbeat"]}
    assert "samples" not in second, "the snapshot names cross again only when they change"
    status.pop("loss_d")
    write(step=20)
    third = sync()["files"]["status.json"]
    assert third["changed"] == {"step": 20} and third["removed"] == ["loss_d"]
    seen = read_status(mirror)
    assert {key: seen[key] for key in ("state", "step", "total_steps")} == {"state": "running", "step": 20,
                                                                            "total_steps": 100}
    assert "loss_d" not in seen and abs(seen["heartbeat"] - status["heartbeat"]) < 2  # on this clock: honest
    (run / "samples" / "step-10.png").write_bytes(b"png")
    assert sync()["samples"] == ["step-0.png", "step-10.png"]
    assert (mirror / "samples" / "step-10.png").exists()
    fresh = Agent([str(tmp_path / "runs")])  # a new connection knows nothing the client has: whole again
    again = fresh.answer({"id": 2, "op": "sync", "run": str(run), "files": ["status.json"],
                          "have": place._have(mirror, ("status.json",))})
    assert again["files"] == {} and again["samples"] == ["step-0.png", "step-10.png"]  # unchanged since: nothing
    write(step=30)
    patched = fresh.answer({"id": 3, "op": "sync", "run": str(run), "files": ["status.json"],
                            "have": place._have(mirror, ("status.json",))})["files"]["status.json"]
    assert "data" in patched, "a patch only against a copy this connection sent"


def read_status(mirror: Path) -> dict:
    return json.loads((mirror / "status.json").read_text())


def test_the_agent_resumes_no_live_run(tmp_path: Path) -> None:
    import time

    run = _run(tmp_path / "runs" / "20260101-000000-mnist-mlp")
    (run / "status.json").write_text(json.dumps({"state": "running", "heartbeat": time.time(), "pid": os.getpid(),
                                                 "host": socket.gethostname()}))
    agent = Agent([str(tmp_path / "runs")])
    refused = agent.answer({"id": 1, "op": "resume", "run": str(run), "steps": 100})
    assert refused == {"id": 1, "ok": False, "error": f"{run.name} is running: it is still training"}
    assert not agent.answer({"id": 2, "op": "resume", "run": str(run), "steps": "a lot"})["ok"]
    assert "not a run under" in agent.answer({"id": 3, "op": "resume", "run": "/etc", "steps": 100})["error"]
