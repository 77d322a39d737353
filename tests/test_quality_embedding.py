"""The random-embedding metrics mean something: on `shapes` and on a colour photo folder (tests/quality_pictures.py)."""

import json

import h5py
import pytest
import torch
from quality_pictures import blurred, colour_shifted, noised, photo_crops, shapes, write_folder

from gantui.engine.data import load_dataset
from gantui.engine.data.shapes import backgrounds_only
from gantui.engine.events import EVAL_COLUMNS
from gantui.engine.models import get_arch
from gantui.engine.quality import alarms, embedding
from gantui.engine.quality.alarms import AlarmMonitor
from gantui.engine.quality.evaluator import Evaluator, RandomReference

COUNT = 300  # generated (and real manifold) pictures per measurement: small, this machine is slow
CPU = torch.device("cpu")
SPOILERS = {"blur": (blurred, (0.5, 1.0, 2.0, 4.0)), "noise": (noised, (0.02, 0.05, 0.1)),
            "colour shift": (colour_shifted, (0.05, 0.1, 0.2))}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANTUI_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def model():
    return embedding.RandomEmbedding()


@pytest.fixture(scope="module", params=["shapes", "photo"])
def pictures(request, model):
    """(name, reference in the embedding, other real pictures never in the reference)."""
    if request.param == "shapes":
        real, other = shapes(2 * COUNT), shapes(COUNT, 2 * COUNT)
    else:
        real, other = photo_crops(2 * COUNT, seed=0), photo_crops(COUNT, seed=1)
    return request.param, RandomReference(embedding.embed(model, real, CPU), COUNT), other


def pairs(values):
    """(earlier, later) neighbours."""
    return zip(values, values[1:], strict=False)


def test_the_embedding_is_the_same_every_time_and_leaves_the_random_stream_alone():
    torch.manual_seed(3)
    first = embedding.RandomEmbedding()
    after = torch.rand(2)
    torch.manual_seed(3)
    second = embedding.RandomEmbedding()
    assert torch.equal(torch.rand(2), after)
    for name, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[name])
    grey = torch.rand(4, 1, 28, 28)
    assert torch.equal(first(grey), first(grey.expand(-1, 3, -1, -1)))  # grey is three equal channels
    assert first(torch.rand(2, 3, 64, 64)).shape == (2, embedding.FEATURE_DIM)


def test_small_pictures_are_embedded_at_their_own_size_large_ones_at_64():
    assert embedding.prepare(torch.rand(2, 1, 28, 28)).shape == (2, 3, 28, 28)  # MNIST: no enlarging to 32
    assert embedding.prepare(torch.rand(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    assert embedding.prepare(torch.rand(2, 3, 8, 8)).shape == (2, 3, 16, 16)  # four pools need 16 px
    assert embedding.prepare(torch.rand(2, 3, 48, 40)).shape == (2, 3, 64, 64)
    assert embedding.RandomEmbedding()(torch.rand(2, 1, 28, 28)).shape == (2, embedding.FEATURE_DIM)


def test_real_against_real_is_fid_near_zero_and_scores_near_one(pictures, model):
    _, reference, other = pictures
    real = reference.measure(model, other, CPU)
    noise = reference.measure(model, torch.rand_like(other), CPU)
    # FID is biased upwards at few samples: 300 against 600 here (a run measures 1,000 against 2,000: ≈ 1.5)
    assert real["fid_rand"] < 5 and real["fid_rand"] < 0.01 * noise["fid_rand"]
    assert abs(real["kid_rand"]) < 0.01 * noise["kid_rand"]
    for name in ("precision_rand", "recall_rand", "coverage_rand"):
        assert 0.93 <= real[name] <= 1.0 and noise[name] < 0.05
    assert 0.9 <= real["density_rand"] <= 1.15


@pytest.mark.parametrize("spoiler", list(SPOILERS))
def test_more_spoiling_is_monotonically_worse(pictures, model, spoiler):
    name, reference, other = pictures
    spoil, amounts = SPOILERS[spoiler]
    rows = [reference.measure(model, other, CPU)] + [reference.measure(model, spoil(other, a), CPU) for a in amounts]
    fids = [row["fid_rand"] for row in rows]
    kids = [row["kid_rand"] for row in rows]
    precisions = [row["precision_rand"] for row in rows]
    assert fids == sorted(fids) and len(set(fids)) == len(fids), fids
    assert all(later >= earlier - 0.1 for earlier, later in pairs(kids)), kids  # KID's noise near 0
    assert kids[-1] > kids[0] + 0.5, kids
    # precision: never better by more than the noise of 300 samples, and clearly lower at the strongest
    assert all(later <= earlier + 0.01 for earlier, later in pairs(precisions)), precisions
    # precision asks "is it like a real picture?": a tinted shape on a tinted field still is one (shapes'
    # colours are drawn uniformly at random), a tinted photo is not
    if not (name == "shapes" and spoiler == "colour shift"):
        assert precisions[-1] < precisions[0] - 0.3, precisions


def test_one_picture_repeated_has_no_recall_or_coverage_and_raises_the_collapse_alarm(pictures, model):
    _, reference, other = pictures
    row = reference.measure(model, other[:1].repeat(COUNT, 1, 1, 1), CPU)
    assert row["recall_rand"] < 0.02 and row["coverage_rand"] < 0.05
    monitor = AlarmMonitor()
    fired = monitor.observe_eval(500, row)  # no class coverage here: recall and coverage decide
    assert [alarm.kind for alarm in fired] == [alarms.MODE_COLLAPSE]
    assert "recall 0.00" in fired[0].message and "Try" in fired[0].message
    healthy = reference.measure(model, other, CPU)
    assert monitor.observe_eval(1000, healthy) == [] and not monitor.active  # and it clears


def test_half_the_modes_dropped_halves_recall_and_coverage(model):
    reference = RandomReference(embedding.embed(model, photo_crops(2 * COUNT, seed=0), CPU), COUNT)
    two_quadrants = reference.measure(model, photo_crops(COUNT, seed=1, quadrants=(0, 3)), CPU)
    assert 0.4 <= two_quadrants["recall_rand"] <= 0.6 and 0.4 <= two_quadrants["coverage_rand"] <= 0.6
    assert two_quadrants["precision_rand"] > 0.95  # what is there is real


def test_the_right_backgrounds_without_their_shapes_are_far_from_real(model):
    """What a long dcgan64 run on shapes drew (docs/quality.md): plain fields in the real colours, no subject.
    The colour branch alone reads these as fairly real (most of each picture is its background)."""
    reference = RandomReference(embedding.embed(model, shapes(2 * COUNT), CPU), COUNT)
    other = shapes(COUNT, 2 * COUNT)
    real, fields = (reference.measure(model, pictures, CPU) for pictures in (other, backgrounds_only(other)))
    assert fields["recall_rand"] < 0.1 and fields["coverage_rand"] < 0.1 and fields["precision_rand"] < 0.6
    assert fields["fid_rand"] > 50 * real["fid_rand"]


def test_dark_half_of_shapes_lowers_recall_and_coverage(model):
    """Shapes have no clean modes (their colours are drawn at random): half the brightness range dropped."""
    reference = RandomReference(embedding.embed(model, shapes(2 * COUNT), CPU), COUNT)
    candidates = shapes(4 * COUNT, 2 * COUNT)
    brightness = candidates.mean((1, 2, 3))
    dark = candidates[brightness < brightness.median()][:COUNT]
    row = reference.measure(model, dark, CPU)
    assert 0.5 <= row["coverage_rand"] <= 0.8 and 0.6 <= row["recall_rand"] <= 0.9
    assert row["precision_rand"] > 0.95


def test_evaluator_on_an_unlabelled_photo_folder_has_every_embedding_metric(tmp_path):
    folder = write_folder(photo_crops(160, seed=0), tmp_path / "photos")
    source = load_dataset("imagefolder", str(folder))
    evaluator = Evaluator(source, get_arch("dcgan64"), 100, "cpu", samples=80)
    torch.manual_seed(0)  # KID's random subsets
    report = evaluator.measure(photo_crops(80, seed=1))
    assert report.fid is None and report.coverage is None  # no classifier for colour pictures
    assert report.fid_rand is not None and report.kid_rand is not None
    assert all(value > 0.8 for value in (report.precision_rand, report.recall_rand, report.coverage_rand))
    cached = list((tmp_path / "cache" / "embeddings").glob("*.pt"))
    assert len(cached) == 1
    again = Evaluator(source, get_arch("dcgan64"), 100, "cpu", samples=80)  # the reference read back
    torch.manual_seed(0)
    assert again.measure(photo_crops(80, seed=1)) == report


def celeba_layout(path, pictures):
    with h5py.File(path, "w") as handle:
        group = handle.create_group("img_align_celeba")
        for index, picture in enumerate(pictures):
            group.create_dataset(f"{index}.jpg", data=picture.mul(255).round().byte().permute(1, 2, 0).numpy())
    return path


@pytest.mark.parametrize("dataset, arch", [("imagefolder", "dcgan64"), ("hdf5", "conv")])
def test_a_run_writes_the_embedding_columns_and_keeps_best_pt(tmp_path, monkeypatch, dataset, arch):
    from gantui.engine.config import resolve_config
    from gantui.engine.prepare import prepare_run
    from gantui.engine.quality import evaluator
    from gantui.engine.run.tails import load_eval
    from gantui.engine.trainer import train

    # G's forward pass over 1,000 pictures is slow on a CPU (conv's 128×128 G: ~1 s a picture on two cores),
    # so the evaluation draws 32 and the sample grid 4; enough for k = 5 neighbours
    monkeypatch.setattr(evaluator, "DEFAULT_SAMPLES", 32)

    photos = photo_crops(48, seed=0)
    data = write_folder(photos, tmp_path / "photos") if dataset == "imagefolder" else \
        celeba_layout(tmp_path / "celeba.h5", photos)
    config = resolve_config(dataset, arch, data=str(data), steps=4, batch_size=4, log_every=2, eval_every=2,
                            sample_every=4, sample_count=4, device="cpu", runs_dir=str(tmp_path / "runs"))
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    run = prepared.path
    frame = load_eval(run / "eval.csv")
    assert list(frame["step"]) == [2, 4]
    rand = [name for name in EVAL_COLUMNS if name.endswith("_rand")]
    assert frame[rand].notna().all().all() and frame["fid"].isna().all()
    best = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert best["step"] == int(frame.loc[frame["fid_rand"].idxmin(), "step"])
    status = json.loads((run / "status.json").read_text())
    assert status["quality"]["recall_rand"] == pytest.approx(frame["recall_rand"].iloc[-1], rel=1e-4)
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    alarm_kinds = [event["message"].split(" at step")[0] for event in events if event["event"] == "alarm"]
    assert alarms.MODE_COLLAPSE in alarm_kinds  # four steps of training: nothing like the photos yet


def test_an_older_eval_csv_is_relaid_under_the_current_columns_on_resume(tmp_path):
    from gantui.engine.run.tails import load_eval
    from gantui.engine.run.writer import RunDir

    path = tmp_path / "eval.csv"
    path.write_text("step,fid,diversity,time\n10,5.5,0.9,1.0\n20,4.5,0.95,2.0\n30,4.0,1.0,3.0\n")
    run = RunDir(tmp_path)
    run.truncate_rows_after(path, 20, EVAL_COLUMNS)
    run.append_eval({"step": 30, "fid_rand": 7.0, "recall_rand": 0.5})
    assert path.read_text().splitlines()[0] == ",".join(EVAL_COLUMNS)
    frame = load_eval(path)
    assert list(frame["step"]) == [10, 20, 30] and list(frame["fid"])[:2] == [5.5, 4.5]
    assert frame["fid_rand"].iloc[-1] == 7.0 and frame["fid_rand"].iloc[:2].isna().all()
