"""A real sshd on 127.0.0.1 for the remote tests: the "remote" box is this machine through real ssh.

Session-scoped: bench/loopback_ssh.py's throw-away keys, sshd on a free port and ssh client config (Host
box), which gantui is told to use through its places file (XDG_CONFIG_HOME points at a temporary folder),
and a remote command that runs this checkout's gantui with this interpreter.
Without /usr/sbin/sshd the tests skip locally; on CI (env CI set) they fail: CI must run them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.loopback_ssh import Box, missing_tools, start_box


@pytest.fixture(scope="session")
def box(tmp_path_factory) -> Box:
    missing = missing_tools()
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install openssh-server openssh-client)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the SSH tests: {message}")
        pytest.skip(message)
    try:
        box = start_box(tmp_path_factory.mktemp("sshd"))
    except RuntimeError as error:
        pytest.fail(str(error))
    yield box
    box.stop()


@pytest.fixture
def places_file(box: Box, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A places file (in a fresh XDG_CONFIG_HOME) that reaches `box` through its ssh config."""
    config_home = tmp_path / "config"
    path = config_home / "gantui" / "places.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(box.places_file()))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return path


@pytest.fixture(autouse=True)
def fresh_places():
    """Each test opens its own remote places (and connections), and closes them after."""
    from gantui.engine import places

    yield
    places.close_all()
    places._REMOTE.clear()
