"""The random embedding's global pool, probed: would max pooling see what average pooling misses?

    python -m bench.embedding_pooling RUN_FOLDER   # a run on `shapes`, with a checkpoint

Embeds 1,000 samples of the run's last generator, and 2,000 real `shapes` pictures, in gantui's random
embedding with its average pool, with a max pool, and with both side by side. For each, it prints FID and
precision, recall, density and coverage (k = 5) against the first 1,000 real pictures. It does the same for
the other 1,000 real pictures, which should read about 1. docs/quality.md quotes its output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from gantui.engine.data.shapes import draw_shapes
from gantui.engine.generate import load_generator
from gantui.engine.quality import embedding
from gantui.engine.quality.evaluator import RandomReference
from gantui.engine.samples import to_unit_range

CPU = torch.device("cpu")


class Pooled(nn.Module):
    """gantui's random conv blocks (the same weights), then the chosen global pools, concatenated."""

    def __init__(self, pools: tuple[str, ...]) -> None:
        super().__init__()
        self.body, self.pools = embedding.RandomEmbedding().net[:-2], pools

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.body(embedding.prepare(images))
        pooled = {"average": maps.mean((2, 3)), "max": maps.amax((2, 3))}
        return torch.cat([pooled[pool] for pool in self.pools], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    loaded = load_generator(args.run)
    with torch.no_grad():
        fake = torch.cat([to_unit_range(loaded.generator(torch.randn(250, loaded.config.latent_dim,
                                                                     generator=torch.Generator().manual_seed(i))),
                                        loaded.arch.output_range) for i in range(4)])
    pictures, _ = draw_shapes(2000)
    real = torch.from_numpy(pictures).float() / 255
    print(f"generator of step {loaded.step}")
    for pools in (("average",), ("max",), ("average", "max")):
        model = Pooled(pools)  # gantui's reference (centred, scaled, k-NN) on these features; no cache
        reference = RandomReference(embedding.embed(model, real[:1000], CPU), samples=1000)
        for name, pictures_ in (("real", real[1000:]), ("generated", fake)):
            row = reference.measure(model, pictures_, CPU)
            print(f"{' + '.join(pools):>13} {name:>9}: FID {row['fid_rand']:6.1f}  P {row['precision_rand']:.2f}  "
                  f"R {row['recall_rand']:.2f}  D {row['density_rand']:.2f}  C {row['coverage_rand']:.2f}")

if __name__ == "__main__":
    main()
