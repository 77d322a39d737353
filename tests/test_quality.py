"""Quality metrics, the cached classifier, the evaluator and the alarms (fast: a small classifier, CPU)."""

import json
import math

import pytest
import torch

from gantui.engine.data import load_dataset
from gantui.engine.data.base import DataInfo
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.models import get_arch
from gantui.engine.quality import alarms, classifier, metrics
from gantui.engine.quality.alarms import AlarmMonitor
from gantui.engine.quality.classifier import TrainedClassifier
from gantui.engine.quality.evaluator import Evaluator


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Never read or write the user's real cache."""
    monkeypatch.setenv("GANTUI_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


@pytest.fixture(scope="module")
def small_classifier(mnist):
    """A classifier trained for a few seconds on 4,000 digits: good enough to tell digits apart."""
    model, accuracy, holdout, seconds = classifier.train_classifier(
        mnist.samples[:4000], mnist.labels[:4000], 10, epochs=2, max_steps=120)
    assert accuracy > 0.85
    return TrainedClassifier(model, accuracy, holdout, seconds, path=None, from_cache=False)


def evaluator_for(mnist, small_classifier, arch="mlp", samples=500):
    return Evaluator(mnist, get_arch(arch), 100, "cpu", samples=samples, classifier=small_classifier)


def digits(mnist, start, count):
    return mnist.samples[start:start + count].float() / 255


# ---- metric functions --------------------------------------------------------------------------------
def test_real_against_real_has_fid_near_zero(mnist, small_classifier):
    evaluator = evaluator_for(mnist, small_classifier, samples=1000)
    real = evaluator.measure(digits(mnist, 6000, 1000))
    noise = evaluator.measure(torch.rand(1000, 1, 28, 28))
    assert real.fid < 0.05 * noise.fid  # ≈ 0: what remains is the estimate's bias at 1,000 samples
    assert abs(real.kid) < 0.05 * noise.kid
    assert real.coverage == 1.0 and real.kl_uniform < 0.05
    assert real.inception_score > 6 and noise.inception_score < 2
    assert 0.9 < real.diversity < 1.1 and real.duplicate_rate == 0.0
    assert real.cond_accuracy is None and len(real.class_histogram) == 10


def test_one_class_gives_coverage_one_tenth_and_the_collapse_alarm(mnist, small_classifier):
    histogram = metrics.class_histogram(torch.full((1000,), 3), 10)
    assert metrics.coverage(histogram) == pytest.approx(0.1)
    assert metrics.kl_from_uniform(histogram) == pytest.approx(math.log(10))
    ones = mnist.samples[mnist.labels == 1][:300].float() / 255
    report = evaluator_for(mnist, small_classifier, samples=300).measure(ones)
    assert report.coverage == pytest.approx(0.1)
    monitor = AlarmMonitor()
    fired = monitor.observe_eval(500, report.as_dict(), num_classes=10)
    assert [alarm.kind for alarm in fired] == [alarms.MODE_COLLAPSE]
    assert "1/10 classes" in fired[0].message and "Try" in fired[0].message
    assert monitor.observe_eval(1000, report.as_dict(), num_classes=10) == []  # once, not every evaluation


def test_identical_samples_have_no_diversity_and_are_all_duplicates(mnist):
    same = digits(mnist, 0, 1).repeat(200, 1, 1, 1)
    flat = metrics.flatten_for_distance(same)
    real_distance = metrics.mean_pairwise_distance(metrics.flatten_for_distance(digits(mnist, 0, 200)))
    assert metrics.diversity_ratio(flat, real_distance) == pytest.approx(0.0, abs=1e-6)
    assert metrics.duplicate_rate(flat, 0.1 * real_distance) == 1.0
    diversity, duplicates = metrics.spread_and_duplicates(flat, real_distance, 0.1 * real_distance)
    assert diversity == pytest.approx(0.0, abs=1e-6) and duplicates == 1.0


def test_inception_score_bounds():
    sure_and_balanced = torch.eye(10).repeat(10, 1)
    assert metrics.inception_score(sure_and_balanced) == pytest.approx(10.0, rel=1e-6)
    assert metrics.inception_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_conditional_accuracy(mnist, small_classifier):
    assert metrics.conditional_accuracy(torch.tensor([1, 2, 3, 3]), torch.tensor([1, 2, 3, 4])) == 0.75
    by_class = {digit: mnist.samples[mnist.labels == digit][:60].float() / 255 for digit in range(10)}

    class Obedient(torch.nn.Module):  # returns a real digit of the class it is asked for
        def forward(self, z, labels):
            picks = [by_class[int(label)][index % 60] for index, label in enumerate(labels)]
            return torch.stack(picks)

    class Ignoring(torch.nn.Module):  # always the same digit, whatever is asked
        def forward(self, z, labels):
            return by_class[7][:1].repeat(len(z), 1, 1, 1)

    evaluator = Evaluator(mnist, get_arch("cgan"), 100, "cpu", samples=200, classifier=small_classifier)
    assert evaluator.evaluate(Obedient()).cond_accuracy > 0.85
    ignored = evaluator.evaluate(Ignoring())
    assert ignored.cond_accuracy == pytest.approx(0.1, abs=0.02)
    assert ignored.coverage == pytest.approx(0.1) and ignored.duplicate_rate == 1.0


def test_evaluation_does_not_touch_the_training_random_stream(mnist, small_classifier):
    generator = torch.nn.Sequential(torch.nn.Linear(100, 784), torch.nn.Sigmoid(), torch.nn.Unflatten(1, (1, 28, 28)))

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = generator

        def forward(self, z, labels=None):
            return self.net(z)

    evaluator = evaluator_for(mnist, small_classifier, samples=100)
    torch.manual_seed(5)
    first = evaluator.evaluate(Wrapped())
    after = torch.rand(3)
    torch.manual_seed(5)
    assert evaluator.evaluate(Wrapped()) == first  # the same z and KID subsets every time
    assert torch.equal(torch.rand(3), after)


def test_toy_data_has_no_evaluation():
    toy = load_dataset("pattern1010")
    with pytest.raises(ValueError):
        Evaluator(toy, get_arch("pattern-mlp"), 1, "cpu")


# ---- the cached classifier ----------------------------------------------------------------------------
def test_classifier_is_trained_once_then_loaded_from_the_cache(mnist, monkeypatch, tmp_path):
    info = DataInfo("mnist", "image", (1, 28, 28), num_classes=10, size=1000)
    source = TensorSource(mnist.samples[:1000], mnist.labels[:1000], info)
    calls = []
    real_train = classifier.train_classifier

    def counting(images, labels, num_classes, device="cpu", **options):
        calls.append(len(images))
        return real_train(images, labels, num_classes, device, epochs=1, max_steps=20)

    monkeypatch.setattr(classifier, "train_classifier", counting)
    notices = []
    first = classifier.load_or_train(source, on_training=notices.append)
    second = classifier.load_or_train(source, on_training=notices.append)
    assert calls == [1000] and len(notices) == 1
    assert not first.from_cache and second.from_cache
    assert second.path == first.path and second.path.is_relative_to(tmp_path / "cache")
    assert second.accuracy == first.accuracy
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name])
    other = TensorSource(mnist.samples[1000:2000], mnist.labels[1000:2000], info)
    classifier.load_or_train(other)  # other pictures, another key: trained anew
    assert calls == [1000, 1000]


def test_cache_dir_honours_overrides(monkeypatch, tmp_path):
    monkeypatch.delenv("GANTUI_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert classifier.cache_dir() == tmp_path / "xdg" / "gantui"
    monkeypatch.setenv("GANTUI_CACHE_DIR", str(tmp_path / "mine"))
    assert classifier.cache_dir() == tmp_path / "mine"


@pytest.mark.slow
def test_full_classifier_reaches_97_percent_on_the_embedded_mnist(mnist):
    """The recipe as shipped: about 10 s on two idle CPU cores (timings are in docs/quality.md, not asserted)."""
    _, accuracy, holdout, _ = classifier.train_classifier(mnist.samples, mnist.labels, 10)
    assert holdout == 1000 and accuracy >= 0.97


# ---- alarms ---------------------------------------------------------------------------------------------
def feed(monitor, rows, first_step=10):
    fired = []
    for index, row in enumerate(rows):
        values = {"loss_d": 0.6, "loss_g": 0.8, "d_real": 0.55, "d_fake": 0.45, "grad_norm_d": 1.0,
                  "grad_norm_g": 2.0, **row}
        fired += monitor.observe_metrics(first_step + 10 * index, **values)
    return fired


def test_discriminator_wins_fires_once_and_rearms_after_recovery():
    monitor = AlarmMonitor("bce")
    healthy = [{}] * 10
    winning = [{"loss_d": 0.01, "d_fake": 0.01, "d_real": 0.99}] * 12
    fired = feed(monitor, healthy + winning)
    assert [alarm.kind for alarm in fired] == [alarms.DISCRIMINATOR_WINS]
    assert fired[0].step == 10 + 10 * (10 + 4)  # the fifth winning interval in a row
    assert "D(G(z))" in fired[0].message and "Try" in fired[0].message
    assert monitor.active and feed(monitor, healthy) == [] and not monitor.active
    assert [a.kind for a in feed(monitor, winning)] == [alarms.DISCRIMINATOR_WINS]  # re-armed


def test_a_critic_never_raises_discriminator_wins():
    assert feed(AlarmMonitor("wgan-gp"), [{"loss_d": 0.0, "d_fake": 0.0}] * 20) == []


def test_oscillation_fires_when_the_loss_swings_far_above_its_usual_spread():
    monitor = AlarmMonitor()
    wobble = [{"loss_g": 0.8 + 0.01 * (-1) ** i} for i in range(40)]
    swings = [{"loss_g": 0.8 + 1.5 * (-1) ** i} for i in range(12)]
    assert feed(monitor, wobble) == []
    fired = feed(monitor, swings, first_step=410)
    assert [alarm.kind for alarm in fired] == [alarms.OSCILLATION]
    assert "loss_g" in fired[0].message and "--lr" in fired[0].message
    feed(monitor, wobble, first_step=530)
    assert not monitor.active


def test_exploding_gradient_norm_raises_divergence():
    monitor = AlarmMonitor()
    fired = feed(monitor, [{}] * 15 + [{"grad_norm_d": 500.0}] * 3)
    assert [alarm.kind for alarm in fired] == [alarms.DIVERGENCE]
    assert "D's gradient norm" in fired[0].message
    saturated = AlarmMonitor()  # a D whose gradients sank to ~0 then came back is no explosion
    assert feed(saturated, [{}] * 12 + [{"grad_norm_d": 1e-4}] * 30 + [{"grad_norm_d": 3.0}]) == []


# ---- in a training run ----------------------------------------------------------------------------------
def test_evaluations_are_due_every_interval_and_at_a_distant_end(mnist):
    from gantui.engine.config import resolve_config
    from gantui.engine.quality.tracker import QualityTracker

    config = resolve_config("mnist", "mlp", eval_every=500, device="cpu")
    tracker = QualityTracker(config, mnist, get_arch("mlp"), torch.device("cpu"), events=None)
    assert [s for s in range(1, 3121) if tracker.due(s, 3120)] == [500, 1000, 1500, 2000, 2500, 3000]
    assert [s for s in range(1, 3301) if tracker.due(s, 3300)][-2:] == [3000, 3300]
    assert not any(tracker.due(s, 400) for s in range(1, 401))
    toy = QualityTracker(resolve_config("pattern1010", "pattern-mlp", eval_every=10), load_dataset("pattern1010"),
                         get_arch("pattern-mlp"), torch.device("cpu"), events=None)
    assert not toy.due(10, 100)


def test_training_writes_eval_csv_best_checkpoint_and_alarm_status(tmp_path, monkeypatch):
    from gantui.engine.config import resolve_config
    from gantui.engine.prepare import prepare_run
    from gantui.engine.run.tails import load_eval
    from gantui.engine.trainer import train

    real_train = classifier.train_classifier
    monkeypatch.setattr(classifier, "train_classifier",
                        lambda images, labels, n, device="cpu", **_: real_train(images, labels, n, device, 1, 40))
    config = resolve_config("mnist", "cgan", steps=30, log_every=5, eval_every=10, sample_every=30,
                            device="cpu", runs_dir=str(tmp_path))
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    run = prepared.path
    lines = (run / "eval.csv").read_text().splitlines()
    assert lines[0].startswith("step,fid,kid,inception_score,coverage,kl_uniform,diversity,duplicate_rate")
    assert sum(line.startswith("step,") for line in lines) == 1
    frame = load_eval(run / "eval.csv")
    assert list(frame["step"]) == [10, 20, 30]
    assert frame[["fid", "coverage", "diversity", "cond_accuracy", "eval_seconds"]].notna().all().all()
    best = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert best["step"] == int(frame.loc[frame["fid"].idxmin(), "step"])
    status = json.loads((run / "status.json").read_text())
    assert status["quality"]["step"] == 30 and len(status["quality"]["class_histogram"]) == 10
    with open(run / "eval.csv", "a") as handle:  # a torn last line is left for the next read
        handle.write("40,12.5,0.3")
    assert list(load_eval(run / "eval.csv")["step"]) == [10, 20, 30]


def test_alarms_reach_events_and_status(tmp_path):
    from gantui.engine.events import AlarmStatus, Notice
    from gantui.engine.run.writer import RunDir, RunDirSink

    sink = RunDirSink(RunDir(tmp_path))
    sink.handle(Notice("alarm", "mode collapse at step 500: only 1/10 classes. Try a lower --lr", 500))
    sink.handle(AlarmStatus(500, ("mode collapse at step 500: only 1/10 classes. Try a lower --lr",)))
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["alarm"].startswith("mode collapse") and len(status["alarms"]) == 1
    event = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[0])
    assert event["event"] == "alarm" and event["step"] == 500
    sink.handle(AlarmStatus(900, ()))
    assert json.loads((tmp_path / "status.json").read_text())["alarm"] == ""


def test_quality_modules_are_headless():
    import subprocess
    import sys

    code = ("import sys, gantui.engine.quality.evaluator, gantui.engine.quality.tracker\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_on_resume_best_pt_compares_embedding_fids_only_within_one_embedding_version(tmp_path, mnist):
    from gantui.engine.config import resolve_config
    from gantui.engine.quality import embedding
    from gantui.engine.quality.tracker import QualityTracker

    def best_after_resume(csv: str):
        (tmp_path / "eval.csv").write_text(csv)
        config = resolve_config("mnist", "mlp", eval_every=250, device="cpu")
        return QualityTracker(config, mnist, get_arch("mlp"), torch.device("cpu"), events=None, run_path=tmp_path,
                              start_step=1000).best_score

    older = "step,fid_rand,diversity\n250,21.0,0.5\n500,25.0,0.9\n"  # before eval.csv said which version
    assert best_after_resume(older)[0] == "diversity"  # so the first FID of this version starts a new best
    version = embedding.EMBEDDING_VERSION
    mixed = (f"step,fid_rand,embedding_version,diversity\n250,21.0,{version - 1},0.5\n"
             f"500,60.0,{version},0.9\n750,55.0,{version},0.9\n1000,58.0,{version},0.9\n1250,40.0,{version},0.9\n")
    assert best_after_resume(mixed) == ("fid_rand", 55.0)  # this version's, up to the checkpoint's step


def test_discriminator_wins_is_read_above_the_floor_that_label_smoothing_sets():
    floor = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) / 2  # bce's real term cannot go below H(0.9)
    winning = [{"loss_d": floor + 0.01, "d_fake": 0.01, "d_real": 0.9}] * 12
    assert feed(AlarmMonitor("bce"), [{}] * 10 + winning) == []  # without smoothing that loss is no win
    fired = feed(AlarmMonitor("bce", label_smoothing=0.1), [{}] * 10 + winning)
    assert [alarm.kind for alarm in fired] == [alarms.DISCRIMINATOR_WINS]
    assert "--lr-d" in fired[0].message and "--label-smoothing" in fired[0].message
    assert f"D loss {floor + 0.01:.3g} (label smoothing's floor {floor:.3g})" in fired[0].message
    hinge = feed(AlarmMonitor("hinge"), [{}] * 10 + [{"loss_d": 0.01, "d_fake": 0.01, "d_real": 0.99}] * 12)
    assert "--lr-d" in hinge[0].message and "--label-smoothing" not in hinge[0].message  # hinge has no target
