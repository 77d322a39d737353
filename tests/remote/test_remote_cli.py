"""`gantui runs` and the agent over a real ssh connection to the loopback box (tests/remote/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.conftest import MNIST_RUN, PATTERN_RUN, build_image_run, build_pattern_run

GANTUI = [sys.executable, "-m", "gantui"]


def gantui(*args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*GANTUI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def test_remote_runs_list_next_to_a_local_one(box, places_file, tmp_path: Path) -> None:
    remote, local = tmp_path / "far" / "runs", tmp_path / "near" / "runs"
    build_image_run(remote / MNIST_RUN)
    build_pattern_run(local / PATTERN_RUN)
    result = gantui("runs", f"box:{remote}", local, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {MNIST_RUN, PATTERN_RUN}
    far = rows[MNIST_RUN]
    assert (far["host"], far["place"], far["path"]) == ("box", f"box:{remote}", f"box:{remote}/{MNIST_RUN}")
    assert (far["state"], far["step"], far["total_steps"], far["arch"]) == ("finished", 600, 600, "mlp")
    assert rows[PATTERN_RUN]["host"] is None
    table = gantui("runs", f"box:{remote}", local, cwd=tmp_path)
    assert f"box:{MNIST_RUN[:20]}" in table.stdout.replace("…", ""), table.stdout


def test_an_unreachable_host_is_one_line_and_the_others_still_list(box, places_file, tmp_path: Path) -> None:
    local = tmp_path / "runs"
    build_pattern_run(local / PATTERN_RUN)
    result = gantui("runs", "nowhere:/tmp/runs", local, "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert [row["name"] for row in json.loads(result.stdout)] == [PATTERN_RUN]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "nowhere:/tmp/runs" in lines[0] and "connection refused" in lines[0], lines[0]


def test_a_host_without_gantui_says_what_to_install(box, places_file, tmp_path: Path) -> None:
    result = gantui("--remote-command", "gantui-not-installed", "runs", f"box:{tmp_path}", "--json", cwd=tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "no `gantui-not-installed` on its PATH" in lines[0] and "--remote-command" in lines[0], lines[0]


def test_a_password_prompt_never_hangs(box, places_file, tmp_path: Path) -> None:
    config = tmp_path / "no-key"
    config.write_text(box.ssh_config.read_text().replace("IdentityFile", "#IdentityFile"))
    result = gantui("--ssh-option", f"-F {config}", "--ssh-option", "-o IdentityAgent=none", "runs",
                    f"box:{tmp_path}", cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "permission denied" in result.stderr and "BatchMode" in result.stderr, result.stderr


def test_watch_and_compare_find_host_runs_and_the_app_remembers_places(box, places_file, tmp_path: Path,
                                                                      monkeypatch) -> None:
    import pytest

    from gantui.cli import commands, parse_args
    from gantui.engine.errors import UserError
    from gantui.engine.remote.settings import remembered_places

    remote = tmp_path / "far"
    build_image_run(remote / MNIST_RUN)
    mirror = commands.find_any_run(f"box:{remote}/{MNIST_RUN}", None)
    assert mirror.name == MNIST_RUN and (mirror / "config.json").is_file()  # metrics come when followed
    assert commands.find_any_run(MNIST_RUN, [f"box:{remote}"]) == mirror  # by name among the places
    with pytest.raises(UserError, match="no run 'nope' in box:"):
        commands.find_any_run(f"box:{remote}/nope", None)
    opened = []
    monkeypatch.setattr("gantui.app.app.run_app", lambda places, **kwargs: opened.append(places) or 0)
    assert commands.app(parse_args(["--runs-dir", f"box:{remote}", "--runs-dir", str(tmp_path / "near")])) == 0
    assert remembered_places() == [f"box:{remote}"]
    commands.app(parse_args([]))  # a bare `gantui`: ./runs and the places remembered
    assert [str(place) for place in opened[-1]] == ["runs", f"box:{remote}"]
