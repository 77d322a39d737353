"""Fixtures for the app's tests: finished runs with deterministic content, written through the engine's
own run-directory sink, and a deterministic clock for everything a snapshot shows."""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import waiting
from textual import events
from textual.keys import _character_to_key

from gantui.engine.events import (
    CheckpointSaved,
    EvalLogged,
    MetricsLogged,
    Notice,
    RunEnded,
    RunStarted,
    SampleGrid,
    SampleValues,
)
from gantui.engine.grid import GridLayout, tile_grid
from gantui.engine.run.writer import RunDir, RunDirSink

FIXED_TIME = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC: every time a fixture run records
MNIST_RUN = "20260101-000000-mnist-mlp-fixture"
PATTERN_RUN = "20260101-000500-pattern1010-pattern-mlp-fixture"
EVAL_RUN = "20260101-001000-mnist-mlp-evaluated"


def digit_layout(side: int = 4, cell: int = 28) -> GridLayout:
    return GridLayout.about_square(side * side, cell, cell)


def digit_grid(step: int, side: int = 4, cell: int = 28) -> np.ndarray:
    """A side×side grid of ring-shaped 'digits' whose radius depends on the step: a uint8 H×W×1 picture."""
    yy, xx = np.mgrid[0:cell, 0:cell]
    distance = np.hypot(yy - cell / 2, xx - cell / 2)
    tiles = []
    for index in range(side * side):
        radius = 4 + (index * 3 + step // 50) % 8
        tiles.append((np.abs(distance - radius) < 2.2).astype(np.uint8)[..., None] * 255)
    return tile_grid(tiles, digit_layout(side, cell))


def _metrics(step: int, total: int, per_epoch: int, cuda: bool) -> MetricsLogged:
    decay = math.exp(-step / 150)
    memory = (2_400_000_000 + step * 1000, 3_200_000_000, 2_900_000_000) if cuda else (None, None, None)
    return MetricsLogged(
        step=step, epoch=step // per_epoch, time=round(step * 0.05, 3),
        loss_d=round(math.log(2) + 0.6 * decay * math.cos(step / 17), 6),
        loss_g=round(math.log(2) + 1.2 * decay + 0.1 * math.sin(step / 11), 6),
        d_real=round(0.5 + 0.4 * decay, 6), d_fake=round(0.5 - 0.4 * decay, 6),
        grad_norm_d=1.0, grad_norm_g=2.0, samples_per_s=1280.0,
        mem_allocated=memory[0], mem_reserved=memory[1], mem_peak=memory[2], rss=536_870_912,
        total_steps=total,
    )


def _freeze_times(path: Path, host: str) -> None:
    """Replace the clock times the sink recorded with fixed ones (snapshots must not change run to run)."""
    status_path = path / "status.json"
    status = json.loads(status_path.read_text())
    status.update(started=FIXED_TIME, heartbeat=FIXED_TIME + 30, ended=FIXED_TIME + 30, host=host, pid=1)
    status_path.write_text(json.dumps(status, indent=2))
    events_path = path / "events.jsonl"
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    for event in events:
        event["time"] = FIXED_TIME + float(event.get("step", 0)) * 0.05
    events_path.write_text("".join(json.dumps(event) + "\n" for event in events))


def _evaluation(step: int) -> EvalLogged:
    """Fixed quality figures that improve with the step: FID falls, coverage grows to 9/10."""
    k = step // 100
    shares = [0.0 if index == 9 else 0.08 + 0.01 * ((index * 7 + k) % 5) for index in range(10)]
    total = sum(shares)
    return EvalLogged(step=step, time=round(step * 0.05, 3), eval_seconds=1.5, fid=round(180.0 / (1 + k), 2),
                      kid=round(0.2 / (1 + k), 4), coverage=min(0.5 + 0.1 * k, 0.9), kl_uniform=0.12,
                      diversity=0.8, duplicate_rate=0.0,
                      class_histogram=tuple(round(share / total, 4) for share in shares), num_classes=10)


def build_image_run(path: Path, total: int = 600, log_every: int = 10, cuda: bool = False,
                    evals: bool = False) -> Path:
    """A finished mnist + mlp run: metrics every `log_every` steps, grids every 200, one warning; with
    `evals`, a quality evaluation (eval.csv, status["quality"]) every 100 steps."""
    per_epoch = 156
    config = {"dataset": "mnist", "arch": "mlp", "loss": "bce", "optimizer": "adam", "lr": 0.0001,
              "betas": [0.9, 0.999], "batch_size": 64, "steps": total, "epochs": None, "latent_dim": 100,
              "device": "cuda:0" if cuda else "cpu", "seed": 0, "log_every": log_every, "sample_every": 200,
              "name": "fixture"}
    sink = RunDirSink(RunDir(path))
    sink.handle(RunStarted(config=config, device="cuda:0" if cuda else "cpu",
                           device_name="NVIDIA H100 80GB HBM3" if cuda else "CPU (2 cores)", step=0,
                           total_steps=total, steps_per_epoch=per_epoch, params_g=176_184, params_d=157_601))
    sink.handle(SampleGrid(0, digit_grid(0), digit_layout()))
    for step in range(log_every, total + 1, log_every):
        sink.handle(_metrics(step, total, per_epoch, cuda))
        if step % 200 == 0:
            sink.handle(SampleGrid(step, digit_grid(step), digit_layout()))
        if evals and step % 100 == 0:
            sink.handle(_evaluation(step))
        if step == 300:
            sink.handle(Notice("warning", "D(x) stayed above 0.9 for 100 steps: D may be winning", step))
        if step == total:
            sink.handle(CheckpointSaved(step, str(path / "checkpoints" / "last.pt")))
    sink.handle(RunEnded("finished", total, total // per_epoch))
    if cuda:
        status = json.loads((path / "status.json").read_text())
        status["memory_total"] = 85_520_000_000
        (path / "status.json").write_text(json.dumps(status))
    _freeze_times(path, host="fixture-host")
    return path


def build_pattern_run(path: Path, total: int = 200) -> Path:
    """A finished pattern1010 + pattern-mlp run with toy JSON samples."""
    config = {"dataset": "pattern1010", "arch": "pattern-mlp", "loss": "mse", "optimizer": "sgd", "lr": 0.01,
              "batch_size": 16, "steps": total, "latent_dim": 1, "device": "cpu", "log_every": 10}
    sink = RunDirSink(RunDir(path))
    sink.handle(RunStarted(config=config, device="cpu", device_name="CPU (2 cores)", step=0, total_steps=total,
                           steps_per_epoch=63, params_g=22, params_d=19))
    real = [[0.9, 0.1, 0.85, 0.05], [0.95, 0.15, 0.9, 0.12], [0.82, 0.02, 0.97, 0.18]]
    for step in range(10, total + 1, 10):
        sink.handle(_metrics(step, total, 63, cuda=False))
        if step % 100 == 0:
            k = step / total
            sink.handle(SampleValues(step, [[0.5 + 0.4 * k, 0.5 - 0.4 * k, 0.5 + 0.35 * k, 0.5 - 0.38 * k]] * 4,
                                     real))
    sink.handle(CheckpointSaved(total, str(path / "checkpoints" / "last.pt")))
    sink.handle(RunEnded("finished", total, total // 63))
    _freeze_times(path, host="fixture-host")
    return path


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Events show local clock times: make 'local' UTC for the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def _fixture_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once (the sink fsyncs every file it replaces); each test gets its own copy."""
    folder = tmp_path_factory.mktemp("fixture-runs")
    build_image_run(folder / MNIST_RUN)
    build_pattern_run(folder / PATTERN_RUN)
    build_image_run(folder / EVAL_RUN, evals=True)
    return folder


@pytest.fixture
def image_run(runs_dir: Path, _fixture_runs: Path, utc) -> Path:
    return Path(shutil.copytree(_fixture_runs / MNIST_RUN, runs_dir / MNIST_RUN))


@pytest.fixture
def eval_run(runs_dir: Path, _fixture_runs: Path, utc) -> Path:
    return Path(shutil.copytree(_fixture_runs / EVAL_RUN, runs_dir / EVAL_RUN))


@pytest.fixture
def pattern_run(runs_dir: Path, _fixture_runs: Path, utc) -> Path:
    return Path(shutil.copytree(_fixture_runs / PATTERN_RUN, runs_dir / PATTERN_RUN))


@pytest.fixture
def wait_until():
    """tests/waiting.py's `wait_until(pilot, condition, timeout, what)`, for tests that take fixtures."""
    return waiting.wait_until


async def _press(pilot, *keys: str) -> None:
    """Key presses as the terminal driver sends them, then one short pause.

    Pilot.press waits, after every key, for the process to go idle (up to a second a key); with a run
    training in this process it never does. The app receives exactly the same key events either way.
    """
    for key in keys:
        char = key if len(key) == 1 else None
        name = _character_to_key(key) if char is not None and not key.isalnum() else key
        pilot.app.post_message(events.Key(name, char))
        await pilot.pause(0)  # every queue on the screen drained, without waiting for an idle CPU


@pytest.fixture
def press():
    return _press


@pytest.fixture
def ddp_run(image_run: Path) -> Path:
    """The mnist fixture run as two gloo processes on one host, rank 1 the slower."""
    from distributed_run import make_distributed

    return make_distributed(image_run, [("fixture-host", "cpu"), ("fixture-host", "cpu")], [1312.0, 968.0])


@pytest.fixture
def cuda_ddp_run(runs_dir: Path, utc) -> Path:
    """A finished CUDA run as four processes on two hosts, two GPUs each, rank 2 the slowest."""
    from distributed_run import make_distributed

    path = build_image_run(runs_dir / "20260101-002000-mnist-mlp-four-gpus", total=100, cuda=True)
    devices = [("node-a", "cuda:0"), ("node-a", "cuda:1"), ("node-b", "cuda:0"), ("node-b", "cuda:1")]
    return make_distributed(path, devices, [5120.0, 5080.0, 3900.0, 5101.0], cuda_memory=True)
