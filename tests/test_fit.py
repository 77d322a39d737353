"""The fit rule is one rule: for every dataset × architecture, the launcher's menu offers exactly the pairs
`gantui train` accepts, and refuses the others with the engine's own sentence."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from gantui.app.screens.launcher import load_preview
from gantui.engine.config import resolve_config
from gantui.engine.data import DATASETS
from gantui.engine.errors import UserError
from gantui.engine.models import ARCHS
from gantui.engine.models.fit import fit, image_size_for
from gantui.engine.prepare import build_parts


class FakeTorchvisionSet:
    """Stands in for torchvision's FashionMNIST / CIFAR10 readers, whose real files carry checksums."""

    shape: tuple[int, ...] = (28, 28)

    def __init__(self, root: str, train: bool = True, download: bool = False) -> None:
        rng = np.random.default_rng(0)
        self.data = rng.integers(0, 256, (12, *self.shape), dtype=np.uint8)
        self.targets = [index % 10 for index in range(12)]
        self.classes = [f"class {index}" for index in range(10)]


class FakeCifar(FakeTorchvisionSet):
    shape = (32, 32, 3)


@pytest.fixture(scope="module")
def data_paths(tmp_path_factory) -> dict[str, str | None]:
    """A small copy of every dataset that needs a path; None for the built-in and generated ones."""
    root = tmp_path_factory.mktemp("fit-data")
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.integers(0, 10, (20, 1)), rng.integers(0, 256, (20, 784))], axis=1)
    np.savetxt(root / "digits.csv", rows, fmt="%d", delimiter=",")
    with h5py.File(root / "faces.h5", "w") as handle:
        handle.create_dataset("images", data=rng.integers(0, 256, (12, 40, 36, 3), dtype=np.uint8))
    for index in range(8):
        Image.fromarray(rng.integers(0, 256, (30, 26, 3), dtype=np.uint8)).save(root / f"{index}.png")
    for folder in ("FashionMNIST", "cifar-10-batches-py"):
        (root / "torchvision" / folder).mkdir(parents=True)
    torchvision_root = str(root / "torchvision")
    paths = {"mnist-csv": str(root / "digits.csv"), "hdf5": str(root / "faces.h5"), "imagefolder": str(root),
             "fashion-mnist": torchvision_root, "cifar10": torchvision_root}
    return {name: paths.get(name) for name in DATASETS}


@pytest.fixture(autouse=True)
def fake_torchvision_sets(monkeypatch) -> None:
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", FakeTorchvisionSet)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCifar)


def train_answer(dataset: str, arch: str, path: str | None = None, image_size: int | None = None) -> str | None:
    """What `gantui train -d DATASET -a ARCH [--data PATH]` says before it creates a run: None if it trains."""
    try:
        build_parts(resolve_config(dataset, arch, data=path, device="cpu", steps=1, image_size=image_size))
    except UserError as error:
        return str(error)
    return None


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_the_launcher_offers_exactly_what_train_accepts(dataset: str, data_paths) -> None:
    path = data_paths[dataset]
    preview = load_preview(dataset, path)
    assert preview.error is None, preview.error
    offered = {row.name: row.problem for row in preview.archs}
    assert list(offered) == list(ARCHS)
    for arch in ARCHS:
        assert offered[arch] == train_answer(dataset, arch, path), f"{dataset} + {arch}"


def test_mnist_with_dcgan64_trains_at_64_and_a_wrong_size_is_refused_alike() -> None:
    config = resolve_config("mnist", "dcgan64", device="cpu", steps=1)
    assert config.image_size == 64  # the architecture's size: mnist's 28×28 digits are resized
    source, *_ = build_parts(config)
    assert source.info.shape == (1, 64, 64)
    refused = train_answer("mnist", "dcgan64", image_size=32)
    assert refused is not None and "dcgan64 needs 64×64 images (got 32×32)" in refused
    rows = {row.name: row for row in load_preview("mnist", None, 32).archs}
    assert rows["dcgan64"].problem == refused


def test_the_image_size_rule() -> None:
    mnist, shapes, pattern = DATASETS["mnist"], DATASETS["shapes"], DATASETS["pattern1010"]
    assert image_size_for(ARCHS["dcgan28"], mnist) is None  # already 28×28: nothing to resize
    assert image_size_for(ARCHS["dcgan64"], mnist) == 64
    assert image_size_for(ARCHS["mlp"], mnist) is None  # any size: the data's own
    assert image_size_for(ARCHS["dcgan28"], shapes) == 28  # free-size data is drawn at the size needed
    assert image_size_for(ARCHS["dcgan64"], mnist, 32) == 32  # what the user asked wins (and is refused)
    assert image_size_for(ARCHS["pattern-mlp"], pattern) is None
    assert fit(ARCHS["cgan"], pattern).problem.startswith("cgan needs images")
    assert fit(ARCHS["conv"], shapes).info.shape == (3, 128, 128)


def test_dataset_facts_come_from_the_dataset_spec() -> None:
    assert resolve_config("mnist", "mlp").eval_every == DATASETS["mnist"].eval_every > 0
    assert resolve_config("pattern1010", "pattern-mlp").eval_every == 0  # toys have no quality metric
    assert resolve_config("mnist", "mlp", eval_every=7).eval_every == 7


def test_build_parts_needs_no_folder(tmp_path: Path) -> None:
    build_parts(resolve_config("pattern1010", "pattern-mlp", device="cpu", steps=1, runs_dir=str(tmp_path)))
    assert not any(tmp_path.iterdir())
