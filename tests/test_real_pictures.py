"""Real users' pictures, as they come (HDF5 of any pixel type, folders with links and odd files, pack-h5):
every picture used, or skipped with a counted reason, or one clean sentence that says what to do."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image
from test_real_data import refused

from gantui.cli import main as cli_main
from gantui.engine.data import imagefolder, load_dataset, validate_data_path
from gantui.engine.data.hdf5 import load_hdf5
from gantui.engine.data.imagefolder import load_imagefolder
from gantui.engine.data.stream_source import StreamSource
from gantui.engine.data.tensor_source import TensorSource

# --- HDF5: uint16 and float pictures, groups of several sizes -------------------------------------------


def rgb_pictures(count: int = 6, height: int = 5, width: int = 7) -> np.ndarray:
    """uint8 (N, H, W, 3) with values spread over 0-255."""
    return (np.arange(count * height * width * 3).reshape(count, height, width, 3) * 37 % 256).astype(np.uint8)


def write_h5(path: Path, **datasets: np.ndarray) -> Path:
    with h5py.File(path, "w") as handle:
        for key, data in datasets.items():
            handle[key] = data
    return path


def both_paths(path: Path | str, image_size: int | None = None) -> list:
    """The in-memory source and the streaming one of the same file (the streaming one reads in this process),
    loaded with every warning an error: none may reach the user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        in_memory = load_hdf5(str(path), image_size, False)
        streamed = load_hdf5(str(path), image_size, False, in_memory_bytes=0)
    streamed.num_workers = 0
    assert isinstance(in_memory, TensorSource) and isinstance(streamed, StreamSource)
    return [in_memory, streamed]


def all_samples(source) -> np.ndarray:
    """Every picture of a source as uint8 (N, C, H, W), in file order (read with every warning an error)."""
    if isinstance(source, TensorSource):
        return source.samples.numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return np.stack([source.dataset[index][0].numpy() for index in range(len(source))])


@pytest.mark.parametrize(
    "stored",
    [
        lambda pixels: pixels.astype(np.float32) / 255,
        lambda pixels: pixels.astype(np.float32),
        lambda pixels: pixels.astype(np.float64) / 255,
        lambda pixels: pixels.astype(np.float16) / 255,
        lambda pixels: pixels.astype(np.uint16) * 257,
        lambda pixels: pixels.astype(np.int64),
    ],
    ids=["float32 0-1", "float32 0-255", "float64 0-1", "float16 0-1", "uint16", "int64 0-255"],
)
def test_hdf5_common_pixel_types_load_as_uint8(tmp_path, stored):
    pixels = rgb_pictures()
    path = write_h5(tmp_path / "pics.h5", images=stored(pixels))
    for source in both_paths(path):
        assert source.info.size == 6 and source.info.shape == (3, 5, 7)
        tolerance = 1 if stored(pixels).dtype == np.float16 else 0  # float16 keeps 11 bits
        assert np.abs(all_samples(source).astype(int) - pixels.transpose(0, 3, 1, 2)).max() <= tolerance
    assert validate_data_path("hdf5", str(path)) is None


def test_hdf5_uint16_scales_by_its_full_range(tmp_path):
    stored = np.array([0, 257, 32896, 65535], np.uint16).reshape(1, 1, 2, 2)  # nchw grey
    path = write_h5(tmp_path / "deep.h5", images=stored)
    assert load_dataset("hdf5", str(path)).samples.flatten().tolist() == [0, 1, 128, 255]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (lambda pixels: np.where(pixels == pixels.max(), np.nan, pixels / 255).astype(np.float32),
         "holds NaN or infinite values"),
        (lambda pixels: np.full(pixels.shape, np.inf, np.float32), "holds NaN or infinite values"),
        (lambda pixels: pixels / 127.5 - 1, r"values run from -1 to 1; .*\(x \+ 1\) / 2"),
        (lambda pixels: pixels.astype(np.float32) * 4, "values run from 0 to 1020; store pictures as uint8, uint16"),
        (lambda pixels: pixels.astype(np.int32) * 16, "values run from 0 to 4080; store pictures as uint8, uint16"),
    ],
    ids=["NaN", "infinity", "-1 to 1", "floats past 255", "12-bit in int32"],
)
def test_hdf5_unreadable_values_are_one_sentence(tmp_path, values, match):
    path = write_h5(tmp_path / "odd.h5", images=values(rgb_pictures()))
    message = refused("hdf5", path, match)
    assert f"{path}:/images" in message


def test_hdf5_group_of_several_sizes_is_refused_without_a_size(tmp_path):
    path = tmp_path / "faces.h5"
    with h5py.File(path, "w") as handle:
        group = handle.create_group("faces")
        for index, (height, width) in enumerate([(5, 7)] * 3 + [(9, 4), (5, 7)]):
            group[f"{index}.jpg"] = rgb_pictures(1, height, width)[0]
    refused("hdf5", path, r"different sizes \(5×7 in 0.jpg, 9×4 in 3.jpg\); pass --image-size N")
    for source in both_paths(path, image_size=4):
        assert source.info.size == 5 and source.info.shape == (3, 4, 4)
        assert all_samples(source).shape == (5, 3, 4, 4)


def test_hdf5_group_with_grey_and_float_pictures(tmp_path):
    colour = rgb_pictures(2)
    path = tmp_path / "mixed.h5"
    with h5py.File(path, "w") as handle:
        group = handle.create_group("pictures")
        group["0"] = colour[0].astype(np.float32) / 255
        group["1"] = (colour[1, :, :, :1].astype(np.float32) / 255)  # grey, one channel
    for source in both_paths(path):
        samples = all_samples(source)
        assert source.info.shape == (3, 5, 7) and samples.shape == (2, 3, 5, 7)
        assert np.array_equal(samples[0], colour[0].transpose(2, 0, 1))
        assert (samples[1] == colour[1, :, :, 0]).all()  # grey spread over the three channels


def test_hdf5_group_of_two_types_is_refused(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as handle:
        handle["g/0"] = rgb_pictures(1)[0]
        handle["g/1"] = rgb_pictures(1)[0].astype(np.float32)
    refused("hdf5", path, r"pictures of type uint8 \(0\) and float32 \(1\); store them all as one type")


@pytest.mark.parametrize(
    ("labels", "note"),
    [
        (np.arange(5), "5 values for 6 pictures"),
        (np.linspace(0, 1, 6), "not whole numbers"),
        (np.zeros((6, 2), np.int64), "not one whole number per picture"),
    ],
)
def test_hdf5_labels_that_do_not_fit_are_a_warning(tmp_path, labels, note):
    path = write_h5(tmp_path / "l.h5", images=rgb_pictures(), labels=labels)
    for source in both_paths(path):
        assert source.info.num_classes is None and source.info.size == 6
        assert len(source.warnings) == 1 and "/labels is not used as labels" in source.warnings[0]
        assert note in source.warnings[0]


def test_hdf5_whole_float_labels_are_used(tmp_path):
    path = write_h5(tmp_path / "l.h5", images=rgb_pictures(), labels=np.array([0, 1, 2, 0, 1, 2], np.float32))
    source = load_dataset("hdf5", str(path))
    assert source.info.num_classes == 3 and source.labels.tolist() == [0, 1, 2, 0, 1, 2]



def test_hdf5_cut_short_is_one_sentence(tmp_path):
    path = write_h5(tmp_path / "cut.h5", images=rgb_pictures(50))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    message = refused("hdf5", path, r"not a readable file \(.*truncated.*\); is it whole\? copy or download it again")
    assert message.startswith(f"hdf5: {path}")
    assert "is it whole" in validate_data_path("hdf5", str(path))

# --- image folders: each real file once, every picture mode, Pillow's warnings decided ------------------


def picture(path: Path, mode: str = "RGB", colour=(200, 10, 10), size=(40, 30), **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, **save)
    return path


def both_folder_paths(path: Path, image_size: int = 8) -> list:
    """The in-memory source and the streaming one of the same folder, loaded with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        in_memory = load_imagefolder(str(path), image_size, False)
        streamed = load_imagefolder(str(path), image_size, False, max_in_memory=0)
    assert isinstance(in_memory, TensorSource) and isinstance(streamed, StreamSource)
    return [in_memory, streamed]


def test_imagefolder_symlink_loops_and_second_links_count_each_file_once(tmp_path):
    root = tmp_path / "pics"
    for index in range(5):
        picture(root / "a" / f"{index}.png", colour=(index * 40, 0, 0))
    (root / "a" / "loop").symlink_to("..")  # pics/a/loop -> pics: a loop
    (root / "b").symlink_to("a")  # a second way into the same folder
    (root / "a" / "again.png").symlink_to("0.png")  # a second name for one file
    outside = picture(tmp_path / "elsewhere" / "x.png", colour=(1, 2, 3))
    (root / "a" / "linked.png").symlink_to(outside)  # a file outside the folder, linked in: counted
    for source in both_folder_paths(root):
        assert source.info.size == 6 and source.skipped == 0
    assert validate_data_path("imagefolder", str(root)) is None
    (tmp_path / "loops" / "x").mkdir(parents=True)
    (tmp_path / "loops" / "x" / "up").symlink_to("..")
    (tmp_path / "loops" / "x" / "again").symlink_to("..")
    assert "no .png/.jpg" in validate_data_path("imagefolder", str(tmp_path / "loops"))


def test_imagefolder_counts_empty_files_and_broken_links(tmp_path):
    picture(tmp_path / "good.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (tmp_path / "readme.txt").write_text("not a picture, not counted")
    for source in both_folder_paths(tmp_path):
        assert source.info.size == 1 and source.skipped == 2 and len(source.warnings) == 1
        assert "skipped 2 images" in source.warnings[0]
        assert "empty.jpg (an empty file)" in source.warnings[0]
        assert "gone.png (No such file or directory)" in source.warnings[0]


def test_imagefolder_folder_that_cannot_be_listed_is_a_warning(tmp_path, monkeypatch):
    picture(tmp_path / "open" / "a.png")
    picture(tmp_path / "locked" / "b.png")
    scandir = os.scandir

    def refusing(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(imagefolder.os, "scandir", refusing)
    for source in both_folder_paths(tmp_path):
        assert source.info.size == 1
        assert any("skipped 1 folder that cannot be read" in line and "Permission denied" in line
                   for line in source.warnings)
    refused("imagefolder", tmp_path / "locked", r"no picture files under .*locked: cannot read .*Permission denied")


def png16(path: Path, grey: np.ndarray) -> Path:
    Image.fromarray(grey.astype(np.uint16)).save(path)
    assert Image.open(path).mode == "I;16"
    return path


def test_imagefolder_picture_modes(tmp_path):
    png16(tmp_path / "a_bright16.png", np.full((30, 40), 25700))  # 25700 / 65535 of white
    png16(tmp_path / "b_dark16.png", np.full((30, 40), 200))  # nearly black: not read as 8-bit 200
    Image.fromarray(np.full((30, 40), 0.5, np.float32)).save(tmp_path / "c_float.tif")
    picture(tmp_path / "d_cmyk.jpg", "CMYK", (0, 255, 255, 0), quality=95)
    palette = Image.new("P", (40, 30), 1)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.save(tmp_path / "e_palette.png", transparency=1)  # see-through blue: lies over white
    picture(tmp_path / "f_grey_alpha.png", "LA", (0, 0))
    picture(tmp_path / "g_one_bit.png", "1", 1)
    picture(tmp_path / "h_tiff.tiff", "RGB", (10, 20, 30))
    for source in both_folder_paths(tmp_path):
        assert source.info.size == 8 and source.skipped == 0
        centre = all_samples(source)[:, :, 4, 4].tolist()
        assert centre[0] == [100] * 3 and centre[1] == [1] * 3 and centre[2] == [128] * 3
        assert centre[3][0] > 240 and max(centre[3][1:]) < 15  # cyan and yellow ink make red
        assert centre[4] == [255] * 3 and centre[5] == [255] * 3 and centre[6] == [255] * 3
        assert centre[7] == [10, 20, 30]


def test_imagefolder_decides_large_pictures_without_pillow_warnings(tmp_path, monkeypatch, capfd):
    picture(tmp_path / "a.png", size=(40, 30))  # 1,200 pixels
    picture(tmp_path / "b.png", size=(100, 100))  # 10,000 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow's own limit below both: it would warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that escapes fails the test
        for source in both_folder_paths(tmp_path):
            assert source.info.size == 2 and source.warnings == []
    assert Image.MAX_IMAGE_PIXELS == 1000  # put back after decoding
    assert capfd.readouterr().err == ""


def test_imagefolder_too_large_pictures_are_skipped_with_a_reason(tmp_path, monkeypatch):
    picture(tmp_path / "a.png", size=(10, 10))
    picture(tmp_path / "b.png", size=(40, 30))  # past the limit
    picture(tmp_path / "c.png", size=(100, 100))  # past twice the limit: Pillow refuses it itself
    monkeypatch.setattr(imagefolder, "MAX_PICTURE_PIXELS", 1100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow warns past its limit (here 1,100): decided, not printed
        sources = both_folder_paths(tmp_path)
    for source in sources:
        assert source.info.size == 1 and source.skipped == 2
        assert "b.png (40×30 pixels, more than the 1,100 gantui decodes; shrink it)" in source.warnings[0]
        assert "c.png (more than 2,200 pixels; shrink it)" in source.warnings[0]


# --- pack-h5: where it cannot write, one line and exit status 2 -----------------------------------------


def pack_cli(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli_main(["pack-h5", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gantui: error: pack-h5: ")
    return err


def test_pack_h5_cannot_write_is_one_line(tmp_path, capsys, monkeypatch):
    picture(tmp_path / "pics" / "a.png")
    assert "does not exist; create it" in pack_cli(capsys, str(tmp_path / "pics"), str(tmp_path / "no" / "x.h5"))
    assert "is a folder" in pack_cli(capsys, str(tmp_path / "pics"), str(tmp_path))
    assert "is not a folder" in pack_cli(capsys, str(tmp_path / "missing"), str(tmp_path / "x.h5"))
    opened = Path.open

    def read_only(self, mode="r", *args, **kwargs):
        if "w" in mode:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", read_only)  # root may write anywhere: a read-only place, emulated
    assert "cannot write" in pack_cli(capsys, str(tmp_path / "pics"), str(tmp_path / "x.h5"))
    assert "Permission denied" in pack_cli(capsys, str(tmp_path / "pics"), str(tmp_path / "x.h5"))
    monkeypatch.undo()
    stat = Path.stat

    def unsearchable(self, *args, **kwargs):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", unsearchable)  # a folder on the way that this user may not enter
    assert "cannot write" in pack_cli(capsys, str(tmp_path / "pics"), str(tmp_path / "locked" / "x.h5"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pics"]  # no temporary file left anywhere
