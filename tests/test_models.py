"""The architecture registry: shapes, parameter counts, data checks and TorchScript export of every model."""

from __future__ import annotations

import io
import warnings

import pytest
import torch

from gantui.engine.data.base import DataInfo
from gantui.engine.errors import UserError
from gantui.engine.models import ARCHS, build_models, compatible_archs, count_parameters, get_arch
from gantui.engine.models.conv import FLAT_SIDE, deconv_out
from gantui.engine.models.fit import data_problem

PATTERN = DataInfo(name="pattern1010", kind="vector", shape=(4,))
QUADRATIC = DataInfo(name="quadratic", kind="vector", shape=(15,))
MNIST = DataInfo(name="mnist", kind="image", shape=(1, 28, 28), num_classes=10, size=10_000)
MNIST_UNLABELLED = DataInfo(name="mnist-csv", kind="image", shape=(1, 28, 28))
FACES_128 = DataInfo(name="hdf5", kind="image", shape=(3, 128, 128))
SHAPES_64 = DataInfo(name="shapes", kind="image", shape=(3, 64, 64))
CIFAR = DataInfo(name="cifar10", kind="image", shape=(3, 32, 32), num_classes=10)

DATA_FOR = {
    "pattern-mlp": PATTERN, "curve-mlp": QUADRATIC, "mlp": MNIST, "cgan": MNIST, "dcgan28": MNIST,
    "cdcgan": MNIST, "conv": FACES_128, "dcgan64": SHAPES_64,
}

# (generator, discriminator) trainable parameters on each architecture's default data, worked out by hand
# (or, for the bigger ones, from the layer list) - e.g. mlp G: 100·200+200 + 2·200 + 200·784+784.
PARAMETERS = {
    "pattern-mlp": (1 * 3 + 3 + 3 * 4 + 4, 4 * 3 + 3 + 3 * 1 + 1),
    "curve-mlp": (15 * 128 + 128 + 128 * 15 + 15, 15 * 128 + 128 + 128 + 1),
    "mlp": (100 * 200 + 200 + 400 + 200 * 784 + 784, 784 * 200 + 200 + 400 + 201),
    "cgan": (110 * 200 + 200 + 400 + 200 * 784 + 784, 794 * 200 + 200 + 400 + 201),
    "dcgan28": (855_809, 392_833),  # the Keras summary's trainable counts
    "cdcgan": (918_529, 395_713),
    "conv": (4_330_816, 4_294_448),
    "dcgan64": (3_576_704, 2_765_568),  # as pytorch's dcgan example prints
}


def labels_for(info: DataInfo, batch: int) -> torch.Tensor | None:
    return torch.arange(batch) % info.num_classes if info.num_classes else None


def test_registry_lists_every_spec_architecture() -> None:
    assert list(ARCHS) == ["pattern-mlp", "curve-mlp", "mlp", "dcgan28", "conv", "dcgan64", "cgan", "cdcgan"]
    assert set(DATA_FOR) == set(ARCHS)
    for name, spec in ARCHS.items():
        assert spec.name == name
        assert spec.output_range in ("unit", "symmetric", "raw")
        assert data_problem(spec, DATA_FOR[name]) is None


@pytest.mark.parametrize("name", list(ARCHS))
@pytest.mark.parametrize("batch", [2, 1])
def test_shapes_and_gradients_in_training_mode(name: str, batch: int) -> None:
    torch.manual_seed(0)
    info, latent_dim = DATA_FOR[name], ARCHS[name].defaults.latent_dim
    generator, discriminator = build_models(name, info, latent_dim)
    labels = labels_for(info, batch)
    fake = generator(torch.randn(batch, latent_dim), labels)
    assert fake.shape == (batch, *info.shape)
    logits = discriminator(fake, labels)
    assert logits.shape == (batch,)
    logits.sum().backward()  # BatchNorm with batch 1 still works: every BN layer sees more than one pixel
    assert all(p.grad is not None for p in generator.parameters())


@pytest.mark.parametrize("name", list(ARCHS))
def test_generator_output_range(name: str) -> None:
    spec = get_arch(name)
    info = DATA_FOR[name]
    generator, _ = build_models(name, info, spec.defaults.latent_dim)
    fake = generator(torch.randn(4, spec.defaults.latent_dim), labels_for(info, 4))
    if spec.output_range == "unit":
        assert fake.min() >= 0 and fake.max() <= 1
    elif spec.output_range == "symmetric":
        assert fake.min() >= -1 and fake.max() <= 1


@pytest.mark.parametrize("name", list(ARCHS))
def test_parameter_counts(name: str) -> None:
    generator, discriminator = build_models(name, DATA_FOR[name], ARCHS[name].defaults.latent_dim)
    assert (count_parameters(generator), count_parameters(discriminator)) == PARAMETERS[name]


@pytest.mark.parametrize("name", list(ARCHS))
def test_torchscript_generator_matches_eager(name: str) -> None:
    info, latent_dim = DATA_FOR[name], ARCHS[name].defaults.latent_dim
    generator, _ = build_models(name, info, latent_dim)
    generator.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # recent torch warns that TorchScript is deprecated
        scripted = torch.jit.script(generator)
        torch.jit.save(scripted, buffer)  # generator.pt: loadable without gantui
        buffer.seek(0)
        reloaded = torch.jit.load(buffer)
    z, labels = torch.randn(3, latent_dim), labels_for(info, 3)
    with torch.no_grad():
        torch.testing.assert_close(scripted(z, labels), generator(z, labels))
        torch.testing.assert_close(reloaded(z, labels), generator(z, labels))


def test_conditional_models_need_labels() -> None:
    generator, discriminator = build_models("cgan", MNIST, 100)
    with pytest.raises(ValueError, match="labels"):
        generator(torch.randn(2, 100))
    with pytest.raises(ValueError, match="labels"):
        discriminator(torch.rand(2, 1, 28, 28))


def test_conditional_generator_depends_on_the_label() -> None:
    generator, _ = build_models("cdcgan", MNIST, 100)
    generator.eval()
    z = torch.randn(1, 100).repeat(2, 1)
    fake = generator(z, torch.tensor([3, 7]))
    assert not torch.allclose(fake[0], fake[1])


def test_mlp_widths_follow_the_tutorials() -> None:
    mnist_g, mnist_d = build_models("mlp", MNIST, 100)
    assert mnist_g.net[0].out_features == 200 and mnist_d.net[0].out_features == 200
    celeba_g, celeba_d = build_models("mlp", CIFAR, 100)  # colour: the CelebA GAN's G 300 / D 100
    assert celeba_g.net[0].out_features == 300 and celeba_d.net[0].out_features == 100
    assert celeba_g(torch.randn(1, 100)).shape == (1, 3, 32, 32)


def test_conv_arithmetic_lands_on_128() -> None:
    assert deconv_out(deconv_out(deconv_out(11)), padding=1) == 128
    assert 3 * FLAT_SIDE * FLAT_SIDE == 300  # the tutorial's Flatten → Linear(300, 1)


def test_dcgan_batchnorm_follows_keras_momentum() -> None:
    generator, _ = build_models("dcgan28", MNIST, 100)
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == pytest.approx(0.2) for m in norms)


def test_dcgan64_initialisation() -> None:
    torch.manual_seed(0)
    generator, discriminator = build_models("dcgan64", SHAPES_64, 100)
    conv_weight = discriminator.net[2].weight
    assert abs(conv_weight.std().item() - 0.02) < 0.002
    assert abs(generator.net[2].weight.mean().item() - 1.0) < 0.01  # BatchNorm scale ~ N(1, 0.02)


def test_unknown_architecture_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match="unknown architecture 'gpt'.*dcgan64"):
        get_arch("gpt")


@pytest.mark.parametrize(
    ("name", "info", "message"),
    [
        ("cgan", MNIST_UNLABELLED, "cgan needs labelled data"),
        ("cdcgan", FACES_128, "cdcgan needs labelled data"),
        ("dcgan64", MNIST, r"dcgan64 needs 64×64 images \(got 28×28\); pass --image-size 64"),
        ("conv", MNIST, "conv needs 128×128 images"),
        ("dcgan28", SHAPES_64, "dcgan28 needs 28×28 images"),
        ("pattern-mlp", MNIST, r"pattern-mlp needs vectors of 4 values .*got 1×28×28 images from mnist"),
        ("curve-mlp", PATTERN, "curve-mlp needs vectors of 15 values"),
        ("mlp", QUADRATIC, "mlp needs images, but quadratic gives vectors of 15 values"),
    ],
)
def test_incompatible_data_is_a_user_error(name: str, info: DataInfo, message: str) -> None:
    assert data_problem(ARCHS[name], info) is not None
    with pytest.raises(UserError, match=message):
        build_models(name, info, 100)


def test_compatible_archs() -> None:
    assert compatible_archs(PATTERN) == ["pattern-mlp"]
    assert compatible_archs(QUADRATIC) == ["curve-mlp"]
    assert compatible_archs(MNIST) == ["mlp", "dcgan28", "cgan", "cdcgan"]
    assert compatible_archs(MNIST_UNLABELLED) == ["mlp", "dcgan28"]
    assert compatible_archs(SHAPES_64) == ["mlp", "dcgan64"]
    assert compatible_archs(CIFAR) == ["mlp", "cgan"]


def test_models_run_under_cpu_autocast() -> None:
    generator, discriminator = build_models("dcgan28", MNIST, 100)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = discriminator(generator(torch.randn(2, 100)))
    assert logits.shape == (2,) and torch.isfinite(logits.float()).all()
