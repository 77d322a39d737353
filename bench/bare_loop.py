"""A plain PyTorch GAN loop written as pytorch/examples dcgan/main.py writes it - five host syncs a step
(`.item()`), a progress line printed every step, sample images saved every 100 steps - with gantui's own
model objects, the architecture's loss (BCE on D's logits), optimiser (torch.optim.Adam, the example's
defaults otherwise) and hyper-parameters, on the same data and device.

    python -m bench.bare_loop --arch dcgan28 --steps 40 --warmup 10 [--batch-size N] [--device cpu]

The data is handed to it in the cheapest plain form (the whole set as one float tensor on the device, a
random permutation per epoch), so the comparison is about the training loop, not data loading. Prints one
JSON line: samples/s over the steps after the warm-up (wall time, synced at the end on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
import torchvision.utils as vutils
from torch import nn

from gantui.engine.data import load_dataset
from gantui.engine.models import build_models, get_arch

DATASETS = {"mlp": "mnist", "dcgan28": "mnist", "dcgan64": "shapes"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mlp", choices=sorted(DATASETS))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    opt = parser.parse_args(argv)

    spec = get_arch(opt.arch)
    defaults = spec.defaults
    batch_size = opt.batch_size or defaults.batch_size
    device = torch.device(opt.device)
    torch.manual_seed(opt.seed)
    source = load_dataset(DATASETS[opt.arch], None, image_size=spec.image_size)
    data = source.samples.to(device).float().div_(255.0)
    if spec.output_range == "symmetric":  # the example's Normalize((0.5,), (0.5,))
        data = data * 2 - 1
    netG, netD = build_models(opt.arch, source.info, defaults.latent_dim)
    netG, netD = netG.to(device), netD.to(device)
    nz = defaults.latent_dim

    criterion = nn.BCEWithLogitsLoss()  # gantui's D returns logits; the example's Sigmoid + BCELoss
    fixed_noise = torch.randn(64, nz, device=device)
    real_label, fake_label = 1, 0
    optimizerD = torch.optim.Adam(netD.parameters(), lr=defaults.lr, betas=defaults.betas)
    optimizerG = torch.optim.Adam(netG.parameters(), lr=defaults.lr, betas=defaults.betas)
    outf = Path(tempfile.mkdtemp(prefix="bare-loop-"))
    log = open(os.devnull, "w")  # the example prints to the terminal every step

    step, start = 0, 0.0
    while step < opt.steps:
        order = torch.randperm(len(data), device=device)
        for i in range(len(data) // batch_size):
            if step == opt.warmup:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
            if step == opt.steps:
                break
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = data[order[i * batch_size:(i + 1) * batch_size]]
            batch = real_cpu.size(0)
            label = torch.full((batch,), real_label, dtype=real_cpu.dtype, device=device)

            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.sigmoid().mean().item()

            # train with fake
            noise = torch.randn(batch, nz, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.sigmoid().mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.sigmoid().mean().item()
            optimizerG.step()

            print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'  # noqa: UP031
                  % (step, opt.steps, i, len(data) // batch_size,
                     errD.item(), errG.item(), D_x, D_G_z1, D_G_z2), file=log)
            if i % 100 == 0:
                vutils.save_image(real_cpu, '%s/real_samples.png' % outf, normalize=True)  # noqa: UP031
                fake = netG(fixed_noise)
                vutils.save_image(fake.detach(), '%s/fake_%03d.png' % (outf, step // 100),  # noqa: UP031
                                  normalize=True)
            step += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    samples = (opt.steps - opt.warmup) * batch_size
    print(json.dumps({"samples_per_s": samples / seconds, "steps": opt.steps - opt.warmup, "seconds": seconds,
                      "batch_size": batch_size}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
