"""`gantui train --nproc N`: the same command under torchrun's launcher (torch.distributed.run), on this node.

gantui keeps no cluster machinery of its own: N > 1 re-runs the command line, less --nproc, as
`python -m gantui.cli.torchrun --standalone --nproc-per-node N -m gantui ...` (torchrun, less its own
tracebacks) and passes its exit status through, except that a run stopped as asked (a signal, with its final
checkpoint) exits 0, as a plain run does. The workers tell the launcher how they ended through files in a
folder of its own: rank 0 the run's end state, any rank the one line of bad input that stopped it, which
the launcher prints once (not once per process). Several nodes are torchrun's business: run
`torchrun ... -m gantui train ...` on each (README).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from gantui.engine.devices import resolve_device
from gantui.engine.distributed import TORCHRUN_ENV, World
from gantui.engine.errors import UserError
from gantui.engine.run.state import RunState

LAUNCHER_ENV = "GANTUI_LAUNCHER"  # the folder where the workers tell the launcher how they ended
STATE_FILE, ERROR_PREFIX = "state", "error-"  # rank 0's end state; each rank's one line of bad input
CLEAN_ENDS = (RunState.FINISHED, RunState.STOPPED)  # a run that ended as asked: exit status 0

NPROC_HELP = ("train with N processes on this node through torchrun (DistributedDataParallel: one GPU each "
              "on CUDA, gloo on the CPU); --batch-size is then the global batch, split among them")


def nproc_count(text: str) -> int:
    """--nproc's value: a whole number of processes, at least 1."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nproc takes a whole number of processes, not {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"--nproc must be at least 1, got {count}")
    return count


def wants_launch(nproc: int | None) -> bool:
    """Whether this command must start torchrun (refused inside a run torchrun started already); `--nproc 1`
    too is one DDP process under torchrun (what DDP itself costs), while no --nproc is a plain run."""
    if nproc is None:
        return False
    if TORCHRUN_ENV in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError("--nproc starts torchrun itself; under torchrun leave --nproc out")
    return True


def check_nproc(nproc: int, device_name: str, batch_size: int) -> None:
    """UserError, before anything starts, when this node cannot give each of `nproc` processes a device of its
    own or the global batch does not divide among them."""
    World(world_size=nproc, local_world_size=nproc).check_batch(batch_size)
    device = resolve_device(device_name)
    if device.type == "cuda" and nproc > torch.cuda.device_count():
        raise UserError(f"--nproc {nproc} needs {nproc} GPUs, but this machine has {torch.cuda.device_count()}; "
                        f"use at most --nproc {torch.cuda.device_count()} (or --device cpu)")
    if device.type not in ("cuda", "cpu"):
        raise UserError(f"--nproc trains on cuda or cpu, not {device.type}")


def without_nproc(argv: Sequence[str]) -> list[str]:
    """The command line less --nproc N / --nproc=N."""
    rest, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "--nproc":
            skip = True
        elif not token.startswith("--nproc="):
            rest.append(token)
    return rest


def torchrun(nproc: int, argv: Sequence[str]) -> int:
    """Run `gantui argv` (less --nproc) in `nproc` processes under torchrun; 0 when rank 0 reports a clean end,
    else torchrun's exit status (a worker's own: 2 for bad input, whose line is printed here once)."""
    command = [sys.executable, "-m", "gantui.cli.torchrun", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "gantui", *without_nproc(argv)]
    env = dict(os.environ)
    # torchrun's default is 1 thread a process (and a banner saying so): this node's cores, shared out
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    with tempfile.TemporaryDirectory(prefix="gantui-launch-") as folder:
        code = _wait_for_torchrun(subprocess.Popen(command, env={**env, LAUNCHER_ENV: folder}))
        state_file = Path(folder) / STATE_FILE
        ended = state_file.read_text().strip() if state_file.is_file() else ""
        errors = dict.fromkeys(path.read_text() for path in sorted(Path(folder).glob(ERROR_PREFIX + "*")))
    for error in errors:  # every rank meets the same bad input: one line, not one per process
        print(f"gantui: error: {error}", file=sys.stderr)
    # torchrun exits 1 after passing on a stop signal, even when every worker stopped cleanly with its final
    # checkpoint; the run's own end decides, as for a plain run
    return 0 if ended in CLEAN_ENDS else code


def report_state(state: str) -> None:
    """Rank 0 of a run that `torchrun` above started: tell the launcher how the run ended."""
    _report(STATE_FILE, state)


def report_error(line: str) -> bool:
    """A worker that `torchrun` above started, stopped by bad input: leave its one line for the launcher to
    print; False when there is no such launcher (then the caller prints it)."""
    return _report(f"{ERROR_PREFIX}{os.environ.get('RANK', '0')}", line)


def _report(name: str, text: str) -> bool:
    folder = os.environ.get(LAUNCHER_ENV)
    if not folder:
        return False
    with contextlib.suppress(OSError):  # a launcher that has gone away needs no answer
        (Path(folder) / name).write_text(text)
    return True


def _wait_for_torchrun(process: subprocess.Popen) -> int:
    """torchrun's exit status; a SIGTERM to this launcher is passed on to it, a terminal's Ctrl-C is not."""

    def forward(signum, frame) -> None:  # torchrun stops the workers, each with a final checkpoint
        process.send_signal(signum)

    def leave(signum, frame) -> None:  # a terminal's Ctrl-C reaches torchrun and the workers by itself
        pass

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
                signal.SIGINT: signal.signal(signal.SIGINT, leave)}
    try:
        return process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
