"""One evaluation of a generator: a fixed set of generated samples measured against the real data.

Built once per run from the data, the architecture and the config (the classifier is loaded from the cache
or trained there, the real reference measured); `evaluate(generator, step)` then gives one eval.csv row.
What applies depends on the data: classifier metrics for labelled one-channel pictures (the classifier);
for any pictures FID, KID, precision, recall, density and coverage in the fixed random embedding
(embedding.py, the `*_rand` columns), diversity and near-duplicates; nothing for toy vectors.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from gantui.engine.atomic import write_atomic
from gantui.engine.data.base import DataSource
from gantui.engine.models.base import ArchSpec
from gantui.engine.quality import embedding, metrics
from gantui.engine.quality.classifier import (
    TrainedClassifier,
    cache_dir,
    classifier_applies,
    evaluation_applies,
    load_or_train,
)
from gantui.engine.samples import to_unit_range

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig

DEFAULT_SAMPLES = 1_000
REFERENCE_SAMPLES = 2_000  # real pictures behind the FID/KID reference statistics
BATCH = 250  # generated per forward pass during an evaluation
EVAL_SEED = 20_240_601  # the evaluation's own latent batch: the same z at every evaluation of a run

__all__ = ["Evaluator", "QualityReport", "evaluation_applies", "timed_evaluation"]


@dataclass(frozen=True)
class QualityReport:
    """The metrics of one evaluation; None where a metric does not apply to this data or model."""

    fid: float | None = None
    kid: float | None = None
    inception_score: float | None = None
    coverage: float | None = None  # fraction of classes with at least 2% of the samples
    kl_uniform: float | None = None
    diversity: float | None = None  # mean pairwise distance generated / real
    duplicate_rate: float | None = None
    cond_accuracy: float | None = None
    # in the fixed random embedding, for any pictures (comparable between runs on the same data only)
    fid_rand: float | None = None
    kid_rand: float | None = None
    precision_rand: float | None = None  # Kynkäänniemi et al. 2019, k = 5
    recall_rand: float | None = None
    density_rand: float | None = None  # Naeem et al. 2020, k = 5
    coverage_rand: float | None = None
    embedding_version: int | None = None  # embedding.EMBEDDING_VERSION: *_rand values compare only within one
    class_histogram: tuple[float, ...] = field(default_factory=tuple)  # share of samples per class

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Evaluator:
    """Measures generated samples against the real data; see the module docstring for what applies."""

    def __init__(
        self, source: DataSource, arch: ArchSpec, latent_dim: int, device: torch.device | str = "cpu",
        samples: int = DEFAULT_SAMPLES, latent: str = "normal", classifier: TrainedClassifier | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        info = source.info
        if not evaluation_applies(info):
            raise ValueError(f"{info.name} is not picture data; quality evaluation does not apply")
        self.info, self.arch, self.device = info, arch, torch.device(device)
        self.samples, self.latent_dim, self.latent_kind = samples, latent_dim, latent
        self.num_classes = int(info.num_classes or 0)
        self.classifier = classifier
        if classifier is None and classifier_applies(info):
            classifier = self.classifier = load_or_train(source, self.device, on_notice)
        if classifier is not None:
            classifier.model.to(self.device).eval()
        real = _real_reference(source, max(samples, REFERENCE_SAMPLES))
        self.distances: metrics.FeatureDistances | None = None
        if classifier is not None:
            real_features, _ = self._embed(real)
            self.distances = metrics.FeatureDistances(real_features)
        self.embedding = embedding.RandomEmbedding()
        self.embedding_reference = RandomReference.of(self.embedding, real, samples, self.device)
        real_flat = metrics.flatten_for_distance(real[:samples])
        self.real_distance = metrics.mean_pairwise_distance(real_flat)
        self.duplicate_threshold = metrics.DUPLICATE_FRACTION * self.real_distance
        self.latent, self.requested_labels = self._fixed_inputs()

    @classmethod
    def from_config(cls, source: DataSource, arch: ArchSpec, config: TrainConfig, device: torch.device | str,
                    on_notice: Callable[[str], None] | None = None) -> Evaluator:
        """From a TrainConfig (latent size and kind); the classifier is trained first when not cached."""
        return cls(source, arch, config.latent_dim, device, samples=DEFAULT_SAMPLES, latent=config.latent,
                   on_notice=on_notice)

    @property
    def has_classifier(self) -> bool:
        return self.classifier is not None

    def _fixed_inputs(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The evaluation's own latent batch (and requested classes): fixed, so changes come from G only."""
        rng = torch.Generator().manual_seed(EVAL_SEED)
        shape = (self.samples, self.latent_dim)
        z = torch.rand(shape, generator=rng) if self.latent_kind == "uniform" else torch.randn(shape, generator=rng)
        labels = None
        if self.arch.conditional and self.num_classes:
            labels = torch.arange(self.samples) % self.num_classes
        return z, labels

    @torch.no_grad()
    def _embed(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Classifier (features, logits) of unit-range pictures, in batches, on the CPU."""
        assert self.classifier is not None
        model = self.classifier.model
        features, logits = [], []
        for first in range(0, len(images), 1000):
            f, l = model.embed(images[first:first + 1000].to(self.device))
            features.append(f.float().cpu())
            logits.append(l.float().cpu())
        return torch.cat(features), torch.cat(logits)

    @torch.no_grad()
    def generate(self, generator: nn.Module) -> torch.Tensor:
        """The fixed latent batch through G (eval mode, as the sample grids), as unit-range CPU pictures."""
        was_training = generator.training
        generator.eval()
        parts = []
        try:
            for first in range(0, self.samples, BATCH):
                z = self.latent[first:first + BATCH].to(self.device)
                labels = None if self.requested_labels is None else \
                    self.requested_labels[first:first + BATCH].to(self.device)
                output = generator(z, labels).float()
                parts.append(to_unit_range(output, self.arch.output_range).cpu())
        finally:
            generator.train(was_training)
        return torch.cat(parts)

    def evaluate(self, generator: nn.Module) -> QualityReport:
        """Every applicable metric of `generator`'s samples; never changes the caller's random streams."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(EVAL_SEED)  # KID's random subsets: the same at every evaluation
            images = self.generate(generator)
            return self.measure(images)

    def measure(self, images: torch.Tensor) -> QualityReport:
        """The metrics of unit-range pictures (B, C, H, W) as if G had produced them."""
        flat = metrics.flatten_for_distance(images)
        diversity, duplicates = metrics.spread_and_duplicates(flat, self.real_distance, self.duplicate_threshold)
        everywhere = dict(diversity=_finite(diversity), duplicate_rate=_finite(duplicates),
                          **self.embedding_reference.measure(self.embedding, images, self.device))
        if self.classifier is None or self.distances is None:
            return QualityReport(**everywhere)
        features, logits = self._embed(images)
        fid, kid = self.distances.compute(features)
        predicted = logits.argmax(1)
        histogram = metrics.class_histogram(predicted, self.num_classes)
        cond = None
        if self.requested_labels is not None and len(images) == len(self.requested_labels):
            cond = metrics.conditional_accuracy(predicted, self.requested_labels)
        return QualityReport(
            fid=_finite(fid), kid=_finite(kid), inception_score=metrics.inception_score(logits.softmax(1)),
            coverage=metrics.coverage(histogram), kl_uniform=metrics.kl_from_uniform(histogram),
            cond_accuracy=cond, **everywhere,
            class_histogram=tuple(round(float(share), 4) for share in histogram),
        )


class RandomReference:
    """The real pictures in the random embedding: FID/KID statistics and the k-NN manifold's real side.

    Features are centred, and each branch's (`groups`: their widths, in order) scaled by its own spread on the
    real ones, so FID does not depend on the random weights' arbitrary scale and each branch weighs alike.
    They are cached under a hash of the reference pictures.
    """

    def __init__(self, features: torch.Tensor, samples: int,
                 groups: tuple[int, ...] = embedding.FEATURE_GROUPS) -> None:
        self.mean = features.mean(0)
        spread = features.std(0)
        self.scale = torch.cat([torch.full((width,), 1.0 / max(float(part.mean()), 1e-12))
                                for width, part in zip(groups, spread.split(list(groups)), strict=True)])
        self.features = (features - self.mean) * self.scale
        self.distances = metrics.FeatureDistances(self.features)
        self.manifold = self.features[:samples]  # as many real as generated: the k-NN radii match in scale

    @classmethod
    def of(cls, model: nn.Module, real: torch.Tensor, samples: int, device: torch.device) -> RandomReference:
        return cls(_cached_features(model, real, device), samples)

    def measure(self, model: nn.Module, images: torch.Tensor, device: torch.device) -> dict[str, float | None]:
        """The `*_rand` fields of a QualityReport for unit-range pictures."""
        return self.measure_features(embedding.embed(model, images, device))

    def measure_features(self, features: torch.Tensor) -> dict[str, float | None]:
        """`measure` of pictures already embedded."""
        features = (features - self.mean) * self.scale
        fid, kid = self.distances.compute(features)
        scores = metrics.manifold_scores(self.manifold, features)
        return dict(fid_rand=_finite(fid), kid_rand=_finite(kid), precision_rand=scores.precision,
                    recall_rand=scores.recall, density_rand=scores.density, coverage_rand=scores.coverage,
                    embedding_version=embedding.EMBEDDING_VERSION)


def _cached_features(model: nn.Module, real: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The embedding of the real reference, read from the cache when these exact pictures were embedded before."""
    quantised = real.mul(255).round_().to(torch.uint8)
    digest = hashlib.sha256(f"gantui-embedding:{embedding.EMBEDDING_NAME}:v{embedding.EMBEDDING_VERSION}:"
                            f"{tuple(quantised.shape)}:".encode())
    digest.update(quantised.contiguous().numpy().tobytes())
    path = cache_dir() / "embeddings" / f"{digest.hexdigest()[:24]}.pt"
    with contextlib.suppress(Exception):  # a missing, torn or foreign file is simply recomputed
        cached = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(cached, torch.Tensor) and cached.shape == (len(real), embedding.FEATURE_DIM):
            return cached
    features = embedding.embed(model, real, device)
    with contextlib.suppress(OSError):  # a cache that cannot be written costs time, never the run
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda tmp: torch.save(features, tmp))
    return features


def timed_evaluation(evaluator: Evaluator, generator: nn.Module) -> tuple[QualityReport, float]:
    """(report, seconds it took)."""
    start = time.perf_counter()
    report = evaluator.evaluate(generator)
    return report, time.perf_counter() - start


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _real_reference(source: DataSource, count: int) -> torch.Tensor:
    """Up to `count` real pictures (unit range, CPU) drawn at random with a fixed seed."""
    rng = torch.Generator().manual_seed(EVAL_SEED)
    samples = getattr(source, "samples", None)
    if isinstance(samples, torch.Tensor) and samples.ndim == 4:
        picked = torch.randperm(len(samples), generator=rng)[:count]
        batch = samples[picked]
        return batch.float().div_(255) if batch.dtype == torch.uint8 else batch.float()
    dataset, size = getattr(source, "dataset", None), getattr(source, "count", None)
    if dataset is not None and isinstance(size, int) and size > 0:
        picked = torch.randperm(size, generator=rng)[:count].tolist()
        images = torch.stack([dataset[index][0] for index in picked])
        return images.float().div_(255) if images.dtype == torch.uint8 else images.float()
    images, _ = source.preview(count)
    return images.float()
