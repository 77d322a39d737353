"""The step and the log interval: a GanStep's named result on the device, and an IntervalMeter's sums, means,
counts and clock, read back from the device once per interval."""

import copy
import dataclasses

import pytest
import torch

from gantui.engine.config import resolve_config
from gantui.engine.interval import FIGURES, IntervalMeter, first_non_finite
from gantui.engine.models import build_models
from gantui.engine.prepare import prepare_run
from gantui.engine.samples import from_unit_range
from gantui.engine.step import GanStep, StepResult

CPU = torch.device("cpu")


def gan_step(tmp_path, arch="cgan", device=CPU, **options):
    """A GanStep on a prepared run's networks, and one batch of its data."""
    config = resolve_config("mnist", arch, steps=4, batch_size=8, eval_every=0, device=str(device),
                            runs_dir=str(tmp_path), **options)
    prepared = prepare_run(config)
    info = prepared.source.info
    step = GanStep(config, prepared.generator, prepared.discriminator, device,
                   info.num_classes if prepared.arch.conditional else None)
    real, labels = next(iter(prepared.source.epoch(8, device, torch.Generator().manual_seed(0))))
    return step, from_unit_range(real, prepared.arch.output_range), labels, info


def result_of(**values: float) -> StepResult:
    figures = {name: 0.0 for name in FIGURES} | values
    return StepResult(**{name: torch.tensor(value) for name, value in figures.items()})


# ---- the step ---------------------------------------------------------------------------------------------
def test_a_step_names_its_figures_and_leaves_them_on_the_device(tmp_path):
    step, real, labels, _ = gan_step(tmp_path)
    assert FIGURES == ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "skipped")
    plain = step.step(real, labels, measure_norms=False)
    measured = step.step(real, labels, measure_norms=True)
    for result in (plain, measured):
        assert isinstance(result, StepResult)
        values = {name: getattr(result, name) for name in FIGURES}
        assert all(isinstance(v, torch.Tensor) and v.shape == () and v.dtype == torch.float32
                   and not v.requires_grad for v in values.values())
        assert 0 < float(result.d_real) < 1 and 0 < float(result.d_fake) < 1
        assert float(result.skipped) == 0.0  # no GradScaler without fp16
    assert float(plain.grad_norm_d) == float(plain.grad_norm_g) == 0.0  # norms cost a pass: only when asked
    assert float(measured.grad_norm_d) > 0 and float(measured.grad_norm_g) > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        measured.loss_d = torch.tensor(0.0)


def test_lr_d_sets_the_discriminator_s_learning_rate_alone(tmp_path):
    both, *_ = gan_step(tmp_path, arch="mlp", lr=3e-4)
    assert [g["lr"] for g in both.optimizer_d.param_groups] == [3e-4]
    assert [g["lr"] for g in both.optimizer_g.param_groups] == [3e-4]
    apart, *_ = gan_step(tmp_path / "apart", arch="mlp", lr=3e-4, lr_d=1e-4)
    assert [g["lr"] for g in apart.optimizer_g.param_groups] == [3e-4]
    assert [g["lr"] for g in apart.optimizer_d.param_groups] == [1e-4]


def test_label_smoothing_reaches_the_discriminator_s_loss(tmp_path, monkeypatch):
    from gantui.engine import losses

    step, real, labels, _ = gan_step(tmp_path, arch="mlp", label_smoothing=0.2)
    seen, original = [], losses.discriminator_loss

    def spy(*args, **kwargs):
        seen.append(kwargs.get("real_target"))
        return original(*args, **kwargs)

    monkeypatch.setattr(losses, "discriminator_loss", spy)
    step.step(real, labels, measure_norms=False)
    assert seen == [pytest.approx(0.8)]


def test_the_step_state_round_trips_through_its_checkpoint_share(tmp_path):
    step, real, labels, info = gan_step(tmp_path, arch="mlp")
    step.step(real, labels, measure_norms=False)
    state = copy.deepcopy(step.state_dict())  # as saved: the live one shares the optimisers' tensors
    assert set(state) == {"generator", "discriminator", "optimizer_g", "optimizer_d", "scaler"}
    generator, discriminator = build_models("mlp", info, step.config.latent_dim)
    fresh = GanStep(step.config, generator, discriminator, CPU, None)
    fresh.load_state_dict(state)
    fresh.noise_rng.set_state(step.noise_rng.get_state())
    torch.manual_seed(1)  # the same dropout masks
    a = step.train_step(real, labels, False)
    torch.manual_seed(1)
    b = fresh.train_step(real, labels, False)
    assert all(torch.equal(getattr(a, name), getattr(b, name)) for name in FIGURES)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the device sync check needs CUDA")
def test_on_cuda_steps_and_their_sums_never_sync_the_device(tmp_path):
    device = torch.device("cuda")
    step, real, labels, _ = gan_step(tmp_path, device=device, amp="bf16")
    meter = IntervalMeter(device, log_every=3, total_steps=3, count_skipped=False)
    step.step(real, labels, measure_norms=False)  # warm-up: the allocator's and cuDNN's first calls
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for index in range(3):
            meter.add(step.step(real, labels, measure_norms=index == 2), real.shape[0])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert meter.flush(3, 0).loss_d > 0


# ---- the interval -----------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_meter_sums_counts_and_means_one_interval_at_a_time():
    meter = IntervalMeter(CPU, log_every=3, total_steps=7, count_skipped=True)
    assert [s for s in range(1, 8) if meter.due(s)] == [3, 6, 7]
    meter.add(result_of(loss_d=1.0, loss_g=2.0, d_real=0.9, d_fake=0.1, skipped=1.0), 16)
    meter.add(result_of(loss_d=3.0, loss_g=4.0, d_real=0.7, d_fake=0.3), 16)
    meter.add(result_of(loss_d=5.0, loss_g=6.0, d_real=0.5, d_fake=0.5, grad_norm_d=2.5, grad_norm_g=1.5,
                        skipped=1.0), 8)
    assert (meter.steps, meter.samples) == (3, 40)
    metrics = meter.flush(step=3, epoch=0)
    assert (metrics.step, metrics.epoch, metrics.total_steps) == (3, 0, 7)
    assert (metrics.loss_d, metrics.loss_g) == pytest.approx((3.0, 4.0))  # means over the interval's steps
    assert (metrics.d_real, metrics.d_fake) == pytest.approx((0.7, 0.3))
    assert (metrics.grad_norm_d, metrics.grad_norm_g) == (2.5, 1.5)  # measured on the last step only
    assert metrics.skipped_steps == 2
    assert (meter.steps, meter.samples) == (0, 0) and not meter.sums.any()  # the next interval starts empty
    meter.add(result_of(loss_d=10.0, loss_g=-1.0), 4)
    second = meter.flush(step=4, epoch=1)
    assert (second.loss_d, second.loss_g, second.skipped_steps) == (10.0, -1.0, 0)
    without_scaler = IntervalMeter(CPU, log_every=1, total_steps=1, count_skipped=False)
    without_scaler.add(result_of(skipped=0.0), 1)
    assert without_scaler.flush(1, 0).skipped_steps is None


def test_the_meter_reads_the_device_once_per_interval(monkeypatch):
    reads = []
    for name in ("tolist", "item", "cpu", "numpy", "__bool__", "__float__"):
        real = getattr(torch.Tensor, name)

        def counting(self, *args, _real=real, _name=name, **kwargs):
            reads.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    meter = IntervalMeter(CPU, log_every=50, total_steps=50, count_skipped=False)
    results = [result_of(loss_d=float(i), loss_g=1.0) for i in range(50)]
    reads.clear()
    for result in results:
        meter.add(result, 2)
    assert reads == []  # adding a step's figures stays on the device
    metrics = meter.flush(50, 0)
    assert reads == ["tolist"] and metrics.loss_d == pytest.approx(24.5)


def test_the_meter_clock_counts_training_time_only():
    clock = FakeClock()
    meter = IntervalMeter(CPU, log_every=10, total_steps=100, count_skipped=False, clock=clock)
    meter.elapsed = 50.0  # a resumed run's time so far
    meter.restart()
    meter.add(result_of(), 10)
    clock.now += 2.0
    with meter.paused():  # a pause counts nowhere
        clock.now += 30.0
    meter.add(result_of(), 10)
    clock.now += 1.0
    with meter.set_aside():  # an evaluation: the run's time, not the interval's rate
        assert meter.now() == 53.0
        clock.now += 4.0
    assert meter.now() == 57.0
    meter.add(result_of(), 20)
    clock.now += 1.0
    metrics = meter.flush(3, 0)
    assert metrics.samples_per_s == pytest.approx(40 / 4.0)  # 2 + 1 + 1 seconds of steps
    assert metrics.time == pytest.approx(58.0) and meter.elapsed == pytest.approx(58.0)
    clock.now += 3.0  # the next interval runs from the flush
    meter.add(result_of(), 6)
    assert meter.flush(4, 0).samples_per_s == pytest.approx(2.0)


def test_the_meter_tells_a_non_finite_interval_and_which_figure_diverged():
    meter = IntervalMeter(CPU, log_every=5, total_steps=5, count_skipped=False)
    meter.add(result_of(loss_d=1.0, grad_norm_g=float("inf")), 1)  # fp16 gradients may overflow: no divergence
    assert not meter.finite()
    assert first_non_finite(meter.flush(1, 0)) is None
    meter.add(result_of(loss_d=1.0), 1)
    assert meter.finite()
    meter.add(result_of(d_fake=float("nan"), loss_g=float("inf")), 1)
    assert not meter.finite()
    assert first_non_finite(meter.flush(3, 0)) == ("loss_g", float("inf"))  # losses first, then D's outputs
    meter.add(result_of(d_real=float("-inf")), 1)
    assert first_non_finite(meter.flush(4, 0)) == ("d_real", float("-inf"))
