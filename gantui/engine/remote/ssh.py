"""The client side of a remote place: the system's OpenSSH client running `gantui agent` on the host.

ssh runs with BatchMode (a password or host-key prompt fails at once instead of hanging the app) and a
connect timeout; the user's ~/.ssh/config, keys, agent, ProxyJump and ControlMaster apply as to any ssh.
Each of ssh's usual failures becomes one line saying what to do. A dropped connection is started again
on the next request, no sooner than a backoff that doubles up to BACKOFF_MAX_S.
"""

from __future__ import annotations

import contextlib
import queue
import shlex
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from gantui.engine.remote.protocol import HELLO, PROTOCOL_VERSION, ProtocolError, decode, encode

CONNECT_TIMEOUT_S = 10
REPLY_TIMEOUT_S = 60.0
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0
NO_COMMAND_STATUS = 127  # what a POSIX shell exits with when it cannot find the command


class RemoteError(Exception):
    """A remote place cannot be reached or answered badly; the message is one line saying what to do."""


@dataclass(frozen=True)
class SshSettings:
    """How to reach hosts: extra ssh options (`-F FILE`, `-p PORT`) and the command that runs gantui there."""

    remote_command: str = "gantui"
    options: tuple[str, ...] = ()
    ssh: str = "ssh"
    connect_timeout: int = CONNECT_TIMEOUT_S


def ssh_problem(host: str, status: int | None, stderr: str, remote_command: str) -> str:
    """One line for what went wrong starting the agent on `host`, from ssh's exit status and stderr."""
    text = stderr.strip()
    last = text.splitlines()[-1] if text else ""
    if "Permission denied" in text:
        return (f"ssh {host}: permission denied: gantui runs ssh without prompts (BatchMode), so use a key "
                f"(ssh-copy-id {host}) or an ssh agent, and check `ssh {host}` works without a password")
    if "Host key verification failed" in text or "REMOTE HOST IDENTIFICATION HAS CHANGED" in text:
        return f"ssh {host}: host key not known or changed: run `ssh {host}` once to check and accept it"
    if "Could not resolve hostname" in text:
        return f"ssh {host}: no such host: check the name, or add it to ~/.ssh/config"
    if "Connection refused" in text:
        return f"ssh {host}: connection refused: is sshd running there, and on that port?"
    if "timed out" in text or "No route to host" in text or "Network is unreachable" in text:
        return f"ssh {host}: cannot reach the host ({last})"
    if status == NO_COMMAND_STATUS or "command not found" in text or "not found" in last:
        return (f"{host} has no `{remote_command}` on its PATH: install gantui there (the same version, "
                f"e.g. pip install -e a clone of it in a venv), or name the command with --remote-command")
    if status == 255:
        return f"ssh {host} failed: {last or 'no message'}"
    return f"{host}: `{remote_command} agent` did not start: {last or f'exit status {status}'}"


class AgentLink:
    """One ssh connection to `host`'s agent serving `places`, started on first use and again after a drop."""

    def __init__(self, host: str, places: list[str], settings: SshSettings | None = None) -> None:
        self.host = host
        self.places = list(places)
        self.settings = settings or SshSettings()
        self.hello: dict[str, Any] = {}
        self.bytes_in = 0  # protocol bytes received, all connections together (the bench reads them)
        self.bytes_out = 0
        self.connections = 0
        self._process: subprocess.Popen | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=20)
        self._lock = threading.Lock()
        self._next_id = 0
        self._backoff = 0.0
        self._retry_at = 0.0
        self._last_problem: str | None = None

    def command(self) -> list[str]:
        s = self.settings
        remote = " ".join([s.remote_command, "agent", "--serve", *map(shlex.quote, self.places)])
        return [s.ssh, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={s.connect_timeout}",
                "-o", "ServerAliveInterval=15", *s.options, self.host, remote]

    @property
    def connected(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # ---- requests --------------------------------------------------------------------------------------------
    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """The agent's reply to `op`; RemoteError when the host cannot be reached or the agent refuses."""
        with self._lock:
            if not self.connected:
                self._connect()
            assert self._process is not None and self._process.stdin is not None
            self._next_id += 1
            ident = self._next_id
            line = encode({"id": ident, "op": op, **fields})
            try:
                self._process.stdin.write(line)
                self._process.stdin.flush()
            except (OSError, ValueError):
                self._drop()
                raise RemoteError(f"{self.host}: connection lost") from None
            self.bytes_out += len(line)
            reply = self._read(REPLY_TIMEOUT_S)
            if reply is None:
                self._drop()
                raise RemoteError(f"{self.host}: connection lost")
            if reply.get("id") != ident:
                self._drop()
                raise RemoteError(f"{self.host}: the agent answered out of turn")
        if not reply.get("ok"):
            raise RemoteError(f"{self.host}: {reply.get('error') or 'the agent refused'}")
        return reply

    def _read(self, timeout: float) -> dict[str, Any] | None:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            return None
        self.bytes_in += len(line)
        try:
            return decode(line)
        except ProtocolError:
            return None

    # ---- connecting ------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        now = time.monotonic()
        if now < self._retry_at and self._last_problem is not None:
            raise RemoteError(self._last_problem)
        try:
            self._start()
        except RemoteError as error:
            self._backoff = min(max(self._backoff * 2, BACKOFF_START_S), BACKOFF_MAX_S)
            self._retry_at = time.monotonic() + self._backoff
            self._last_problem = str(error)
            raise
        self._backoff, self._last_problem = 0.0, None

    def _start(self) -> None:
        self._drop()
        self._lines, self._stderr = queue.Queue(), deque(maxlen=20)
        try:
            process = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
        except OSError as error:
            raise RemoteError(f"cannot run {self.settings.ssh}: {error} (is OpenSSH's client installed?)") from None
        self._process = process
        self.connections += 1
        lines, errors = self._lines, self._stderr
        threading.Thread(target=_pump_lines, args=(process.stdout, lines), daemon=True,
                         name=f"gantui-ssh-{self.host}").start()
        threading.Thread(target=_pump_stderr, args=(process.stderr, errors), daemon=True,
                         name=f"gantui-ssh-err-{self.host}").start()
        hello = self._read(self.settings.connect_timeout + REPLY_TIMEOUT_S / 2)
        if hello is None or hello.get("hello") != HELLO:
            status = _wait(process)
            time.sleep(0.05)  # the stderr pump's last lines
            self._drop()
            raise RemoteError(ssh_problem(self.host, status, "\n".join(errors), self.settings.remote_command))
        if hello.get("protocol") != PROTOCOL_VERSION:
            self._drop()
            raise RemoteError(f"{self.host}'s gantui speaks agent protocol {hello.get('protocol')}, this one "
                              f"{PROTOCOL_VERSION}: install the same gantui version on both machines")
        self.hello = hello

    def _drop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if process.stdin is not None:
                process.stdin.close()
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.terminate()
        _wait(process)

    def close(self) -> None:
        with self._lock:
            self._drop()


def _wait(process: subprocess.Popen, timeout: float = 5.0) -> int | None:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            return process.wait(timeout)
    return None


def _pump_lines(stream: Any, lines: queue.Queue[bytes | None]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            lines.put(line)
    lines.put(None)


def _pump_stderr(stream: Any, errors: deque[str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            errors.append(line.decode("utf-8", errors="replace").rstrip())
