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
from gantui.engine.quality import embedding, metrics
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
        model = Pooled(pools)
        reference = embedding.embed(model, real[:1000], CPU)
        mean, scale = reference.mean(0), 1.0 / reference.std(0).mean()
        reference = (reference - mean) * scale
        for name, pictures_ in (("real", real[1000:]), ("generated", fake)):
            features = (embedding.embed(model, pictures_, CPU) - mean) * scale
            scores = metrics.manifold_scores(reference, features)
            print(f"{' + '.join(pools):>13} {name:>9}: FID {metrics.frechet_distance(reference, features):6.1f}  "
                  f"P {scores.precision:.2f}  R {scores.recall:.2f}  D {scores.density:.2f}  C {scores.coverage:.2f}")


if __name__ == "__main__":
    main()
