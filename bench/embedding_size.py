"""docs/quality.md's MNIST check of the random embedding's input size: 28×28 digits embedded at their own size
against enlarged to 32×32, on the same reference, degradations and timing, in one process.

    python -m bench.embedding_size [--repeats 5]

Prints one line per (size, degradation): FID, precision, recall, density and coverage in the random
embedding; and per size the median seconds to embed 1,000 digits on one thread.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from gantui.engine.data import load_dataset
from gantui.engine.quality import embedding
from gantui.engine.quality.evaluator import RandomReference

CPU = torch.device("cpu")


def blurred(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of σ pixels."""
    size = int(2 * round(3 * sigma) + 1)
    taps = torch.exp(-(torch.arange(size) - size // 2).float() ** 2 / (2 * sigma * sigma))
    taps /= taps.sum()
    images = F.conv2d(images, taps.view(1, 1, 1, size), padding=(0, size // 2))
    return F.conv2d(images, taps.view(1, 1, size, 1), padding=(size // 2, 0))


def at_side(model: embedding.RandomEmbedding, side: int):
    """`model`'s features of grey pictures resized to side × side (what `prepare` does for one size)."""
    def features(images: torch.Tensor) -> torch.Tensor:
        images = images.float().expand(-1, 3, -1, -1)
        if images.shape[-1] != side:
            images = F.interpolate(images, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
        return model.features((images - 0.5) / 0.5)
    return features


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    mnist = load_dataset("mnist")
    order = torch.randperm(len(mnist.samples), generator=torch.Generator().manual_seed(0))
    digits, labels = mnist.samples[order].float() / 255, mnist.labels[order]
    real, other = digits[:2000], digits[2000:3000]
    noise = torch.Generator().manual_seed(1)
    cases = {"other real": other, "blur 0.5": blurred(other, 0.5), "blur 1": blurred(other, 1.0),
             "blur 2": blurred(other, 2.0),
             "noise 0.05": (other + 0.05 * torch.randn(other.shape, generator=noise)).clamp(0, 1),
             "noise 0.1": (other + 0.1 * torch.randn(other.shape, generator=noise)).clamp(0, 1),
             "one repeated": other[:1].expand(1000, -1, -1, -1).clone(),
             "digits 0-4 only": digits[2000:6000][labels[2000:6000] < 5][:1000],
             "uniform noise": torch.rand(other.shape, generator=noise)}
    model = embedding.RandomEmbedding()
    for side in (32, 28):
        model.forward = at_side(model, side)
        reference = RandomReference(embedding.embed(model, real, CPU), 1000)
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            embedding.embed(model, other, CPU)
            seconds.append(time.perf_counter() - start)
        print(f"{side}x{side}: embedding 1,000 digits takes {statistics.median(seconds):.3f} s (median)")
        for name, images in cases.items():
            row = reference.measure(model, images, CPU)
            print(f"  {name:16s} FID {row['fid_rand']:8.2f}  P {row['precision_rand']:.2f}  R {row['recall_rand']:.2f}"
                  f"  D {row['density_rand']:.2f}  C {row['coverage_rand']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
