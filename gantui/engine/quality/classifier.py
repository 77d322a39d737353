"""A small LeNet-style classifier, trained once on a dataset's own labelled images and cached.

It is the offline stand-in for Inception: its penultimate layer is the feature space of FID and KID, its
softmax gives the Inception Score, class coverage and the class histogram. It is cached in the user's cache
directory under a hash of the images and labels, so every run on the same data reuses it.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gantui.engine.atomic import write_atomic
from gantui.engine.data.base import DataInfo, DataSource

CLASSIFIER_VERSION = 2  # part of the cache key: a change of architecture or recipe retrains
INPUT_SIZE = 28  # every picture is resized to 28×28 before classification
FEATURE_DIM = 128
MAX_IMAGES = 60_000  # images read from a source that is not held in memory (hash and training)
HOLDOUT_FRACTION = 0.1
MAX_HOLDOUT = 5_000
EPOCHS = 3
MAX_STEPS = 2_500  # caps training on large data sets (about a minute on two CPU cores)
BATCH_SIZE = 64
LEARNING_RATE = 2e-3


class DigitClassifier(nn.Module):
    """Conv 16 k5 → pool → Conv 32 k5 → pool → Dense 128 (the feature layer) → Dense n_classes (LeNet-5 sized)."""

    def __init__(self, num_classes: int, channels: int = 1) -> None:
        super().__init__()
        self.num_classes, self.channels = num_classes, channels
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 5 * 5, FEATURE_DIM), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, num_classes)
        # the features' mean and 1 / typical spread on the training data (set once after training, saved with
        # the weights): FID does not depend on the arbitrary scale a training gave them, KID's kernel stays tame
        self.register_buffer("feature_mean", torch.zeros(FEATURE_DIM))
        self.register_buffer("feature_scale", torch.ones(()))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for unit-range images (B, C, H, W) of any size."""
        return self.head(self.features(prepare(images)))

    def embed(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(features, logits) for unit-range images: one pass gives what FID, KID and IS need."""
        features = self.features(prepare(images))
        return (features - self.feature_mean) * self.feature_scale, self.head(features)


def prepare(images: torch.Tensor) -> torch.Tensor:
    """Unit-range images resized to 28×28 and centred on 0."""
    images = images.float()
    if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        images = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True,
                               align_corners=False)
    return (images - 0.5) / 0.5


@dataclass(frozen=True)
class TrainedClassifier:
    """A classifier ready for evaluation, with what is known about it."""

    model: DigitClassifier
    accuracy: float  # on held-out images it never trained on
    holdout: int  # how many
    train_seconds: float  # how long its training took (as measured then, when it came from the cache)
    path: Path
    from_cache: bool


def evaluation_applies(info: DataInfo) -> bool:
    """Quality evaluation needs pictures; toy vectors have their own plots."""
    return info.is_image


def classifier_applies(info: DataInfo) -> bool:
    """FID-type metrics need labelled one-channel pictures (digits, clothing)."""
    return info.is_image and info.channels == 1 and (info.num_classes or 0) >= 2


def cache_dir() -> Path:
    """$GANTUI_CACHE_DIR, else $XDG_CACHE_HOME/gantui, else ~/.cache/gantui."""
    override = os.environ.get("GANTUI_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gantui"


def labelled_images(source: DataSource, limit: int = MAX_IMAGES) -> tuple[torch.Tensor, torch.Tensor]:
    """The source's images as uint8 (N, C, H, W) and labels as int64 (N,), on the CPU.

    An in-memory source gives all of its tensors; any other is read through `preview` up to `limit`.
    """
    samples, labels = getattr(source, "samples", None), getattr(source, "labels", None)
    if isinstance(samples, torch.Tensor) and samples.dtype == torch.uint8 and isinstance(labels, torch.Tensor):
        return samples, labels
    images, labels = source.preview(limit)
    if labels is None:
        raise ValueError(f"{source.info.name} has no labels to train a classifier on")
    return images.mul(255).round_().clamp_(0, 255).to(torch.uint8), labels.to(torch.int64)


def content_hash(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> str:
    """sha256 of the pictures and labels (and the training recipe): the classifier's cache key."""
    recipe = f"v{CLASSIFIER_VERSION}:{EPOCHS}:{MAX_STEPS}:{BATCH_SIZE}:{LEARNING_RATE}:{num_classes}"
    digest = hashlib.sha256(f"gantui-classifier:{recipe}:".encode())
    digest.update(str(tuple(images.shape)).encode())
    digest.update(images.contiguous().numpy().tobytes())
    digest.update(labels.contiguous().numpy().astype("int64").tobytes())
    return digest.hexdigest()


def split(count: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, held-out indices) from a fixed permutation."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    holdout = min(MAX_HOLDOUT, max(1, int(count * HOLDOUT_FRACTION))) if count > 1 else 0
    return order[holdout:], order[:holdout]


def train_classifier(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, device: torch.device | str = "cpu",
    epochs: int = EPOCHS, max_steps: int = MAX_STEPS, seed: int = 0,
) -> tuple[DigitClassifier, float, int, float]:
    """Train on uint8 images; returns (model in eval mode, held-out accuracy, held-out count, seconds)."""
    start = time.perf_counter()
    device = torch.device(device)
    rng = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # never disturb the caller's (the GAN's) random stream
        torch.manual_seed(seed)
        model = DigitClassifier(num_classes, images.shape[1]).to(device)
    train_idx, holdout_idx = split(len(images), seed)
    x_train = images[train_idx].to(device)
    y_train = labels[train_idx].to(device)
    steps_per_epoch = max(1, len(train_idx) // BATCH_SIZE)
    total = min(max_steps, epochs * steps_per_epoch)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, LEARNING_RATE, total_steps=total, pct_start=0.15)
    model.train()
    step = 0
    while step < total:
        order = torch.randperm(len(train_idx), generator=rng).to(device)
        for first in range(0, steps_per_epoch * BATCH_SIZE, BATCH_SIZE):
            batch = order[first:first + BATCH_SIZE]
            x = _shift(x_train[batch].float().div_(255), rng)
            loss = F.cross_entropy(model(x), y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step >= total:
                break
    model.eval()
    mean, spread = _feature_statistics(model, x_train[:5000])
    model.feature_mean.copy_(mean)
    model.feature_scale.fill_(1.0 / spread)
    accuracy = evaluate_accuracy(model, images[holdout_idx], labels[holdout_idx])
    return model, accuracy, len(holdout_idx), time.perf_counter() - start


def _shift(images: torch.Tensor, rng: torch.Generator, pixels: int = 2) -> torch.Tensor:
    """Move the whole batch by up to ±`pixels` (one cheap augmentation: digits are not always centred)."""
    dy, dx = (int(v) for v in torch.randint(-pixels, pixels + 1, (2,), generator=rng))
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3))


@torch.no_grad()
def _feature_statistics(model: DigitClassifier, images: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(mean feature vector, mean standard deviation of the feature dimensions) over uint8 `images`."""
    features = torch.cat([model.features(prepare(images[first:first + 1000].float().div(255)))
                          for first in range(0, len(images), 1000)])
    return features.mean(0), max(float(features.std(0).mean()), 1e-6)


@torch.no_grad()
def evaluate_accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of uint8 `images` classified as `labels` (NaN when there are none)."""
    if len(images) == 0:
        return math.nan
    device = next(model.parameters()).device
    correct = 0
    for first in range(0, len(images), 1000):
        x = images[first:first + 1000].to(device).float().div_(255)
        correct += int((model(x).argmax(1).cpu() == labels[first:first + 1000]).sum())
    return correct / len(images)


def load_or_train(
    source: DataSource, device: torch.device | str = "cpu", on_training: Callable[[str], None] | None = None,
) -> TrainedClassifier:
    """The cached classifier for `source`'s data, training (and caching) it the first time.

    `on_training(message)` is called before a training starts, so the caller can tell the user why it waits.
    """
    info = source.info
    if not classifier_applies(info):
        raise ValueError(f"no classifier for {info.name}: it needs labelled one-channel pictures")
    images, labels = labelled_images(source)
    key = content_hash(images, labels, int(info.num_classes or 0))
    path = cache_dir() / "classifiers" / f"{info.name}-{key[:20]}.pt"
    cached = _load(path, int(info.num_classes or 0), images.shape[1])
    if cached is not None:
        model, state = cached
        return TrainedClassifier(model.to(device).eval(), state["accuracy"], state["holdout"],
                                 state["train_seconds"], path, from_cache=True)
    if on_training is not None:
        on_training(f"training the quality classifier for {info.name} once ({len(images):,} labelled images); "
                    f"cached in {path.parent}")
    model, accuracy, holdout, seconds = train_classifier(images, labels, int(info.num_classes or 0), device)
    _save(path, model, accuracy, holdout, seconds, key)
    return TrainedClassifier(model, accuracy, holdout, seconds, path, from_cache=False)


def _save(path: Path, model: DigitClassifier, accuracy: float, holdout: int, seconds: float, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "version": CLASSIFIER_VERSION, "num_classes": model.num_classes, "channels": model.channels,
        "accuracy": accuracy, "holdout": holdout, "train_seconds": seconds, "hash": key,
        "state_dict": {name: value.detach().cpu() for name, value in model.state_dict().items()},
    }
    write_atomic(path, lambda tmp: torch.save(state, tmp))


def _load(path: Path, num_classes: int, channels: int) -> tuple[DigitClassifier, dict] | None:
    """The cached model, or None when it is missing, unreadable or made for other data (then retrain)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("version") != CLASSIFIER_VERSION or state.get("num_classes") != num_classes \
                or state.get("channels") != channels:
            return None
        model = DigitClassifier(num_classes, channels)
        model.load_state_dict(state["state_dict"])
    except Exception:  # a torn or foreign file is simply rebuilt
        return None
    return model.eval(), state
