"""What the random embedding sees of the shapes' outlines: docs/quality.md's check that recall and coverage on
`shapes` measure colours, places, sizes and edges but not whether a shape is a circle, a square or a triangle.

    python -m bench.embedding_outlines

Against 2,000 real shapes (a run's reference), 1,000 pictures each: other real shapes; the same pictures with
every shape drawn as a circle (same colours, centre, radius); only the circles of the data (one class of
three). Prints FID, KID, precision, recall, density and coverage in the random embedding for each.
"""

from __future__ import annotations

import torch

from gantui.engine.data.shapes import DISTANCES, draw_shapes
from gantui.engine.events import EMBEDDING_COLUMNS
from gantui.engine.quality import embedding
from gantui.engine.quality.evaluator import RandomReference

CPU = torch.device("cpu")
REFERENCE, COUNT = 2000, 1000


def pictures(count: int, start: int, outlines: tuple = DISTANCES) -> tuple[torch.Tensor, torch.Tensor]:
    """The last `count` of `start + count` pictures drawn from the data's seed (unit range), and their classes.
    The same arguments give the same pictures, whatever the outlines."""
    drawn, kinds = draw_shapes(start + count, outlines=outlines)
    return torch.from_numpy(drawn[start:]).float() / 255, torch.from_numpy(kinds[start:])


def main() -> int:
    torch.manual_seed(0)  # KID's random subsets (a run seeds them the same way): the same table every time
    model = embedding.RandomEmbedding()
    reference = RandomReference(embedding.embed(model, pictures(REFERENCE, 0)[0], CPU), COUNT)
    others, _ = pictures(COUNT, REFERENCE)
    circles, _ = pictures(COUNT, REFERENCE, outlines=(DISTANCES[0],) * len(DISTANCES))  # `others`, redrawn
    many, kinds = pictures(4 * COUNT, REFERENCE)  # enough to hold COUNT circles
    cases = {"other real shapes": others, "every shape drawn as a circle": circles,
             "only the circles (one class of three)": many[kinds == 0][:COUNT]}
    print("| generated | FID rand | KID rand | precision | recall | density | coverage |")
    print("|---" * 7 + "|")
    for name, generated in cases.items():
        row = reference.measure(model, generated, CPU)
        cells = [f"{row[key]:.2f}" for key in EMBEDDING_COLUMNS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
