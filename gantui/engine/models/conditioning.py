"""How the conditional models (cgan, cdcgan) take a label: as its one-hot vector, joined to their input."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def one_hot(labels: Tensor | None, num_classes: int, network: str, dtype: torch.dtype) -> Tensor:
    """(B, num_classes) one-hot rows in `dtype`; ValueError when the conditional `network` got no labels."""
    if labels is None:
        raise ValueError(f"the conditional {network} needs labels")
    return F.one_hot(labels, num_classes).to(dtype)


def append_one_hot(values: Tensor, labels: Tensor | None, num_classes: int, network: str) -> Tensor:
    """(B, N) `values` with the label's one-hot vector appended; unchanged for an unconditional network."""
    if num_classes <= 0:
        return values
    return torch.cat([values, one_hot(labels, num_classes, network, values.dtype)], dim=1)
