"""Short real trainings of every reference pairing, exact resume, export, and the run folder they leave."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from gantui.engine.config import resolve_config
from gantui.engine.prepare import prepare_resume, prepare_run
from gantui.engine.reader import load_metrics
from gantui.engine.trainer import train


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
    ("hdf5", "conv", "faces.h5", {"batch_size": 2, "steps": 2}),
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
    straight = prepare_run(small_mnist(tmp_path / "a"))
    train(straight)
    first_half = prepare_run(small_mnist(tmp_path / "b", steps=10))
    train(first_half)
    resumed = prepare_resume(first_half.path, steps=20)
    assert train(resumed) == "finished"
    expected = load_metrics(straight.path / "metrics.csv")
    got = load_metrics(first_half.path / "metrics.csv")
    assert list(got["step"]) == [5, 10, 15, 20]
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


def poison_steps_after(monkeypatch, good_steps: int, *names: str) -> None:
    """Every GanStep after the first `good_steps` reports NaN for `names` (all its figures when none given)."""
    import dataclasses
    import itertools

    from gantui.engine.step import GanStep, StepResult

    real_step, count = GanStep.train_step, itertools.count(1)
    names = names or tuple(field.name for field in dataclasses.fields(StepResult))

    def poisoned(self, real, labels, measure_norms):
        result = real_step(self, real, labels, measure_norms)
        if next(count) <= good_steps:
            return result
        return dataclasses.replace(result, **{name: getattr(result, name) * float("nan") for name in names})

    monkeypatch.setattr(GanStep, "train_step", poisoned)


def test_nan_loss_ends_the_run_as_diverged_with_checkpoint_intact(tmp_path, monkeypatch):
    prepared = prepare_run(small_mnist(tmp_path, steps=30, checkpoint_every=10, log_every=5))
    poison_steps_after(monkeypatch, 12)
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
