"""The bad-input corpus: every way a person can hand gantui something it cannot use, made by this script.

Each case is a name, the files it needs (built here with numpy, h5py, PIL, gzip and the engine itself — no
binary files are kept in the repository) and the `gantui` command that meets them, with words the one-line
refusal must contain. tests/test_bad_input.py runs every case: exit status 2, exactly one line on stderr, no
traceback, no new run folder, no change to the other runs.

    python tests/corpus.py OUT_DIR     # writes every case's files under OUT_DIR and prints its command
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

Build = Callable[[Path, Path], None]  # build(case_dir, good_run): make the files the command needs


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]  # {dir} is the case's folder, {run} a damaged copy of a finished run, {runs} the runs folder
    words: tuple[str, ...]  # what the one line must say
    build: Build | None = None
    root_refuses: bool = True  # False: root ignores file permissions, so the case only holds for other users
    needs_run: bool = False  # the case works on {run}, a copy of the finished fixture run


# ---- file makers ---------------------------------------------------------------------------------------
def _text(name: str, text: str, encoding: str = "utf-8") -> Build:
    def build(folder: Path, run: Path) -> None:
        (folder / name).write_bytes(text.encode(encoding))
    return build


def _bytes(name: str, data: bytes) -> Build:
    def build(folder: Path, run: Path) -> None:
        (folder / name).write_bytes(data)
    return build


def _digits_csv(rows: int = 8, label: int = 3, pixel: str = "0", width: int = 784) -> str:
    return "".join(f"{label}," + ",".join([pixel] * width) + "\n" for _ in range(rows))


def _h5(name: str, make: Callable[[h5py.File], None]) -> Build:
    def build(folder: Path, run: Path) -> None:
        with h5py.File(folder / name, "w") as handle:
            make(handle)
    return build


def _pictures(name: str, count: int, broken: bool = False, nested: bool = False) -> Build:
    def build(folder: Path, run: Path) -> None:
        target = folder / name
        target.mkdir()
        for index in range(count):
            path = (target / f"class{index % 2}" if nested else target) / f"{index}.png"
            path.parent.mkdir(exist_ok=True)
            if broken:
                path.write_bytes(b"\x89PNG but not really")
            else:
                Image.new("RGB", (20, 20), (index * 40 % 256, 0, 0)).save(path)
    return build


def _idx(name: str, images: bytes | None, labels: bytes | None) -> Build:
    def build(folder: Path, run: Path) -> None:
        target = folder / name
        target.mkdir()
        if images is not None:
            (target / "train-images-idx3-ubyte").write_bytes(images)
        if labels is not None:
            (target / "train-labels-idx1-ubyte").write_bytes(labels)
    return build


def _idx_header(kind: int, *shape: int) -> bytes:
    return bytes([0, 0, 0x08, kind]) + b"".join(n.to_bytes(4, "big") for n in shape)


GOOD_IMAGES = _idx_header(3, 4, 28, 28) + bytes(4 * 784)
GOOD_LABELS = _idx_header(1, 4) + bytes([1, 2, 3, 4])


def _edit_json(file: str, edit: Callable[[dict], object]) -> Build:
    """Rewrite one JSON file of the damaged run copy."""
    def build(folder: Path, run: Path) -> None:
        path = run / file
        data = json.loads(path.read_text())
        path.write_text(json.dumps(edit(data)))
    return build


def _set(key: str, value: object) -> Callable[[dict], dict]:
    def edit(data: dict) -> dict:
        data[key] = value
        return data
    return edit


def _drop(key: str) -> Callable[[dict], dict]:
    def edit(data: dict) -> dict:
        data.pop(key, None)
        return data
    return edit


def _replace_file(file: str, data: bytes | None) -> Build:
    """Overwrite (or, with None, delete) one file of the damaged run copy."""
    def build(folder: Path, run: Path) -> None:
        path = run / file
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
    return build


def _checkpoint(edit: Callable[[dict], None]) -> Build:
    """Load the run copy's last.pt, change it, save it back (with torch, as a damaged checkpoint would be)."""
    def build(folder: Path, run: Path) -> None:
        import torch

        path = run / "checkpoints" / "last.pt"
        state = torch.load(path, weights_only=True)
        edit(state)
        torch.save(state, path)
    return build


def _wrong_shapes(state: dict) -> None:
    first = next(iter(state["generator"]))
    state["generator"][first] = state["generator"][first][..., :1].clone()


def _nan_generator(state: dict) -> None:
    for tensor in state["generator"].values():
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))


def _pickled_object(folder: Path, run: Path) -> None:
    import pickle

    (run / "checkpoints" / "last.pt").write_bytes(pickle.dumps({"a": complex(1, 2), "f": Path("x")}))


def _a_file(name: str) -> Build:
    return _text(name, "not a folder\n")


def _read_only_folder(name: str) -> Build:
    def build(folder: Path, run: Path) -> None:
        (folder / name).mkdir()
        (folder / name).chmod(0o555)
    return build


def _live_status(folder: Path, run: Path) -> None:
    """The run copy says it is live on another machine, with a fresh heartbeat."""
    import time

    path = run / "status.json"
    status = json.loads(path.read_text())
    status.update(state="running", host="another-host.example", pid=4242, heartbeat=time.time() + 3600)
    path.write_text(json.dumps(status))


def _both(*builds: Build) -> Build:
    def build(folder: Path, run: Path) -> None:
        for step in builds:
            step(folder, run)
    return build


TRAIN = ("train", "--steps", "1", "--device", "cpu", "--runs-dir", "{runs}")  # a later flag overrides these
MNIST_CSV = (*TRAIN, "-d", "mnist-csv", "-a", "mlp", "--data")
HDF5 = (*TRAIN, "-d", "hdf5", "-a", "mlp", "--data")
FOLDER = (*TRAIN, "-d", "imagefolder", "-a", "mlp", "--data")
MNIST = (*TRAIN, "-d", "mnist", "-a", "mlp")
TOY = (*TRAIN, "-d", "pattern1010", "-a", "pattern-mlp")


def _case(name: str, argv: tuple[str, ...], *words: str, build: Build | None = None, **flags) -> Case:
    return Case(name, tuple(argv), tuple(words), build, **flags)


CASES: list[Case] = [
    # ---- CSV ---------------------------------------------------------------------------------------------
    _case("csv-missing", (*MNIST_CSV, "{dir}/missing.csv"), "missing.csv"),
    _case("csv-short-rows", (*MNIST_CSV, "{dir}/short.csv"), "short.csv", build=_text("short.csv", "1,2,3\n4,5,6\n")),
    _case("csv-words", (*MNIST_CSV, "{dir}/words.csv"), "words.csv", build=_text("words.csv", _digits_csv(pixel="x"))),
    _case("csv-label-12", (*MNIST_CSV, "{dir}/label.csv"), "label.csv",
          build=_text("label.csv", _digits_csv(label=12))),
    _case("csv-empty", (*MNIST_CSV, "{dir}/empty.csv"), "empty.csv", build=_text("empty.csv", "")),
    _case("csv-pixel-300", (*MNIST_CSV, "{dir}/bright.csv"), "bright.csv",
          build=_text("bright.csv", _digits_csv(pixel="300"))),
    _case("csv-785-pixels", (*MNIST_CSV, "{dir}/wide.csv"), "wide.csv",
          build=_text("wide.csv", _digits_csv(width=785))),
    _case("csv-a-folder", (*MNIST_CSV, "{dir}"), "csv"),
    _case("csv-binary", (*MNIST_CSV, "{dir}/noise.csv"), "noise.csv",
          build=_bytes("noise.csv", bytes(range(256)) * 8)),
    _case("csv-gzip-garbage", (*MNIST_CSV, "{dir}/digits.csv.gz"), "digits.csv.gz",
          build=_bytes("digits.csv.gz", gzip.compress(b"1,2\n3,4\n"))),
    # ---- HDF5 --------------------------------------------------------------------------------------------
    _case("h5-missing", (*HDF5, "{dir}/missing.h5"), "missing.h5"),
    _case("h5-not-hdf5", (*HDF5, "{dir}/fake.h5"), "fake.h5", build=_text("fake.h5", "hello")),
    _case("h5-empty-file", (*HDF5, "{dir}/empty.h5"), "empty.h5", build=_h5("empty.h5", lambda h: None)),
    _case("h5-rank-1", (*HDF5, "{dir}/rank.h5"), "rank.h5",
          build=_h5("rank.h5", lambda h: h.create_dataset("x", data=np.zeros(4, np.uint8)))),
    _case("h5-float-range", (*HDF5, "{dir}/hot.h5"), "hot.h5",
          build=_h5("hot.h5", lambda h: h.create_dataset("x", data=np.full((4, 8, 8, 3), 4000.0, np.float32)))),
    _case("h5-nan", (*HDF5, "{dir}/nan.h5"), "nan.h5",
          build=_h5("nan.h5", lambda h: h.create_dataset("x", data=np.full((4, 8, 8, 3), np.nan, np.float32)))),
    _case("h5-missing-key", (*HDF5, "{dir}/pics.h5:nope"), "nope",
          build=_h5("pics.h5", lambda h: h.create_dataset("x", data=np.zeros((4, 8, 8, 3), np.uint8)))),
    _case("h5-strings", (*HDF5, "{dir}/words.h5"), "words.h5",
          build=_h5("words.h5", lambda h: h.create_dataset("x", data=np.array([b"a", b"b"])))),
    _case("h5-empty-group", (*HDF5, "{dir}/group.h5"), "group.h5",
          build=_h5("group.h5", lambda h: h.create_group("img_align_celeba"))),
    # ---- image folders -----------------------------------------------------------------------------------
    _case("folder-missing", (*FOLDER, "{dir}/nowhere"), "nowhere"),
    _case("folder-empty", (*FOLDER, "{dir}/empty"), "empty", build=_pictures("empty", 0)),
    _case("folder-only-broken", (*FOLDER, "{dir}/broken"), "broken", build=_pictures("broken", 3, broken=True)),
    _case("folder-is-a-file", (*FOLDER, "{dir}/file.png"), "file.png", build=_a_file("file.png")),
    _case("folder-cgan-unlabelled", (*TRAIN, "-d", "imagefolder", "-a", "cgan", "--data", "{dir}/flat"), "cgan",
          "label", build=_pictures("flat", 3)),
    _case("folder-toy-arch", (*TRAIN, "-d", "imagefolder", "-a", "curve-mlp", "--data", "{dir}/pics"), "curve-mlp",
          build=_pictures("pics", 3, nested=True)),
    # ---- idx files ---------------------------------------------------------------------------------------
    _case("idx-truncated", (*MNIST, "--data", "{dir}/idx"), "idx",
          build=_idx("idx", GOOD_IMAGES[:-100], GOOD_LABELS)),
    _case("idx-wrong-magic", (*MNIST, "--data", "{dir}/idx"), "idx",
          build=_idx("idx", b"\x01\x02\x03\x04" + GOOD_IMAGES[4:], GOOD_LABELS)),
    _case("idx-no-labels", (*MNIST, "--data", "{dir}/idx"), "idx", build=_idx("idx", GOOD_IMAGES, None)),
    _case("idx-count-mismatch", (*MNIST, "--data", "{dir}/idx"), "idx",
          build=_idx("idx", GOOD_IMAGES, _idx_header(1, 3) + bytes(3))),
    _case("idx-empty-folder", (*MNIST, "--data", "{dir}/idx"), "idx", build=_idx("idx", None, None)),
    # ---- every option ------------------------------------------------------------------------------------
    _case("lr-zero", (*MNIST, "--lr", "0"), "--lr"),
    _case("lr-negative", (*MNIST, "--lr", "-1"), "--lr"),
    _case("lr-word", (*MNIST, "--lr", "abc"), "--lr"),
    _case("lr-nan", (*MNIST, "--lr", "nan"), "--lr"),
    _case("lr-inf", (*MNIST, "--lr", "inf"), "--lr"),
    _case("lr-d-zero", (*MNIST, "--lr-d", "0"), "--lr-d"),
    _case("lr-d-word", (*MNIST, "--lr-d", "fast"), "--lr-d"),
    _case("label-smoothing-too-big", (*MNIST, "--label-smoothing", "0.9"), "--label-smoothing"),
    _case("label-smoothing-negative", (*MNIST, "--label-smoothing", "-0.1"), "--label-smoothing"),
    _case("label-smoothing-hinge", (*MNIST, "--loss", "hinge", "--label-smoothing", "0.1"), "--label-smoothing"),
    _case("betas-one", (*MNIST, "--betas", "0.5"), "--betas"),
    _case("betas-too-big", (*MNIST, "--betas", "0.5,1.5"), "--betas"),
    _case("betas-words", (*MNIST, "--betas", "a,b"), "--betas"),
    _case("batch-zero", (*MNIST, "--batch-size", "0"), "--batch-size"),
    _case("batch-huge", (*MNIST, "--batch-size", "100000000"), "--batch-size"),
    _case("steps-zero", (*MNIST, "--steps", "0"), "--steps"),
    _case("epochs-negative", ("train", "--epochs", "-2", "-d", "mnist", "-a", "mlp", "--runs-dir", "{runs}"),
          "--epochs"),
    _case("steps-and-epochs", (*MNIST, "--epochs", "2"), "--epochs"),
    _case("latent-zero", (*MNIST, "--latent-dim", "0"), "--latent-dim"),
    _case("latent-huge", (*MNIST, "--latent-dim", "100000000"), "--latent-dim"),
    _case("latent-fixed-dim", (*MNIST, "--latent", "fixed"), "--latent"),
    _case("image-size-zero", (*MNIST, "--image-size", "0"), "--image-size"),
    _case("image-size-huge", (*MNIST, "--image-size", "5000"), "--image-size"),
    _case("image-size-toy", (*TOY, "--image-size", "32"), "image-size"),
    _case("image-size-wrong-for-arch", (*TRAIN, "-d", "mnist", "-a", "dcgan64", "--image-size", "32"), "64"),
    _case("seed-negative", (*MNIST, "--seed", "-1"), "--seed"),
    _case("seed-huge", (*MNIST, "--seed", str(2**40)), "--seed"),
    _case("sample-count-zero", (*MNIST, "--sample-count", "0"), "--sample-count"),
    _case("sample-count-huge", (*MNIST, "--sample-count", "10000000"), "--sample-count"),
    _case("log-every-zero", (*MNIST, "--log-every", "0"), "--log-every"),
    _case("eval-every-negative", (*MNIST, "--eval-every", "-1"), "--eval-every"),
    _case("checkpoint-every-zero", (*MNIST, "--checkpoint-every", "0"), "--checkpoint-every"),
    _case("device-tpu", (*MNIST, "--device", "tpu"), "tpu"),
    _case("device-cuda-9", (*MNIST, "--device", "cuda:9"), "cuda"),
    _case("dataset-unknown", (*TRAIN, "-d", "nope", "-a", "mlp"), "nope"),
    _case("arch-unknown", (*TRAIN, "-d", "mnist", "-a", "nope"), "nope"),
    _case("loss-unknown", (*MNIST, "--loss", "nope"), "--loss"),
    _case("arch-needs-vectors", (*TRAIN, "-d", "mnist", "-a", "pattern-mlp"), "pattern-mlp"),
    _case("arch-needs-labels", (*TRAIN, "-d", "pattern1010", "-a", "cgan"), "cgan"),
    _case("generated-takes-no-data", (*TRAIN, "-d", "shapes", "-a", "dcgan64", "--data", "{dir}"), "shapes"),
    _case("download-not-possible", (*TRAIN, "-d", "shapes", "-a", "dcgan64", "--download"), "download"),
    _case("needs-data", (*TRAIN, "-d", "hdf5", "-a", "mlp"), "--data"),
    # ---- run names and runs folders ----------------------------------------------------------------------
    _case("name-escapes", (*TOY, "--name", "a/../../escaped"), "--name"),
    _case("name-absolute", (*TOY, "--name", "/tmp/x"), "--name"),
    _case("name-newline", (*TOY, "--name", "a\nb"), "--name"),
    _case("name-slash", (*TOY, "--name", "/"), "--name"),
    _case("name-dots", (*TOY, "--name", ".."), "--name"),
    _case("name-long", (*TOY, "--name", "n" * 300), "--name"),
    _case("runs-dir-is-a-file", ("train", "-d", "pattern1010", "-a", "pattern-mlp", "--steps", "1",
                                 "--runs-dir", "{dir}/file"), "file", build=_a_file("file")),
    _case("runs-dir-under-a-file", ("train", "-d", "pattern1010", "-a", "pattern-mlp", "--steps", "1",
                                    "--runs-dir", "{dir}/file/runs"), "file", build=_a_file("file")),
    _case("runs-dir-read-only", ("train", "-d", "pattern1010", "-a", "pattern-mlp", "--steps", "1",
                                 "--runs-dir", "{dir}/locked/runs"), "locked", build=_read_only_folder("locked"),
          root_refuses=False),
    _case("config-missing", ("train", "--config", "{dir}/nope.json", "--runs-dir", "{runs}"), "nope.json"),
    _case("config-not-json", ("train", "--config", "{dir}/bad.json", "--runs-dir", "{runs}"), "bad.json",
          build=_text("bad.json", "{nope")),
    _case("config-wrong-type", ("train", "--config", "{dir}/c.json", "--runs-dir", "{runs}"), "--lr",
          build=_text("c.json", json.dumps({"dataset": "mnist", "arch": "mlp", "lr": "0.001", "steps": 1}))),
    _case("config-a-list", ("train", "--config", "{dir}/c.json", "--runs-dir", "{runs}"), "c.json",
          build=_text("c.json", "[1, 2]")),
    # ---- commands that take a run ------------------------------------------------------------------------
    _case("watch-no-run", ("watch", "nope", "--runs-dir", "{runs}"), "nope"),
    _case("resume-no-run", ("resume", "nope", "--runs-dir", "{runs}"), "nope"),
    _case("sample-no-run", ("sample", "nope", "--out", "{dir}/x.png", "--runs-dir", "{runs}"), "nope"),
    _case("export-no-run", ("export", "nope", "--out", "{dir}/x.pt", "--runs-dir", "{runs}"), "nope"),
    _case("compare-one-run", ("compare", "{run}", "--runs-dir", "{runs}"), "compare", needs_run=True),
    _case("compare-same-twice", ("compare", "{run}", "{run}", "--runs-dir", "{runs}"), "twice", needs_run=True),
    _case("compare-nine-runs", ("compare", *["{run}"] * 9, "--runs-dir", "{runs}"), "compare", needs_run=True),
    _case("runs-dir-file-listing", ("runs", "--runs-dir", "{dir}/file"), "file", build=_a_file("file")),
    _case("resume-not-longer", ("resume", "{run}", "--steps", "1"), "already", needs_run=True),
    _case("resume-steps-zero", ("resume", "{run}", "--steps", "0"), "--steps", needs_run=True),
    _case("resume-live-elsewhere", ("resume", "{run}", "--steps", "99"), "another-host", build=_live_status,
          needs_run=True),
    _case("sample-n-zero", ("sample", "{run}", "-n", "0", "--out", "{dir}/x.png"), "-n", needs_run=True),
    _case("sample-n-huge", ("sample", "{run}", "-n", "10000000", "--out", "{dir}/x.png"), "-n", needs_run=True),
    _case("sample-label-unconditional", ("sample", "{run}", "--label", "3", "--out", "{dir}/x.png"), "--label",
          needs_run=True),
    _case("sample-seed-negative", ("sample", "{run}", "--seed", "-5", "--out", "{dir}/x.png"), "--seed",
          needs_run=True),
    # ---- damaged run files -------------------------------------------------------------------------------
    _case("config-json-missing", ("resume", "{run}", "--steps", "99"), "config.json",
          build=_replace_file("config.json", None), needs_run=True),
    _case("config-json-garbage", ("resume", "{run}", "--steps", "99"), "config.json",
          build=_replace_file("config.json", b"\x00\x01garbage"), needs_run=True),
    _case("config-json-betas-5", ("resume", "{run}", "--steps", "99"), "--betas",
          build=_edit_json("config.json", _set("betas", 5)), needs_run=True),
    _case("config-json-lr-text", ("sample", "{run}", "--out", "{dir}/x.png"), "--lr",
          build=_edit_json("config.json", _set("lr", "0.001")), needs_run=True),
    _case("config-json-arch-unknown", ("export", "{run}", "--out", "{dir}/g.pt"), "gpt",
          build=_edit_json("config.json", _set("arch", "gpt")), needs_run=True),
    _case("config-json-no-data-info", ("sample", "{run}", "--out", "{dir}/x.png"), "data_info",
          build=_edit_json("config.json", _drop("data_info")), needs_run=True),
    _case("config-json-a-list", ("resume", "{run}", "--steps", "99"), "config.json",
          build=_replace_file("config.json", b"[1, 2, 3]"), needs_run=True),
    _case("checkpoint-missing-sample", ("sample", "{run}", "--out", "{dir}/x.png"), "checkpoint",
          build=_replace_file("checkpoints/last.pt", None), needs_run=True),
    _case("checkpoint-truncated", ("resume", "{run}", "--steps", "99"), "checkpoint",
          build=_replace_file("checkpoints/last.pt", b"PK\x03\x04 torn"), needs_run=True),
    _case("checkpoint-pickled-objects", ("sample", "{run}", "--out", "{dir}/x.png"), "checkpoint",
          build=_pickled_object, needs_run=True),
    _case("checkpoint-wrong-shapes-sample", ("sample", "{run}", "--out", "{dir}/x.png"), "generator",
          build=_checkpoint(_wrong_shapes), needs_run=True),
    _case("checkpoint-wrong-shapes-resume", ("resume", "{run}", "--steps", "99"), "generator",
          build=_checkpoint(_wrong_shapes), needs_run=True),
    _case("checkpoint-wrong-shapes-export", ("export", "{run}", "--out", "{dir}/g.pt"), "generator",
          build=_checkpoint(_wrong_shapes), needs_run=True),
    _case("checkpoint-nan-generator", ("sample", "{run}", "--out", "{dir}/x.png"), "non-finite",
          build=_checkpoint(_nan_generator), needs_run=True),
    _case("checkpoint-step-text", ("resume", "{run}", "--steps", "99"), "step",
          build=_checkpoint(lambda state: state.update(step="ten")), needs_run=True),
    _case("checkpoint-missing-key", ("resume", "{run}", "--steps", "99"), "keys",
          build=_checkpoint(lambda state: state.pop("rng")), needs_run=True),
    # ---- output paths ------------------------------------------------------------------------------------
    _case("sample-out-folder", ("sample", "{run}", "--out", "{dir}"), "folder", needs_run=True),
    _case("sample-out-missing-folder", ("sample", "{run}", "--out", "{dir}/no/such/x.png"), "does not exist",
          needs_run=True),
    _case("export-out-folder", ("export", "{run}", "--out", "{dir}"), "folder", needs_run=True),
    _case("export-out-missing-folder", ("export", "{run}", "--out", "{dir}/no/g.pt"), "does not exist",
          needs_run=True),
    _case("sample-out-read-only", ("sample", "{run}", "--out", "{dir}/locked/x.png"), "locked",
          build=_read_only_folder("locked"), needs_run=True, root_refuses=False),
    _case("pack-h5-missing-source", ("pack-h5", "{dir}/nowhere", "{dir}/out.h5"), "nowhere"),
    _case("pack-h5-no-pictures", ("pack-h5", "{dir}/empty", "{dir}/out.h5"), "empty", build=_pictures("empty", 0)),
    _case("pack-h5-missing-out-folder", ("pack-h5", "{dir}/pics", "{dir}/no/out.h5"), "no",
          build=_pictures("pics", 2)),
    _case("pack-h5-size-zero", ("pack-h5", "{dir}/pics", "{dir}/out.h5", "--size", "0"), "size 0",
          build=_pictures("pics", 2)),
    _case("pack-h5-out-read-only", ("pack-h5", "{dir}/pics", "{dir}/locked/out.h5"), "locked",
          build=_both(_pictures("pics", 2), _read_only_folder("locked")), root_refuses=False),
]


def expand(case: Case, folder: Path, runs: Path, run: Path | None) -> list[str]:
    """The case's command line with its folders filled in."""
    values = {"dir": str(folder), "runs": str(runs), "run": str(run) if run else ""}
    return [part.format(**values) for part in case.argv]


def main(out: Path) -> None:
    """Write every case's files under `out` (one folder each) and print the commands, for a look by hand."""
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        folder = out / case.name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        run = folder / "run"
        run.mkdir()
        if case.build is not None and not case.needs_run:
            case.build(folder, run)
        print(case.name, " ".join(expand(case, folder, out / "runs", run)))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bad-input-corpus"))
