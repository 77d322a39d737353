"""Figure 4, fraction of peak: FLOP/s of gantui's training step (GanStep.train_step, FLOPs counted by
torch.utils.flop_counter.FlopCounterMode on one step: matmuls and convolutions, forward and backward) against
the best FLOP/s of a large square matmul (and of a large convolution) in the same dtype on the same device.

    python -m bench.peak --device cpu [--seconds 2]

Prints one JSON line: the peak and, per architecture, FLOPs per step, seconds per step and the fraction.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from gantui.engine.acceleration import resolve_amp
from gantui.engine.config import resolve_config
from gantui.engine.control import RunControl
from gantui.engine.data import load_dataset
from gantui.engine.data.base import DataInfo
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.models import ARCHS, build_models
from gantui.engine.prepare import PreparedRun
from gantui.engine.samples import from_unit_range
from gantui.engine.trainer import Trainer

# The pictures each architecture trains on (C, H, W); the toy architectures use their own toy data.
IMAGE_SHAPES = {"mlp": (1, 28, 28), "dcgan28": (1, 28, 28), "cgan": (1, 28, 28), "cdcgan": (1, 28, 28),
                "conv": (3, 128, 128), "dcgan64": (3, 64, 64)}
# On a CPU the tutorials' GPU batches take seconds a step; these keep the figure to a few seconds each.
CPU_BATCH = {"conv": 2, "dcgan64": 16}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, dtype: torch.dtype, size: int, repeats: int = 5) -> float:
    """Best FLOP/s of an n×n by n×n matmul (2n³ FLOPs) over a few tries."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    a @ b
    best = 0.0
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        inner = 10 if device.type == "cuda" else 1
        for _ in range(inner):
            a @ b
        synchronize(device)
        best = max(best, inner * 2 * size**3 / (time.perf_counter() - start))
    return best


def conv_peak(device: torch.device, dtype: torch.dtype, repeats: int = 5) -> float:
    """Best FLOP/s of a large 3×3 convolution (256 → 256 channels, 32×32, batch 16: 19 GFLOP) - on CPUs
    whose BLAS is slower than oneDNN's convolutions, the matmul alone would understate the peak."""
    batch = 16 if device.type == "cpu" else 256
    x = torch.randn(batch, 256, 32, 32, device=device).to(dtype)
    w = torch.randn(256, 256, 3, 3, device=device).to(dtype)
    flops = 2 * batch * 256 * 256 * 9 * 32 * 32
    torch.nn.functional.conv2d(x, w, padding=1)
    best = 0.0
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        torch.nn.functional.conv2d(x, w, padding=1)
        synchronize(device)
        best = max(best, flops / (time.perf_counter() - start))
    return best


def peak(device: torch.device, dtype: torch.dtype) -> dict[str, float]:
    matmul = matmul_peak(device, dtype, 8192 if device.type == "cuda" else 2048, repeats=10)
    return {"matmul": matmul, "conv": conv_peak(device, dtype)}


def trainer_for(arch: str, device: torch.device, root: Path) -> tuple[Trainer, int]:
    """A gantui Trainer for `arch` (its defaults; CPU batches capped) on data of the right shape."""
    spec = ARCHS[arch]
    batch = spec.defaults.batch_size if device.type == "cuda" else CPU_BATCH.get(arch, spec.defaults.batch_size)
    if spec.takes_images:
        shape = IMAGE_SHAPES[arch]
        info = DataInfo("synthetic", "image", shape, num_classes=10, size=1024)
        pixels = torch.randint(0, 256, (max(4 * batch, 64), *shape), dtype=torch.uint8)
        source = TensorSource(pixels, torch.arange(len(pixels)) % 10, info)
        dataset = "mnist"
    else:
        dataset = spec.default_dataset
        source = load_dataset(dataset, None)
    config = resolve_config(dataset, arch, device=str(device), batch_size=batch, steps=10_000, eval_every=0,
                            runs_dir=str(root))
    torch.manual_seed(0)
    generator, discriminator = build_models(arch, source.info, config.latent_dim)
    run = PreparedRun(config, root / arch, source, spec, generator.to(device), discriminator.to(device), device)
    return Trainer(run, (), RunControl()), batch


def measure(arch: str, device: torch.device, seconds: float, root: Path) -> dict:
    trainer, batch = trainer_for(arch, device, root)
    try:
        batches = trainer.run.source.epoch(batch, device, torch.Generator().manual_seed(0))
        real, labels = next(iter(batches))
        if trainer.info.is_image:
            real = from_unit_range(real, trainer.run.arch.output_range)
        gan, meter = trainer.gan, trainer.meter
        gan.train_step(real, labels, measure_norms=False)  # warm-up (allocator, cuDNN's search)
        with FlopCounterMode(display=False) as counter:
            gan.train_step(real, labels, measure_norms=False)
        flops = counter.get_total_flops()
        synchronize(device)
        start = time.perf_counter()
        gan.train_step(real, labels, measure_norms=False)
        synchronize(device)
        once = time.perf_counter() - start
        steps = max(2, min(500, int(seconds / max(once, 1e-6))))
        start = time.perf_counter()
        meter.restart()
        for _ in range(steps):
            meter.add(gan.train_step(real, labels, measure_norms=False), batch)
        meter.flush(steps, 0)  # the one sync, as the trainer's log interval
        per_step = (time.perf_counter() - start) / steps
    finally:
        trainer.writer.close()
    return {"arch": arch, "batch": batch, "flops_per_step": flops, "seconds_per_step": per_step,
            "flops_per_s": flops / per_step, "precision": trainer.gan.amp, "steps_timed": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per architecture (default 2 s)")
    parser.add_argument("--archs", default=",".join(ARCHS))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    precision = resolve_amp(resolve_config("mnist", "mlp", device=args.device).amp, device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    before = peak(device, dtype)
    results = []
    with tempfile.TemporaryDirectory(prefix="gantui-peak-") as folder:
        for arch in args.archs.split(","):
            results.append(measure(arch, device, args.seconds, Path(folder)))
    # the best of before and after: a busy moment on a shared machine must not lower the peak
    after = peak(device, dtype)
    kinds = {kind: max(before[kind], after[kind]) for kind in before}
    peaks = {precision: max(kinds.values())}
    for result in results:
        result["peak_flops_per_s"] = peaks[result["precision"]]
        result["fraction"] = result["flops_per_s"] / result["peak_flops_per_s"]
    print(json.dumps({"device": str(device), "peaks": peaks, "peak_kinds": kinds, "archs": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
