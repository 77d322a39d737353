"""Figure 2's in-process check: gantui's step (`GanStep.train_step`, summed by the trainer's `IntervalMeter`)
against the step of bench/bare_loop.py (the pytorch/examples body: two D backward passes, five `.item()`, a
printed line), on copies of the same networks and the same batch, alternating blocks of steps in one process
so that drift on a shared machine hits both.

    python -m bench.step_ab --arch dcgan28 [--device cpu] [--blocks 6] [--seconds 1]

Prints one JSON line: the seconds per step of each and the bare/gantui ratio (> 1: gantui is faster).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from bench.peak import synchronize, trainer_for
from gantui.engine.samples import from_unit_range


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mlp")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one block of one side")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory(prefix="gantui-step-ab-") as folder:
        trainer, batch = trainer_for(args.arch, device, Path(folder))
        try:
            real, labels = next(iter(trainer.run.source.epoch(batch, device, torch.Generator().manual_seed(0))))
            real = from_unit_range(real, trainer.run.arch.output_range)
            config = trainer.config
            netG, netD = copy.deepcopy(trainer.gan.generator), copy.deepcopy(trainer.gan.discriminator)
            optimizerD = torch.optim.Adam(netD.parameters(), lr=config.lr, betas=config.betas)
            optimizerG = torch.optim.Adam(netG.parameters(), lr=config.lr, betas=config.betas)
            criterion = nn.BCEWithLogitsLoss()
            log = open(os.devnull, "w")

            def bare() -> None:
                netD.zero_grad()
                label = torch.full((batch,), 1.0, device=device)
                output = netD(real)
                errD_real = criterion(output, label)
                errD_real.backward()
                D_x = output.sigmoid().mean().item()
                fake = netG(torch.randn(batch, config.latent_dim, device=device))
                label.fill_(0.0)
                output = netD(fake.detach())
                errD_fake = criterion(output, label)
                errD_fake.backward()
                D_G_z1 = output.sigmoid().mean().item()
                optimizerD.step()
                netG.zero_grad()
                label.fill_(1.0)
                output = netD(fake)
                errG = criterion(output, label)
                errG.backward()
                D_G_z2 = output.sigmoid().mean().item()
                optimizerG.step()
                print(f"Loss_D: {(errD_real + errD_fake).item():.4f} Loss_G: {errG.item():.4f} "
                      f"D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}", file=log)

            def ours() -> None:
                trainer.meter.add(trainer.gan.train_step(real, labels, measure_norms=False), batch)

            for step in (bare, ours, bare, ours):  # warm-up
                step()
            synchronize(device)
            start = time.perf_counter()
            bare()
            synchronize(device)
            steps = max(1, int(args.seconds / (time.perf_counter() - start)))
            totals = {"bare": 0.0, "gantui": 0.0}
            for _ in range(args.blocks):
                for name, step in (("bare", bare), ("gantui", ours)):
                    synchronize(device)
                    start = time.perf_counter()
                    for _ in range(steps):
                        step()
                    if name == "gantui":
                        trainer.meter.flush(steps, 0)  # gantui's one sync per interval
                    synchronize(device)
                    totals[name] += time.perf_counter() - start
        finally:
            trainer.writer.close()
    per_step = {name: total / (steps * args.blocks) for name, total in totals.items()}
    print(json.dumps({"arch": args.arch, "batch": batch, "steps_per_block": steps, "blocks": args.blocks,
                      "bare_s": per_step["bare"], "gantui_s": per_step["gantui"],
                      "ratio": per_step["bare"] / per_step["gantui"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
