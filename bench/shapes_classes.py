"""Which shape a run's sample grids show, by a LeNet trained on real shapes: docs/quality.md's check of
whether a classifier could tell the outlines the random embedding does not.

    python -m bench.shapes_classes RUN/samples/step-11600.png [...]

Trains gantui's quality classifier (three channels, 30 epochs, capped at its 2,500 steps) on the 6,000 real
shapes, prints its held-out accuracy, then for each 8×8 grid of 64×64 samples (torchvision's layout, 2 px
padding) how many tiles it calls circle, square and triangle, and the share it gives a probability above 0.9.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gantui.engine.data.shapes import CLASS_NAMES, DEFAULT_SIZE, draw_shapes
from gantui.engine.quality.classifier import train_classifier

PADDING, COLUMNS = 2, 8  # torchvision.utils.make_grid's, as the trainer saves samples
EPOCHS = 30  # the MNIST recipe's 3 epochs reach 60% on shapes


def tiles(path: Path, side: int = DEFAULT_SIZE) -> torch.Tensor:
    """The grid's pictures (N, 3, side, side) in unit range, row by row."""
    grid = np.asarray(Image.open(path).convert("RGB"))
    rows = (grid.shape[0] - PADDING) // (side + PADDING)
    corners = [(PADDING + row * (side + PADDING), PADDING + column * (side + PADDING))
               for row in range(rows) for column in range(COLUMNS)]
    stacked = np.stack([grid[top:top + side, left:left + side] for top, left in corners])
    return torch.from_numpy(stacked).permute(0, 3, 1, 2).float() / 255


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grids", nargs="+", type=Path)
    args = parser.parse_args(argv)
    pictures, kinds = draw_shapes()
    model, accuracy, holdout, seconds = train_classifier(torch.from_numpy(pictures), torch.from_numpy(kinds),
                                                         len(CLASS_NAMES), epochs=EPOCHS)
    print(f"held-out accuracy {accuracy:.3f} on {holdout} real pictures (trained in {seconds:.0f} s)")
    with torch.no_grad():
        for path in args.grids:
            probabilities = model(tiles(path)).softmax(1)
            counts = np.bincount(probabilities.argmax(1).numpy(), minlength=len(CLASS_NAMES))
            sure = float((probabilities.max(1).values > 0.9).float().mean())
            named = ", ".join(f"{count} {name}s" for name, count in zip(CLASS_NAMES, counts.tolist(), strict=True))
            print(f"{path.name}: {named}; {sure:.0%} with a probability above 0.9")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
