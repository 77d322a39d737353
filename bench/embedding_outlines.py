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
from gantui.engine.quality import embedding
from gantui.engine.quality.evaluator import RandomReference

CPU = torch.device("cpu")
REFERENCE, COUNT = 2000, 1000


def pictures(count: int, start: int, outlines: tuple = DISTANCES) -> tuple[torch.Tensor, torch.Tensor]:
    """Pictures `start`…`start + count` of the data's stream (unit range) and their classes."""
    drawn, kinds = draw_shapes(start + count, outlines=outlines)
    return torch.from_numpy(drawn[start:]).float() / 255, torch.from_numpy(kinds[start:])


def main() -> int:
    model = embedding.RandomEmbedding()
    reference = RandomReference(embedding.embed(model, pictures(REFERENCE, 0)[0], CPU), COUNT)
    others, _ = pictures(COUNT, REFERENCE)
    circles, _ = pictures(COUNT, REFERENCE, outlines=(DISTANCES[0],) * len(DISTANCES))
    many, kinds = pictures(4 * COUNT, REFERENCE)
    cases = {"other real shapes": others, "every shape drawn as a circle": circles,
             "only the circles (one class of three)": many[kinds == 0][:COUNT]}
    print("| generated | FID rand | KID rand | precision | recall | density | coverage |")
    print("|---" * 7 + "|")
    for name, generated in cases.items():
        row = reference.measure(model, generated, CPU)
        cells = [f"{row[key]:.2f}" for key in ("fid_rand", "kid_rand", "precision_rand", "recall_rand",
                                              "density_rand", "coverage_rand")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
