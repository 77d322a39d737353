"""The random embedding's two branches, apart and together, on a `shapes` run: what does each one see?

    python -m bench.embedding_branches RUN_FOLDER [--best]   # a run on `shapes`, with a checkpoint

Embeds 1,000 samples of the run's last generator (or of best.pt), and 2,000 real `shapes` pictures, in
gantui's random embedding, and prints FID and precision, recall, density and coverage (k = 5) against the
first 1,000 real pictures: in the colour branch alone, in the edges branch alone, and in both (what gantui
measures). It does the same for the other 1,000 real pictures, which should read about 1, and for those
pictures painted over with their background colour (the right backgrounds, no shapes). docs/quality.md
quotes its output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from gantui.engine.data.shapes import backgrounds_only, draw_shapes
from gantui.engine.generate import generate, load_generator
from gantui.engine.quality import embedding
from gantui.engine.quality.evaluator import RandomReference
from gantui.engine.run.layout import RunLayout
from gantui.engine.samples import to_unit_range

CPU = torch.device("cpu")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--best", action="store_true", help="the generator of checkpoints/best.pt")
    args = parser.parse_args(argv)
    loaded = load_generator(args.run, checkpoint=RunLayout(args.run).best_checkpoint if args.best else None)
    fake = to_unit_range(generate(loaded, 1000), loaded.arch.output_range)
    pictures, _ = draw_shapes(2000)
    real = torch.from_numpy(pictures).float() / 255
    model = embedding.RandomEmbedding()
    print(f"generator of step {loaded.step}")
    cases = {"real": real[1000:], "generated": fake, "backgrounds": backgrounds_only(real[1000:])}
    features = {name: embedding.embed(model, pictures, CPU) for name, pictures in (("reference", real[:1000]),
                                                                                   *cases.items())}
    width = embedding.FEATURE_GROUPS[0]
    parts = {"colour": (slice(0, width), (width,)), "edges": (slice(width, None), (width,)),
             "both": (slice(None), embedding.FEATURE_GROUPS)}
    for branch, (columns, groups) in parts.items():
        reference = RandomReference(features["reference"][:, columns], samples=1000, groups=groups)
        for name in cases:
            row = reference.measure_features(features[name][:, columns])
            print(f"{branch:>6} {name:>11}: FID {row['fid_rand']:6.1f}  P {row['precision_rand']:.2f}  "
                  f"R {row['recall_rand']:.2f}  D {row['density_rand']:.2f}  C {row['coverage_rand']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
