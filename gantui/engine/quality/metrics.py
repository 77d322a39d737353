"""Quality metrics of generated samples: plain functions of tensors, each returning a float.

FID and KID come from torchmetrics, in a feature space computed once per evaluation and handed to
torchmetrics through an identity extractor: the dataset's own classifier (classifier.py: FID, KID, the
Inception Score and the class histogram share one forward pass) or the fixed random CNN (embedding.py),
where precision, recall, density and coverage are also measured (`manifold_scores`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

COVERAGE_MIN_SHARE = 0.02  # a class counts as covered when it holds at least 2% of the samples
DUPLICATE_FRACTION = 0.1  # near-duplicate: nearest other sample closer than 10% of the real mean distance
DIVERSITY_SIZE = 32  # pictures are pooled to at most 32×32 before pixel distances are taken
KID_SUBSETS = 10
KID_SUBSET_SIZE = 500
NEAREST_K = 5  # precision, recall, density, coverage: radius = distance to the 5th nearest neighbour (Naeem 2020)


class _Precomputed(nn.Module):
    """The 'feature extractor' torchmetrics calls: the features were already extracted."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


class FeatureDistances:
    """FID and KID of generated features against a fixed real reference, set once.

    The real statistics are kept across evaluations (reset_real_features=False): each `compute` only
    feeds the generated side.
    """

    def __init__(self, real_features: torch.Tensor) -> None:
        real_features = real_features.detach().float().cpu()
        dim = real_features.shape[1]
        self.real_count = len(real_features)
        # sync_on_compute off: in a run of several processes rank 0 alone evaluates, with its own features
        self.fid = FrechetInceptionDistance(feature=_Precomputed(dim), reset_real_features=False,
                                            sync_on_compute=False)
        self.fid.update(real_features, real=True)
        with warnings.catch_warnings():  # "KID keeps every feature": a few thousand rows of 128 here
            warnings.simplefilter("ignore", UserWarning)
            self.kid = KernelInceptionDistance(feature=_Precomputed(dim), reset_real_features=False,
                                               sync_on_compute=False, subsets=KID_SUBSETS,
                                               subset_size=min(KID_SUBSET_SIZE, self.real_count))
        self.kid.update(real_features, real=True)

    def compute(self, fake_features: torch.Tensor) -> tuple[float, float]:
        """(FID, KID mean) of `fake_features` (N, D) against the real reference."""
        fake_features = fake_features.detach().float().cpu()
        self.fid.reset()
        self.kid.reset()
        self.fid.update(fake_features, real=False)
        fid = float(self.fid.compute())
        self.kid.subset_size = min(KID_SUBSET_SIZE, self.real_count, len(fake_features))
        self.kid.update(fake_features, real=False)
        kid_mean, _ = self.kid.compute()
        return max(fid, 0.0), float(kid_mean)


def frechet_distance(real_features: torch.Tensor, fake_features: torch.Tensor) -> float:
    """FID between two feature sets (N, D), via torchmetrics."""
    return FeatureDistances(real_features).compute(fake_features)[0]


@dataclass(frozen=True)
class ManifoldScores:
    """k-NN manifold metrics of generated against real features; each ≈ 1 for real against real."""

    precision: float  # share of generated samples inside the real manifold (Kynkäänniemi et al. 2019)
    recall: float  # share of real samples inside the generated manifold (same paper)
    density: float  # how many real neighbourhoods hold a generated sample, on average / k (Naeem et al. 2020)
    coverage: float  # share of real samples whose neighbourhood holds a generated one (same paper)


def _kth_neighbour_radii(features: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row to its k-th nearest other row."""
    distances = torch.cdist(features, features)
    return distances.kthvalue(min(k + 1, len(features)), dim=1).values  # the 1st is the row itself, at 0


def manifold_scores(real_features: torch.Tensor, fake_features: torch.Tensor, k: int = NEAREST_K
                    ) -> ManifoldScores:
    """Precision and recall (k-NN balls around each set) and density and coverage (balls around the real)."""
    real, fake = real_features.double().cpu(), fake_features.double().cpu()
    real_radii = _kth_neighbour_radii(real, k)
    fake_radii = _kth_neighbour_radii(fake, k)
    between = torch.cdist(real, fake)  # (real, fake)
    inside_real = between <= real_radii[:, None]  # fake j lies in real i's ball
    precision = float(inside_real.any(0).double().mean())
    recall = float((between <= fake_radii[None, :]).any(1).double().mean())
    density = float(inside_real.sum(0).double().mean() / k)
    coverage = float((between.min(1).values <= real_radii).double().mean())
    return ManifoldScores(precision, recall, density, coverage)


def inception_score(probabilities: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) ‖ p(y))): 1 when every sample looks alike, n_classes when all are sure and balanced."""
    probabilities = probabilities.double().clamp_min(1e-12)
    marginal = probabilities.mean(0, keepdim=True)
    kl = (probabilities * (probabilities.log() - marginal.log())).sum(1).mean()
    return float(kl.exp())


def class_histogram(predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Share of samples predicted as each class (sums to 1)."""
    counts = torch.bincount(predicted.flatten().long().cpu(), minlength=num_classes)[:num_classes].double()
    return counts / counts.sum().clamp_min(1)


def coverage(histogram: torch.Tensor, min_share: float = COVERAGE_MIN_SHARE) -> float:
    """Fraction of the classes holding at least `min_share` of the samples (1.0: every class is there)."""
    return float((histogram >= min_share).sum()) / len(histogram)


def kl_from_uniform(histogram: torch.Tensor) -> float:
    """KL(histogram ‖ uniform) in nats: 0 when balanced, log(n_classes) when one class takes everything."""
    shares = histogram.double()
    present = shares > 0
    return float((shares[present] * (shares[present] * len(shares)).log()).sum())


def flatten_for_distance(images: torch.Tensor) -> torch.Tensor:
    """Unit-range pictures pooled to at most 32×32 and flattened: the space of the pixel distances."""
    images = images.detach().float()
    if images.ndim == 4 and max(images.shape[-2:]) > DIVERSITY_SIZE:
        size = (min(images.shape[-2], DIVERSITY_SIZE), min(images.shape[-1], DIVERSITY_SIZE))
        images = F.adaptive_avg_pool2d(images, size)
    return images.flatten(1)


def pairwise_distances(samples: torch.Tensor) -> torch.Tensor:
    """L2 distances between all rows of (N, D), (N, N), in float64 for stable small values."""
    samples = samples.double()
    return torch.cdist(samples, samples)


def mean_pairwise_distance(samples: torch.Tensor) -> float:
    """Mean L2 distance between distinct samples (N, D)."""
    count = len(samples)
    if count < 2:
        return math.nan
    return float(pairwise_distances(samples).sum() / (count * (count - 1)))


def diversity_ratio(fake: torch.Tensor, real_mean_distance: float) -> float:
    """Mean pairwise distance of generated samples over that of real ones: ~1 healthy, ~0 collapsed."""
    if not real_mean_distance > 0:
        return math.nan
    return mean_pairwise_distance(fake) / real_mean_distance


def duplicate_rate(samples: torch.Tensor, threshold: float) -> float:
    """Share of samples whose nearest other sample lies within `threshold` (L2)."""
    count = len(samples)
    if count < 2:
        return math.nan
    distances = pairwise_distances(samples)
    distances.fill_diagonal_(math.inf)
    return float((distances.min(1).values <= threshold).double().mean())


def spread_and_duplicates(samples: torch.Tensor, real_mean_distance: float, threshold: float
                          ) -> tuple[float, float]:
    """(diversity ratio, duplicate rate) from one distance matrix: what an evaluation asks for."""
    count = len(samples)
    if count < 2 or not real_mean_distance > 0:
        return math.nan, math.nan
    distances = pairwise_distances(samples)
    mean = float(distances.sum() / (count * (count - 1)))
    distances.fill_diagonal_(math.inf)
    duplicates = float((distances.min(1).values <= threshold).double().mean())
    return mean / real_mean_distance, duplicates


def conditional_accuracy(predicted: torch.Tensor, requested: torch.Tensor) -> float:
    """Share of generated samples the classifier puts in the class they were asked for."""
    if len(requested) == 0:
        return math.nan
    return float((predicted.cpu() == requested.cpu()).double().mean())
