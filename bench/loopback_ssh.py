"""A throw-away sshd on 127.0.0.1 that reaches this machine as the host `box`: for the remote tests
(tests/remote/conftest.py) and the remote figure (bench/remote_ssh.py).

A host key and a user key made with ssh-keygen in `folder`, sshd on a free port (no PAM, no passwords, keys
from `folder` only), an ssh client config naming it `box` (and `nowhere`, a port with nothing listening), and
`remote-gantui`, a remote command running this checkout's gantui with this interpreter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Box:
    host: str
    ssh_config: Path
    remote_command: Path
    port: int
    sshd: subprocess.Popen
    folder: Path

    def ssh(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ssh", "-F", str(self.ssh_config), "-o", "BatchMode=yes", self.host, *command],
                              capture_output=True, text=True, timeout=60)

    def places_file(self) -> dict:
        """What a places file needs to reach the box (remote/settings.py)."""
        return {"ssh_options": ["-F", str(self.ssh_config)], "remote_command": str(self.remote_command)}

    def stop(self) -> None:
        self.sshd.terminate()
        self.sshd.wait(10)


def missing_tools() -> list[str]:
    return [tool for tool in (str(SSHD), "ssh", "ssh-keygen") if shutil.which(tool) is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_box(folder: Path, timeout: float = 30) -> Box:
    """sshd serving `folder`'s keys on a free loopback port, once `ssh box true` works; RuntimeError if not."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    shutil.copy(folder / "user_key.pub", folder / "authorized_keys")
    port = free_port()
    user = os.environ.get("USER") or "root"
    (folder / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\nStrictModes no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        "UsePAM no\nMaxStartups 50\n")
    client = (f"    User {user}\n    IdentityFile {folder / 'user_key'}\n    IdentitiesOnly yes\n"
              f"    UserKnownHostsFile {folder / 'known_hosts'}\n    StrictHostKeyChecking accept-new\n"
              "    LogLevel ERROR\n")
    (folder / "ssh_config").write_text(f"Host box\n    HostName 127.0.0.1\n    Port {port}\n{client}"
                                       f"Host nowhere\n    HostName 127.0.0.1\n    Port {free_port()}\n{client}")
    remote = folder / "remote-gantui"
    cache = os.environ.get("GANTUI_CACHE_DIR", "")
    remote.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} GANTUI_CACHE_DIR={cache} exec {sys.executable} -m gantui \"$@\"\n")
    remote.chmod(0o755)
    with contextlib.suppress(OSError):  # sshd's privilege separation folder (root makes it; a user cannot)
        Path("/run/sshd").mkdir(exist_ok=True)
    with open(folder / "sshd.log", "wb") as log:
        sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                                stdout=subprocess.DEVNULL, stderr=log)
    box = Box("box", folder / "ssh_config", remote, port, sshd, folder)
    deadline = time.monotonic() + timeout
    while box.ssh("true").returncode != 0:
        if sshd.poll() is not None or time.monotonic() > deadline:
            sshd.kill()
            raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()[-2000:]}")
        time.sleep(0.2)
    return box
