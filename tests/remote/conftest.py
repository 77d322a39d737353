"""A real sshd on 127.0.0.1 for the remote tests: the "remote" box is this machine through real ssh.

Session-scoped: a throw-away host key and user key in a temporary folder, sshd on a free port, an ssh
client config (Host box) that gantui is told to use through its places file (XDG_CONFIG_HOME points at
the temporary folder), and a remote command that runs this checkout's gantui with this interpreter.
Without /usr/sbin/sshd the tests skip locally; on CI (env CI set) they fail: CI must run them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Box:
    """The loopback "remote" host: its name in the ssh config, and how to reach it outside gantui."""

    host: str
    ssh_config: Path
    remote_command: Path
    port: int
    sshd: subprocess.Popen
    folder: Path

    def ssh(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["ssh", "-F", str(self.ssh_config), "-o", "BatchMode=yes", self.host, *command],
                              capture_output=True, text=True, timeout=60, **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _need(tool: str) -> None:
    if shutil.which(tool) is None and not Path(tool).exists():
        message = f"{tool} is not installed (apt-get install openssh-server openssh-client)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the SSH tests: {message}")
        pytest.skip(message)


@pytest.fixture(scope="session")
def box(tmp_path_factory) -> Box:
    _need(str(SSHD))
    _need("ssh")
    _need("ssh-keygen")
    folder = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    shutil.copy(folder / "user_key.pub", folder / "authorized_keys")
    port = _free_port()
    user = os.environ.get("USER") or "root"
    (folder / "sshd_config").write_text(f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {folder / 'host_key'}
AuthorizedKeysFile {folder / 'authorized_keys'}
PidFile {folder / 'sshd.pid'}
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
PermitUserEnvironment no
AcceptEnv LANG
Subsystem sftp internal-sftp
""")
    (folder / "ssh_config").write_text(f"""\
Host box
    HostName 127.0.0.1
    Port {port}
    User {user}
    IdentityFile {folder / 'user_key'}
    IdentitiesOnly yes
    UserKnownHostsFile {folder / 'known_hosts'}
    StrictHostKeyChecking accept-new
    LogLevel ERROR
Host nowhere
    HostName 127.0.0.1
    Port {_free_port()}
    User {user}
    IdentityFile {folder / 'user_key'}
    UserKnownHostsFile {folder / 'known_hosts'}
    StrictHostKeyChecking accept-new
""")
    remote = folder / "remote-gantui"
    remote.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} GANTUI_CACHE_DIR={os.environ.get('GANTUI_CACHE_DIR', '')} "
                      f"exec {sys.executable} -m gantui \"$@\"\n")
    remote.chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                            stdout=subprocess.DEVNULL, stderr=open(folder / "sshd.log", "wb"))
    box = Box("box", folder / "ssh_config", remote, port, sshd, folder)
    deadline = time.monotonic() + 30
    while box.ssh("true").returncode != 0:
        if sshd.poll() is not None or time.monotonic() > deadline:
            sshd.kill()
            pytest.fail(f"sshd did not start: {(folder / 'sshd.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield box
    sshd.terminate()
    sshd.wait(10)


@pytest.fixture
def places_file(box: Box, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A places file (in a fresh XDG_CONFIG_HOME) that reaches `box` through its ssh config."""
    config_home = tmp_path / "config"
    path = config_home / "gantui" / "places.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"ssh_options": ["-F", str(box.ssh_config)],
                                "remote_command": str(box.remote_command)}))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return path


@pytest.fixture(autouse=True)
def fresh_places():
    """Each test opens its own remote places (and connections), and closes them after."""
    from gantui.engine import places

    yield
    places.close_all()
    places._REMOTE.clear()
