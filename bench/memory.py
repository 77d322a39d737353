"""Figure 6, memory: what training `mlp` and `conv` on the same colour pictures (shapes, 128×128) costs, each in
a fresh process: the growth of peak resident memory (CPU) from just before the networks are built to after a
few training steps, and the peak of allocated GPU memory (CUDA).

    python -m bench.memory --arch conv --device cpu [--batch-size 1] [--steps 3]

Prints one JSON line. The tutorial (seed 003) reports the conv GAN needing about 20% of the MLP GAN's GPU
memory, with one 128×128 face (the MLP: 218×178) per step; batch 1 is its setting.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
from pathlib import Path

import psutil
import torch

from gantui.engine.config import resolve_config
from gantui.engine.control import RunControl
from gantui.engine.data.shapes import load_shapes
from gantui.engine.models import build_models, count_parameters, get_arch
from gantui.engine.prepare import PreparedRun
from gantui.engine.samples import from_unit_range
from gantui.engine.trainer import Trainer


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=["mlp", "conv"], required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    source = load_shapes(None, 128, False, count=64)
    with tempfile.TemporaryDirectory(prefix="gantui-memory-") as folder:
        config = resolve_config("shapes", args.arch, image_size=128, device=args.device, batch_size=args.batch_size,
                                steps=args.steps, eval_every=0, runs_dir=folder)
        batches = source.epoch(args.batch_size, device, torch.Generator().manual_seed(0))
        real, labels = next(iter(batches))
        real = from_unit_range(real, get_arch(args.arch).output_range)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            gpu_before = torch.cuda.memory_allocated(device)
        rss_before = psutil.Process().memory_info().rss
        torch.manual_seed(0)
        generator, discriminator = build_models(args.arch, source.info, config.latent_dim)
        run = PreparedRun(config, Path(folder) / "run", source, get_arch(args.arch), generator.to(device),
                          discriminator.to(device), device)
        trainer = Trainer(run, (), RunControl())
        try:
            for _ in range(args.steps):
                trainer.gan.train_step(real, labels, measure_norms=False).loss_d.item()  # each step completes
        finally:
            trainer.writer.close()
        result = {"arch": args.arch, "device": args.device, "batch_size": args.batch_size,
                  "parameters": count_parameters(generator) + count_parameters(discriminator),
                  "peak_rss_growth": peak_rss() - rss_before, "precision": trainer.gan.amp}
        if device.type == "cuda":
            result["gpu_peak_growth"] = torch.cuda.max_memory_allocated(device) - gpu_before
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
