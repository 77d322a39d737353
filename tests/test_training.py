"""Short real trainings of every reference pairing, exact resume, export, and the run folder they leave."""

import dataclasses
import itertools
import json
import subprocess
import sys
import threading

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from gantui.engine.config import resolve_config
from gantui.engine.interval import FIGURES
from gantui.engine.prepare import prepare_resume, prepare_run
from gantui.engine.run.tails import load_metrics
from gantui.engine.step import GanStep
from gantui.engine.trainer import TrainingFailed, train


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    """Small files of every kind the loaders take, made here."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.integers(0, 10, (40, 1)), rng.integers(0, 256, (40, 784))], axis=1)
    np.savetxt(root / "digits.csv", rows, fmt="%d", delimiter=",")
    with h5py.File(root / "faces.h5", "w") as handle:
        group = handle.create_group("img_align_celeba")
        for index in range(12):
            group.create_dataset(f"{index}.jpg", data=rng.integers(0, 256, (128, 128, 3), dtype=np.uint8))
    folder = root / "pictures"
    folder.mkdir()
    for index in range(10):
        pixels = rng.integers(0, 256, (80, 72, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")
    return root


PAIRINGS = [
    ("pattern1010", "pattern-mlp", None, {}),
    ("quadratic", "curve-mlp", None, {}),
    ("mnist", "mlp", None, {}),
    ("mnist", "dcgan28", None, {"batch_size": 8}),
    ("mnist", "cgan", None, {}),
    ("mnist", "cdcgan", None, {"batch_size": 8}),
    ("mnist-csv", "mlp", "digits.csv", {"batch_size": 8}),
    ("hdf5", "mlp", "faces.h5", {"batch_size": 4}),
    ("hdf5", "conv", "faces.h5", {"batch_size": 2, "steps": 2, "sample_count": 4}),  # its G: ~1 s a picture
    ("shapes", "dcgan64", None, {"batch_size": 4, "steps": 3}),
    ("imagefolder", "dcgan64", "pictures", {"batch_size": 4, "steps": 3, "image_size": 64}),
]


@pytest.mark.parametrize(("dataset", "arch", "data", "options"), PAIRINGS, ids=[f"{d}+{a}" for d, a, *_ in PAIRINGS])
def test_every_pairing_writes_a_complete_run(tmp_path, data_files, dataset, arch, data, options):
    options = {"steps": 6, "log_every": 2, "sample_every": 3, "checkpoint_every": 4, "device": "cpu", **options}
    config = resolve_config(dataset, arch, data=str(data_files / data) if data else None,
                            runs_dir=str(tmp_path), **options)
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    run = prepared.path
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == config.steps
    frame = load_metrics(run / "metrics.csv")
    assert list(frame["step"])[-1] == config.steps
    assert np.isfinite(frame[["loss_d", "loss_g", "d_real", "d_fake"]].to_numpy()).all()
    assert (frame["rss"] > 0).all()
    events = [json.loads(line)["event"] for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "end" and "checkpoint" in events
    latest = "latest.png" if prepared.source.info.is_image else "latest.json"
    assert (run / "samples" / latest).is_file()
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "generator.pt").is_file()
    assert json.loads((run / "config.json").read_text())["data_info"]["shape"] == list(prepared.source.info.shape)


def small_mnist(tmp_path, **options):
    values = {"steps": 20, "log_every": 5, "checkpoint_every": 10, "sample_every": 10, "device": "cpu",
              "batch_size": 16, "seed": 3, "runs_dir": str(tmp_path), **options}
    return resolve_config("mnist", "dcgan28", **values)


def test_resume_continues_exactly(tmp_path):
    short = {"steps": 8, "log_every": 2, "checkpoint_every": 4, "sample_every": 4, "batch_size": 8}
    straight = prepare_run(small_mnist(tmp_path / "a", **short))
    train(straight)
    first_half = prepare_run(small_mnist(tmp_path / "b", **{**short, "steps": 4}))
    train(first_half)
    resumed = prepare_resume(first_half.path, steps=8)
    assert train(resumed) == "finished"
    expected = load_metrics(straight.path / "metrics.csv")
    got = load_metrics(first_half.path / "metrics.csv")
    assert list(got["step"]) == [2, 4, 6, 8]
    columns = ["loss_d", "loss_g", "d_real", "d_fake"]
    np.testing.assert_allclose(got[columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-5)


def test_same_seed_same_run(tmp_path):
    a = prepare_run(small_mnist(tmp_path / "a", steps=5))
    b = prepare_run(small_mnist(tmp_path / "b", steps=5))
    train(a)
    train(b)
    columns = ["loss_d", "loss_g"]
    np.testing.assert_array_equal(load_metrics(a.path / "metrics.csv")[columns].to_numpy(),
                                  load_metrics(b.path / "metrics.csv")[columns].to_numpy())


def test_torchscript_generator_loads_without_gantui(tmp_path):
    prepared = prepare_run(resolve_config("mnist", "cgan", steps=2, device="cpu", runs_dir=str(tmp_path)))
    train(prepared)
    code = (
        "import sys, torch\n"
        f"g = torch.jit.load({str(prepared.path / 'generator.pt')!r})\n"
        "out = g(torch.randn(3, 100), torch.tensor([1, 2, 3]))\n"
        "assert 'gantui' not in sys.modules\n"
        "print(tuple(out.shape))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(3, 1, 28, 28)"


def spoil_steps_after(monkeypatch, good_steps: int, spoil) -> None:
    """Every step after the first `good_steps` returns `spoil(result)`, or raises what spoil raises."""
    real_step, count = GanStep.train_step, itertools.count(1)

    def spoiled(self, real, labels, measure_norms):
        result = real_step(self, real, labels, measure_norms)
        return result if next(count) <= good_steps else spoil(result)

    monkeypatch.setattr(GanStep, "train_step", spoiled)


def nan_in(*names: str):
    """A spoil that makes the figures `names` (all of them when none are given) NaN."""
    return lambda result: dataclasses.replace(
        result, **{name: getattr(result, name) * float("nan") for name in names or FIGURES})


def raising(error: BaseException):
    def spoil(result):
        raise error

    return spoil


def test_nan_loss_ends_the_run_as_diverged_with_checkpoint_intact(tmp_path, monkeypatch):
    prepared = prepare_run(small_mnist(tmp_path, steps=30, checkpoint_every=10, log_every=5))
    spoil_steps_after(monkeypatch, 12, nan_in())
    assert train(prepared) == "diverged"
    status = json.loads((prepared.path / "status.json").read_text())
    assert status["state"] == "diverged" and "step 15" in status["message"]
    state = torch.load(prepared.path / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 10
    assert all(torch.isfinite(t).all() for t in state["generator"].values() if t.is_floating_point())


def test_stop_request_ends_with_a_final_checkpoint(tmp_path):
    from gantui.engine.control import RunControl
    from gantui.engine.events import MetricsLogged

    prepared = prepare_run(small_mnist(tmp_path, steps=1000))
    control = RunControl(prepared.path)

    class StopAfterFirstLog:
        def handle(self, event):
            if isinstance(event, MetricsLogged):
                control.stop()

    assert train(prepared, [StopAfterFirstLog()], control) == "stopped"
    status = json.loads((prepared.path / "status.json").read_text())
    assert status["state"] == "stopped" and 5 <= status["step"] < 1000
    assert torch.load(prepared.path / "checkpoints" / "last.pt", weights_only=True)["step"] == status["step"]


# ---- every way out of the loop ends the run once --------------------------------------------------------
def small_mlp(tmp_path, **options):
    values = {"steps": 20, "log_every": 10, "checkpoint_every": 4, "sample_every": 10, "device": "cpu",
              "batch_size": 8, "seed": 5, "runs_dir": str(tmp_path), **options}
    return prepare_run(resolve_config("mnist", "mlp", **values))


def ended(run_path, state, threads_before):
    """The run ended once, as `state`: one `end` event, the last; status.json final; its threads gone."""
    events = [json.loads(line) for line in (run_path / "events.jsonl").read_text().splitlines()]
    ends = [event for event in events if event["event"] == "end"]
    assert len(ends) == 1 and events[-1] == ends[0] and ends[0]["state"] == state
    status = json.loads((run_path / "status.json").read_text())
    assert status["state"] == state and status["message"] == ends[0]["message"] and "ended" in status
    left = {thread.name for thread in set(threading.enumerate()) - threads_before}
    assert not left & {"gantui-heartbeat", "gantui-writer"}  # the heartbeat stopped and the sinks closed
    return status, events


def last_checkpoint_step(run_path):
    path = run_path / "checkpoints" / "last.pt"
    if not path.exists():
        return None
    state = torch.load(path, weights_only=True)
    assert all(torch.isfinite(t).all() for t in state["generator"].values() if t.is_floating_point())
    return state["step"]


@pytest.mark.parametrize(("figure", "good_steps", "end_step", "kept"), [
    ("loss_g", 1, 4, "no checkpoint was written"),
    ("loss_d", 5, 8, "last good checkpoint at step 4"),
    ("d_fake", 5, 8, "last good checkpoint at step 4"),  # finite losses: this one used to end as finished, silently
])
def test_a_non_finite_interval_before_a_checkpoint_ends_the_run_as_diverged(tmp_path, monkeypatch, figure,
                                                                            good_steps, end_step, kept):
    prepared = small_mlp(tmp_path)  # logs at step 10 only: the checkpoints at 4 and 8 find the NaN first
    spoil_steps_after(monkeypatch, good_steps, nan_in(figure))
    threads = set(threading.enumerate())
    assert train(prepared) == "diverged"
    status, events = ended(prepared.path, "diverged", threads)
    message = (f"{figure} became nan in the interval ending at step {end_step}; {kept}. "
               f"Try a lower --lr or another --loss")
    assert status["message"] == message and status["step"] == end_step
    assert events[-2] == {**events[-2], "event": "alarm", "message": message}
    assert last_checkpoint_step(prepared.path) == (4 if end_step == 8 else None)  # never overwritten with NaN
    assert not (prepared.path / "generator.pt").exists()


def test_a_stop_mid_run_ends_once_with_a_final_checkpoint(tmp_path):
    from gantui.engine.control import RunControl
    from gantui.engine.events import MetricsLogged

    prepared = small_mlp(tmp_path, steps=1000)
    control = RunControl(prepared.path)
    stop_at_first_log = type("Stop", (), {"handle": lambda self, e: isinstance(e, MetricsLogged) and control.stop()})
    threads = set(threading.enumerate())
    assert train(prepared, [stop_at_first_log()], control) == "stopped"
    status, _ = ended(prepared.path, "stopped", threads)
    assert status["message"] == "stopped by request" and status["step"] == 10
    assert last_checkpoint_step(prepared.path) == 10 and (prepared.path / "generator.pt").is_file()


def test_a_failure_mid_run_ends_as_failed_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    prepared = small_mlp(tmp_path)
    spoil_steps_after(monkeypatch, 6, raising(RuntimeError("the device fell over\nsecond line")))
    threads = set(threading.enumerate())
    with pytest.raises(TrainingFailed, match=r"^RuntimeError at step 7: the device fell over$"):
        train(prepared)
    status, events = ended(prepared.path, "failed", threads)
    assert status["message"] == "RuntimeError at step 7: the device fell over"
    assert events[-2]["event"] == "error" and events[-2]["message"] == status["message"]
    assert last_checkpoint_step(prepared.path) == 4


def test_an_interrupt_ends_as_stopped_without_checkpointing_a_half_done_step(tmp_path, monkeypatch):
    prepared = small_mlp(tmp_path)
    spoil_steps_after(monkeypatch, 6, raising(KeyboardInterrupt()))
    threads = set(threading.enumerate())
    with pytest.raises(KeyboardInterrupt):
        train(prepared)
    status, _ = ended(prepared.path, "stopped", threads)
    assert status["message"] == "interrupted at step 7; last good checkpoint at step 4"
    assert last_checkpoint_step(prepared.path) == 4 and not (prepared.path / "generator.pt").exists()


def test_a_failure_while_finishing_ends_the_run_as_failed(tmp_path, monkeypatch):
    from gantui.engine import trainer as trainer_module

    real_save = trainer_module.save_checkpoint

    def disk_full_at_the_end(path, state):
        if state["step"] == 20:
            raise OSError(28, "No space left on device", str(path))
        real_save(path, state)

    monkeypatch.setattr(trainer_module, "save_checkpoint", disk_full_at_the_end)
    prepared = small_mlp(tmp_path)
    threads = set(threading.enumerate())
    with pytest.raises(TrainingFailed, match="^disk full at step 20 writing .*last.pt$"):
        train(prepared)
    ended(prepared.path, "failed", threads)
    assert last_checkpoint_step(prepared.path) == 16


def test_weights_that_turn_non_finite_are_never_checkpointed(tmp_path, monkeypatch):
    """The tester's SGD lr 2 run: the interval's losses were still finite, the generator already NaN."""
    prepared = small_mlp(tmp_path, steps=40, checkpoint_every=10, log_every=10)
    original = GanStep.step

    def step_then_spoil(self, real, labels, measure_norms):
        result = original(self, real, labels, measure_norms)
        if step_then_spoil.calls == 19:  # step 20: its losses are computed, then its update spoils G
            next(self.generator.parameters()).data.fill_(float("nan"))
        step_then_spoil.calls += 1
        return result

    step_then_spoil.calls = 0
    monkeypatch.setattr(GanStep, "step", step_then_spoil)
    threads = set(threading.enumerate())
    assert train(prepared) == "diverged"
    status, _ = ended(prepared.path, "diverged", threads)
    assert "weights" in status["message"] and "last good checkpoint at step 10" in status["message"]
    assert last_checkpoint_step(prepared.path) == 10
    state = torch.load(prepared.path / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.isfinite(t).all() for t in state["generator"].values() if t.is_floating_point())


def test_a_control_file_it_cannot_follow_is_a_warning_not_a_failure(tmp_path):
    from gantui.engine.events import MetricsLogged

    prepared = small_mlp(tmp_path, steps=400, log_every=5, checkpoint_every=400)  # seconds: it polls 4 times a second

    class SpoilControlOnce:
        done = False

        def handle(self, event):
            if isinstance(event, MetricsLogged) and not self.done:
                (prepared.path / "control.json").write_text('[1, 2]')
                SpoilControlOnce.done = True

    threads = set(threading.enumerate())
    assert train(prepared, [SpoilControlOnce()]) == "finished"
    _, events = ended(prepared.path, "finished", threads)
    warnings = [event for event in events if event["event"] == "warning" and "control.json" in event["message"]]
    assert len(warnings) == 1
