"""The speed features of the engine: mixed precision, --compile's fallback, the on-device uint8 data and the
background writer. Correctness only: tests never assert times (benchmarks live in bench/)."""

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from gantui.engine import acceleration
from gantui.engine.config import config_to_args, resolve_config
from gantui.engine.data.base import DataInfo
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError
from gantui.engine.prepare import prepare_run
from gantui.engine.run.tails import load_metrics
from gantui.engine.run.writer import RunDir
from gantui.engine.trainer import train


def small_run(tmp_path, **options):
    values = {"steps": 6, "log_every": 3, "sample_every": 3, "checkpoint_every": 6, "device": "cpu",
              "batch_size": 16, "runs_dir": str(tmp_path), **options}
    return prepare_run(resolve_config("mnist", "mlp", **values))


def events_of(run_path):
    return [json.loads(line) for line in (run_path / "events.jsonl").read_text().splitlines()]


def test_bf16_autocast_on_cpu_trains_with_finite_losses(tmp_path):
    prepared = small_run(tmp_path, amp="bf16")
    assert train(prepared) == "finished"
    frame = load_metrics(prepared.path / "metrics.csv")
    assert np.isfinite(frame[["loss_d", "loss_g", "d_real", "d_fake"]].to_numpy()).all()
    assert json.loads((prepared.path / "config.json").read_text())["precision"] == "bf16"
    assert frame["skipped_steps"].isna().all()  # only fp16 has a GradScaler that can skip


def test_fp16_counts_the_steps_the_scaler_skipped(tmp_path, monkeypatch):
    real_init = torch.amp.GradScaler.__init__

    def huge_scale(self, *args, **kwargs):  # fp16 gradients times 2**60 overflow: the first steps are skipped
        real_init(self, *args, **{**kwargs, "init_scale": 2.0 ** 60})

    monkeypatch.setattr(torch.amp.GradScaler, "__init__", huge_scale)
    prepared = small_run(tmp_path, amp="fp16")
    assert train(prepared) == "finished"
    skipped = load_metrics(prepared.path / "metrics.csv")["skipped_steps"].to_numpy()
    assert skipped[0] == 3 and (skipped >= 0).all()  # the scale halves each skipped step, 2**60 → 2**57


def test_auto_precision_is_off_on_cpu_and_amp_errors_are_one_line(tmp_path):
    assert acceleration.resolve_amp("auto", torch.device("cpu")) == "off"
    assert acceleration.resolve_amp("fp16", torch.device("cpu")) == "fp16"
    with pytest.raises(UserError, match=r"^unknown --amp 'fp8'; choose one of auto, off, bf16, fp16$"):
        resolve_config("mnist", "mlp", amp="fp8")
    result = subprocess.run([sys.executable, "-m", "gantui", "train", "--amp", "fp8", "--steps", "1"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--amp" in result.stderr


def test_compile_refused_warns_and_trains_eagerly(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("no compiler here\nsecond line")

    monkeypatch.setattr(torch, "compile", refuse)
    prepared = small_run(tmp_path, compile=True)
    assert train(prepared) == "finished"
    warnings = [e["message"] for e in events_of(prepared.path) if e["event"] == "warning"]
    assert warnings == ["--compile failed (RuntimeError: no compiler here); training without it"]
    assert "--compile" in config_to_args(prepared.config)


def test_compile_failing_on_the_first_step_falls_back_to_eager(tmp_path, monkeypatch):
    class BrokenCompiled(torch.nn.Module):  # what a compiler that fails while tracing looks like
        def forward(self, *args):
            raise RuntimeError("backend exploded")

    monkeypatch.setattr(torch, "compile", lambda module: BrokenCompiled())
    prepared = small_run(tmp_path, compile=True)
    assert train(prepared) == "finished"
    events = events_of(prepared.path)
    assert [e["step"] for e in events if e["event"] == "warning" and "backend exploded" in e["message"]] == [1]
    assert list(load_metrics(prepared.path / "metrics.csv")["step"]) == [3, 6]


def test_in_memory_source_keeps_uint8_on_the_device_and_yields_unit_floats():
    pixels = torch.arange(40 * 16, dtype=torch.int64).remainder(256).to(torch.uint8).reshape(40, 1, 4, 4)
    source = TensorSource(pixels, torch.arange(40) % 10, DataInfo("tiny", "image", (1, 4, 4), num_classes=10))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = list(source.epoch(8, device, torch.Generator().manual_seed(0)))
    held, _ = source._copy_on(device)
    assert held.dtype == torch.uint8 and held.device.type == device.type  # 1 byte a pixel where it trains
    assert len(batches) == 5
    seen = torch.cat([images for images, _ in batches]).cpu()
    assert seen.dtype == torch.float32 and 0.0 <= seen.min() and seen.max() <= 1.0
    restored = sorted(map(tuple, (seen * 255).round().to(torch.uint8).reshape(40, -1).tolist()))
    assert restored == sorted(map(tuple, pixels.reshape(40, -1).tolist()))  # every sample once, exactly


def test_sample_pictures_are_written_off_the_training_thread_and_complete_at_the_end(tmp_path, monkeypatch):
    writers = []
    real_write = RunDir.write_sample_grid

    def recording(self, step, image, layout=None):
        writers.append(threading.current_thread().name)
        return real_write(self, step, image, layout)

    monkeypatch.setattr(RunDir, "write_sample_grid", recording)
    prepared = small_run(tmp_path, steps=8, sample_every=2)
    assert train(prepared) == "finished"
    samples = prepared.path / "samples"
    assert sorted(p.name for p in samples.glob("step-*.png")) == [f"step-{s}.png" for s in (0, 2, 4, 6, 8)]
    assert (samples / "latest.png").read_bytes() == (samples / "step-8.png").read_bytes()
    assert set(writers) == {"gantui-writer"}
    assert json.loads((prepared.path / "status.json").read_text())["state"] == "finished"


@pytest.mark.parametrize("arch, joint", [("mlp", True), ("cgan", True), ("dcgan28", False)])
def test_discriminator_sees_real_and_fake_in_one_pass_only_without_batchnorm(tmp_path, arch, joint):
    from gantui.engine.control import RunControl
    from gantui.engine.samples import from_unit_range
    from gantui.engine.trainer import Trainer

    def one_step(joint_d: bool, folder: str):
        prepared = prepare_run(resolve_config("mnist", arch, steps=2, device="cpu", batch_size=8, eval_every=0,
                                              runs_dir=str(tmp_path / folder)))
        trainer = Trainer(prepared, (), RunControl())
        try:
            gan = trainer.gan
            assert gan.joint_d is joint  # BatchNorm mixes the samples of a batch: never joined
            gan.joint_d = joint_d
            real, labels = next(iter(prepared.source.epoch(8, torch.device("cpu"), torch.Generator().manual_seed(0))))
            real = from_unit_range(real, prepared.arch.output_range)
            result = gan.train_step(real, labels, measure_norms=True)
            values = torch.stack([result.loss_d, result.loss_g, result.d_real, result.d_fake, result.grad_norm_d,
                                  result.grad_norm_g, result.skipped])
            assert all(p.requires_grad for p in gan.discriminator.parameters())  # unfrozen after the G phase
            return values, [p.detach().clone() for p in gan.generator.parameters()]
        finally:
            trainer.writer.close()

    (joined, g_joined), (separate, g_separate) = one_step(True, "a"), one_step(False, "b")
    if not joint:  # and with BatchNorm, joining would indeed change the step
        assert not torch.allclose(joined, separate, rtol=1e-4, atol=1e-5)
        return
    assert torch.allclose(joined, separate, rtol=1e-4, atol=1e-5)  # the same losses, D outputs and norms
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(g_joined, g_separate, strict=True))
