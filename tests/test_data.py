"""The data package: every loader on small files made here, the embedded MNIST, and the shared epoch contract."""

from __future__ import annotations

import gzip
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from gantui.engine.data import DATASETS, describe_datasets, load_dataset, validate_data_path
from gantui.engine.data.hdf5 import load_hdf5
from gantui.engine.data.imagefolder import ImageFileDataset, load_imagefolder
from gantui.engine.data.shapes import DISTANCES, draw_shapes
from gantui.engine.data.stream_source import StreamSource
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError
from gantui.engine.packh5 import pack_h5

CPU = torch.device("cpu")


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def all_batches(source, batch_size: int, device: torch.device = CPU, seed: int = 0) -> list:
    return list(source.epoch(batch_size, device, seeded(seed)))


# --- helpers that write small files ---------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def write_mnist(folder: Path, prefix: str, count: int, compress: bool, fill: int = 0) -> np.ndarray:
    folder.mkdir(parents=True, exist_ok=True)
    images = (np.arange(count * 784).reshape(count, 28, 28) + fill) % 256
    suffix = ".gz" if compress else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(count) % 10, compress)
    return images.astype(np.uint8)


def csv_rows(count: int) -> np.ndarray:
    rows = np.zeros((count, 785), dtype=np.int64)
    rows[:, 0] = np.arange(count) % 10
    rows[:, 1:] = (np.arange(count * 784).reshape(count, 784) * 7) % 256
    return rows


def write_csv(path: Path, rows: np.ndarray, header: bool = False) -> Path:
    lines = [",".join(["label"] + [f"pixel{i}" for i in range(784)])] if header else []
    lines += [",".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def save_picture(path: Path, mode: str, colour, size=(40, 30), fmt: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, format=fmt)


# --- MNIST ----------------------------------------------------------------------------------------------


def test_embedded_mnist_is_the_10k_test_set():
    source = load_dataset("mnist")
    assert source.info.shape == (1, 28, 28) and source.info.size == 10_000 and source.info.num_classes == 10
    assert sorted(torch.unique(source.labels).tolist()) == list(range(10))
    images, labels = source.preview(3)
    assert labels.tolist() == [7, 2, 1]  # the famous first digits of t10k
    assert images.min() == 0.0 and images.max() == 1.0


@pytest.mark.parametrize("layout", ["", "raw", "MNIST/raw"])
@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_folder_layouts(tmp_path, layout, compress):
    expected = write_mnist(tmp_path / layout, "t10k", 12, compress)
    source = load_dataset("mnist", str(tmp_path))
    assert source.info.size == 12
    assert torch.equal(source.samples[:, 0], torch.from_numpy(expected))
    assert source.labels.tolist() == [i % 10 for i in range(12)]
    assert validate_data_path("mnist", str(tmp_path)) is None


def test_mnist_prefers_the_train_set_and_resizes(tmp_path):
    write_mnist(tmp_path, "t10k", 5, compress=True)
    write_mnist(tmp_path, "train", 9, compress=False)
    assert load_dataset("mnist", str(tmp_path)).info.size == 9
    assert load_dataset("mnist", str(tmp_path), image_size=32).preview(2)[0].shape == (2, 1, 32, 32)


def test_mnist_bad_files(tmp_path):
    write_mnist(tmp_path, "t10k", 4, compress=False)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    with pytest.raises(UserError, match="truncated") as caught:
        load_dataset("mnist", str(tmp_path))
    assert str(images) in str(caught.value)
    images.write_bytes(b"\x00\x00\x0d\x03" + bytes(12))  # float dtype code
    with pytest.raises(UserError, match="magic"):
        load_dataset("mnist", str(tmp_path))
    with pytest.raises(UserError, match="nowhere is not a folder"):
        load_dataset("mnist", str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no train-.*empty"):
        load_dataset("mnist", str(tmp_path / "empty"))


# --- CSV ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [False, True])
def test_mnist_csv(tmp_path, header):
    rows = csv_rows(6)
    source = load_dataset("mnist-csv", str(write_csv(tmp_path / "digits.csv", rows, header)))
    assert source.info.size == 6 and source.info.shape == (1, 28, 28)
    assert source.labels.tolist() == rows[:, 0].tolist()
    assert torch.equal(source.samples.reshape(6, 784), torch.from_numpy(rows[:, 1:].astype(np.uint8)))


def drop_last_column(text: str) -> str:
    return "\n".join(line.rsplit(",", 1)[0] for line in text.splitlines()) + "\n"


def second_row_cell(text: str, value: str) -> str:
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[5] = value
    lines[1] = ",".join(cells)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (drop_last_column, "784 columns, expected 785.*without labels"),
        (lambda text: "1,2,3\n" + text, "line 2 has 785 values, expected 3"),
        (lambda text: text + "4," * 785 + "5\n", "line 4 has 786 values, expected 785"),
        (lambda text: second_row_cell(text, "x"), "line 2, column 6: 'x' is not a number"),
        (lambda text: second_row_cell(text, ""), "line 2 has empty cells"),
        (lambda text: second_row_cell(text, "2.5"), "line 2: 2.5 is not a whole number"),
        (lambda text: text.replace("\n1,", "\n12,", 1), "line 2: label 12 is not a digit"),
        (lambda text: "-1," + text.split(",", 1)[1], "line 1: label -1 is not a digit"),
        (lambda text: "", "no data rows"),
        (lambda text: "label,p1,p2\n", "no data rows"),
    ],
)
def test_mnist_csv_bad_input(tmp_path, edit, message):
    good = write_csv(tmp_path / "good.csv", csv_rows(3)).read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(edit(good))
    with pytest.raises(UserError, match=message) as caught:
        load_dataset("mnist-csv", str(bad))
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_mnist_csv_pixel_out_of_range(tmp_path):
    rows = csv_rows(3)
    rows[2, 5] = 256
    with pytest.raises(UserError, match="line 3: pixel value 256 is outside 0-255"):
        load_dataset("mnist-csv", str(write_csv(tmp_path / "p.csv", rows)))


# --- HDF5 -----------------------------------------------------------------------------------------------


def pictures(count: int = 5, height: int = 6, width: int = 8) -> np.ndarray:
    """uint8 (N, 3, H, W) with every value distinct enough to check the layout."""
    return (np.arange(count * 3 * height * width).reshape(count, 3, height, width) % 251).astype(np.uint8)


@pytest.mark.parametrize("layout", ["nhwc", "nchw", "nhw"])
def test_hdf5_stacked_layouts(tmp_path, layout):
    expected = pictures()
    stored = {"nhwc": expected.transpose(0, 2, 3, 1), "nchw": expected, "nhw": expected[:, 0]}[layout]
    file = tmp_path / "pics.h5"
    with h5py.File(file, "w") as handle:
        handle.create_dataset("meta/scale", data=np.ones(3, np.float32))
        handle.create_dataset("data", data=stored, compression="gzip")
    source = load_dataset("hdf5", str(file))
    wanted = expected[:, :1] if layout == "nhw" else expected
    assert source.info.shape == wanted.shape[1:] and source.info.num_classes is None
    assert torch.equal(source.samples, torch.from_numpy(wanted))


def test_hdf5_group_of_pictures_like_the_tutorial(tmp_path):
    expected = pictures(count=12)
    file = tmp_path / "celeba.h5"
    with h5py.File(file, "w") as handle:
        group = handle.create_group("img_align_celeba")
        for index in range(12):
            group.create_dataset(f"{index}.jpg", data=expected[index].transpose(1, 2, 0), compression="gzip")
    source = load_dataset("hdf5", str(file))
    assert source.info.shape == (3, 6, 8) and source.info.size == 12
    assert torch.equal(source.samples, torch.from_numpy(expected))  # natural order: 2.jpg before 10.jpg
    assert load_dataset("hdf5", f"{file}:img_align_celeba", image_size=4).info.shape == (3, 4, 4)


def test_hdf5_key_picks_a_dataset(tmp_path):
    file = tmp_path / "two.h5"
    with h5py.File(file, "w") as handle:
        handle["a"] = pictures(count=2).transpose(0, 2, 3, 1)
        handle["b"] = pictures(count=7).transpose(0, 2, 3, 1)
    assert load_dataset("hdf5", str(file)).info.size == 2
    assert load_dataset("hdf5", f"{file}:b").info.size == 7
    with pytest.raises(UserError, match="has no 'c'.*a, b"):
        load_dataset("hdf5", f"{file}:c")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((4, 8, 8, 3), np.complex64), "complex64, not a picture type"),
        (np.zeros((4, 784), np.uint8), r"shape \(4, 784\)"),
        (np.zeros((2, 2, 8, 8, 3), np.uint8), r"shape \(2, 2, 8, 8, 3\)"),
    ],
)
def test_hdf5_unusable(tmp_path, data, message):
    file = tmp_path / "bad.h5"
    with h5py.File(file, "w") as handle:
        handle["x"] = data
    for path in (str(file), f"{file}:x"):
        with pytest.raises(UserError, match=message) as caught:
            load_dataset("hdf5", path)
        assert str(file) in str(caught.value)
    assert "/x" in validate_data_path("hdf5", str(file))


def test_hdf5_not_hdf5_and_empty(tmp_path):
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(UserError, match="not an HDF5 file"):
        load_dataset("hdf5", str(tmp_path / "text.h5"))
    h5py.File(tmp_path / "empty.h5", "w").close()
    with pytest.raises(UserError, match="no pictures.*no datasets"):
        load_dataset("hdf5", str(tmp_path / "empty.h5"))


def test_hdf5_streaming_matches_in_memory(tmp_path):
    expected = pictures(count=10)
    file = tmp_path / "pics.h5"
    with h5py.File(file, "w") as handle:
        handle["images"] = expected.transpose(0, 2, 3, 1)
        handle["labels"] = np.arange(10) % 3
    in_memory = load_hdf5(str(file), None, False)
    streamed = load_hdf5(str(file), None, False, in_memory_bytes=0)
    assert isinstance(in_memory, TensorSource) and isinstance(streamed, StreamSource)
    assert streamed.info.num_classes == 3 and streamed.steps_per_epoch(4) == 2
    for (x_memory, y_memory), (x_stream, y_stream) in zip(
        all_batches(in_memory, 4, seed=3), all_batches(streamed, 4, seed=3), strict=True
    ):
        assert torch.equal(x_memory, x_stream) and torch.equal(y_memory, y_stream)
    assert torch.equal(streamed.preview(2)[0], in_memory.preview(2)[0])
    next(streamed.epoch(4, CPU, seeded(8)))  # an epoch abandoned half way must not disturb the next one
    x_stream, _ = all_batches(streamed, 5, seed=9)[1]
    assert torch.equal(x_stream, all_batches(in_memory, 5, seed=9)[1][0])


# --- image folders and pack-h5 --------------------------------------------------------------------------


def mixed_folder(root: Path) -> Path:
    save_picture(root / "cats" / "a.png", "RGB", (200, 10, 10))
    save_picture(root / "cats" / "b.jpg", "RGB", (10, 200, 10), fmt="JPEG")
    save_picture(root / "dogs" / "c.png", "L", 90)
    save_picture(root / "dogs" / "deep" / "d.png", "RGBA", (0, 0, 0, 0))  # fully transparent
    save_picture(root / "dogs" / "e.webp", "RGB", (1, 2, 250), fmt="WEBP")
    (root / "dogs" / "broken.jpg").write_bytes(b"not a jpeg at all")
    (root / "dogs" / "notes.txt").write_text("ignored")
    return root


def test_imagefolder_decodes_and_skips(tmp_path):
    source = load_dataset("imagefolder", str(mixed_folder(tmp_path)), image_size=16)
    assert source.info.shape == (3, 16, 16) and source.info.size == 5
    assert source.info.class_names == ("cats", "dogs") and source.labels.tolist() == [0, 0, 1, 1, 1]
    assert source.skipped == 1 and len(source.warnings) == 1 and "broken.jpg" in source.warnings[0]
    red, jpeg, grey, blue, transparent = source.samples  # files of a folder come before its subfolders
    assert red[:, 8, 8].tolist() == [200, 10, 10]
    assert abs(int(jpeg[1, 8, 8]) - 200) < 8
    assert grey[:, 8, 8].tolist() == [90, 90, 90]
    assert transparent.min() == 255  # transparency lies over white
    assert blue[2, 8, 8] > 240


def test_imagefolder_one_subfolder_is_unlabelled_and_default_size(tmp_path):
    save_picture(tmp_path / "only" / "a.png", "RGB", (1, 2, 3), size=(100, 50))
    source = load_dataset("imagefolder", str(tmp_path))
    assert source.info.num_classes is None and source.info.shape == (3, 64, 64) and source.labels is None


def test_imagefolder_only_corrupt_files(tmp_path):
    (tmp_path / "x.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(UserError, match="none of the 1 image files"):
        load_dataset("imagefolder", str(tmp_path))
    assert validate_data_path("imagefolder", str(tmp_path / "empty")).endswith("is not a folder")


def test_imagefolder_streaming(tmp_path):
    streamed = load_imagefolder(str(mixed_folder(tmp_path)), 16, False, max_in_memory=0)
    in_memory = load_imagefolder(str(tmp_path), 16, False)
    assert isinstance(streamed, StreamSource) and streamed.skipped == 1 and streamed.info.size == 5
    (x_stream, y_stream), (x_memory, y_memory) = all_batches(streamed, 8)[0], all_batches(in_memory, 8)[0]
    assert torch.equal(x_stream, x_memory) and torch.equal(y_stream, y_memory)
    broken_since_scan = ImageFileDataset([tmp_path / "dogs" / "broken.jpg", tmp_path / "cats" / "a.png"], None, 4)
    picture, label = broken_since_scan[0]  # a file that fails in a worker is replaced by its neighbour
    assert picture[:, 0, 0].tolist() == [200, 10, 10] and label == -1


def test_pack_h5_round_trip(tmp_path):
    out = tmp_path / "packed.h5"
    skipped: list[str] = []
    count = pack_h5(mixed_folder(tmp_path / "pics"), out, size=16, on_skip=skipped.append)
    assert count == 5 and len(skipped) == 1 and "broken.jpg" in skipped[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["packed.h5", "pics"]  # no temporary left
    with h5py.File(out) as handle:
        assert handle["images"].shape == (5, 16, 16, 3) and handle["images"].compression == "gzip"
    packed = load_dataset("hdf5", str(out))
    folder = load_dataset("imagefolder", str(tmp_path / "pics"), image_size=16)
    assert torch.equal(packed.samples, folder.samples) and torch.equal(packed.labels, folder.labels)
    assert packed.info.class_names == ("cats", "dogs")
    with pytest.raises(UserError, match="is not a folder"):
        pack_h5(tmp_path / "missing", tmp_path / "x.h5")
    with pytest.raises(UserError, match="does not exist"):
        pack_h5(tmp_path / "pics", tmp_path / "no" / "x.h5")


# --- procedural and torchvision data --------------------------------------------------------------------


def test_shapes_are_deterministic_and_labelled():
    first, labels = draw_shapes(count=300, size=32)
    again, labels_again = draw_shapes(count=300, size=32)
    assert first.tobytes() == again.tobytes() and np.array_equal(labels, labels_again)
    assert first.shape == (300, 3, 32, 32) and set(labels.tolist()) == {0, 1, 2}
    corners, centres = first[:, :, 0, 0], first[:, :, 16, 16]
    assert (corners != centres).any(axis=1).mean() > 0.5  # shapes differ from their backgrounds
    source = load_dataset("shapes")
    assert source.info.shape == (3, 64, 64) and source.info.size == 6000 and source.info.num_classes == 3


def test_shapes_drawn_with_other_outlines_keep_their_colours_places_and_classes():
    shapes, labels = draw_shapes(count=60, size=32)
    circles, same_labels = draw_shapes(count=60, size=32, outlines=(DISTANCES[0],) * 3)
    assert np.array_equal(labels, same_labels)
    circle = labels == 0
    assert np.array_equal(shapes[circle], circles[circle])  # the circles were circles already
    assert all((shapes[index] != circles[index]).any() for index in np.flatnonzero(~circle))
    fields = (shapes != circles).any(axis=1).mean(axis=(1, 2))
    assert fields.max() < 0.3  # only the outlines changed, not the backgrounds


def test_fashion_mnist_needs_a_root_or_download(tmp_path, monkeypatch):
    monkeypatch.setenv("GANTUI_DATASETS_DIR", str(tmp_path / "datasets"))
    with pytest.raises(UserError, match="--download"):
        load_dataset("fashion-mnist")
    with pytest.raises(UserError, match="no FashionMNIST/ under"):
        load_dataset("fashion-mnist", str(tmp_path))
    raw = tmp_path / "FashionMNIST" / "raw"
    for prefix in ("train", "t10k"):
        write_mnist(raw, prefix, 7, compress=False, fill=3)
    source = load_dataset("fashion-mnist", str(tmp_path))
    assert source.info.size == 7 and source.info.class_names[0] == "T-shirt/top"
    assert source.labels.tolist() == [i % 10 for i in range(7)]


# --- the epoch contract and the registry ----------------------------------------------------------------


def small_image_source() -> TensorSource:
    return load_dataset("shapes", image_size=8)


def test_epoch_shapes_ranges_and_reproducibility():
    source = small_image_source()
    batches = all_batches(source, 1000, seed=5)
    assert source.steps_per_epoch(1000) == len(batches) == 6  # the last partial batch is dropped
    x, y = batches[0]
    assert x.shape == (1000, 3, 8, 8) and x.dtype == torch.float32 and x.device == CPU
    assert 0.0 <= x.min() and x.max() <= 1.0 and y.dtype == torch.int64 and y.shape == (1000,)
    again = all_batches(source, 1000, seed=5)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(batches, again, strict=True))
    assert not torch.equal(all_batches(source, 1000, seed=6)[0][0], x)
    seen = torch.cat([labels for _, labels in batches])
    assert len(seen) == 6000 and torch.bincount(seen).tolist() == torch.bincount(source.labels).tolist()


def test_epoch_smaller_than_one_batch(tmp_path):
    source = load_dataset("mnist-csv", str(write_csv(tmp_path / "d.csv", csv_rows(3))))
    assert source.steps_per_epoch(64) == 1
    (x, y), = all_batches(source, 64)
    assert x.shape == (3, 1, 28, 28) and sorted(y.tolist()) == [0, 1, 2]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_epoch_on_cuda():
    source = small_image_source()
    x, y = next(source.epoch(64, torch.device("cuda"), seeded()))
    assert x.is_cuda and y.is_cuda and x.dtype == torch.float32
    x_cpu, _ = next(source.epoch(64, CPU, seeded()))
    assert torch.equal(x.cpu(), x_cpu)


def test_toy_datasets():
    pattern = load_dataset("pattern1010")
    batches = all_batches(pattern, 100)
    assert len(batches) == pattern.steps_per_epoch(100) == 10
    x = torch.cat([batch for batch, _ in batches])
    assert x.shape == (1000, 4) and batches[0][1] is None
    assert (x[:, [0, 2]] >= 0.8).all() and (x[:, [1, 3]] <= 0.2).all() and (x >= 0).all() and (x <= 1).all()
    assert torch.equal(all_batches(pattern, 100)[3][0], batches[3][0])
    curve, _ = load_dataset("quadratic").preview(2)
    assert curve.shape == (2, 15) and curve[0, 0] == 3.0 and curve[0, 7] == 1.0 and torch.equal(curve[0], curve[1])
    assert load_dataset("quadratic").info.size is None


def test_registry_and_load_errors(tmp_path):
    names = [spec.name for spec in describe_datasets()]
    assert names == list(DATASETS) and {"mnist", "hdf5", "imagefolder", "shapes", "cifar10"} <= set(names)
    with pytest.raises(UserError, match="did you mean 'mnist'"):
        load_dataset("minst")
    with pytest.raises(UserError, match="takes no --data"):
        load_dataset("shapes", "somewhere")
    with pytest.raises(UserError, match="--image-size does not apply"):
        load_dataset("quadratic", image_size=32)
    with pytest.raises(UserError, match="needs --data"):
        load_dataset("imagefolder")
    with pytest.raises(UserError, match="cannot be downloaded"):
        load_dataset("shapes", download=True)


def test_validate_data_path_reasons(tmp_path):
    csv = write_csv(tmp_path / "d.csv", csv_rows(2))
    assert validate_data_path("mnist-csv", str(csv)) is None
    assert "785" in validate_data_path("mnist-csv", str(write_csv(tmp_path / "e.csv", csv_rows(2)[:, :100])))
    assert "is not a file" in validate_data_path("mnist-csv", str(tmp_path / "nope.csv"))
    assert validate_data_path("mnist", None) is None and validate_data_path("shapes", None) is None
    assert "needs --data" in validate_data_path("hdf5", "")
    assert "takes no --data" in validate_data_path("pattern1010", str(tmp_path))
    assert "unknown dataset" in validate_data_path("nope", None)
    assert "no .png" in validate_data_path("imagefolder", str(tmp_path))
    assert "no FashionMNIST/" in validate_data_path("fashion-mnist", str(tmp_path))
