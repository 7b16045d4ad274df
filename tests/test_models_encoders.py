"""The encoder family (aae, aae-supervised, bigan and ALI, vaegan and its plain-VAE variant): the loss terms by
hand, each model's players wired to them (stub networks with hand-checkable outputs), shapes, one CPU training
step per model, the evaluation's keys and hand-checked scores, and a tiny learning test per model.

The learning tests train on 2,000 MNIST digits at 16x16 (width 8, batch 32) and score 500 test digits. The
papers' Adam 2e-4 is too slow for so few rounds (aae, 300 rounds: reconstructions worse than the mean image), so
they run at 1e-3. Measured on seeds 0-2 (2-core AMD EPYC, one thread, CPU time; the machine was shared, so wall
times were up to 2.5x longer):
- aae, 400 rounds (4-6 s): reconstruction MSE 0.025-0.026 against 0.041 for the mean image; the codes' std per
  number 0.80-0.97 and their mean square 0.85-1.17, the N(0, I) prior's 1 (0.001 after one round).
- vaegan, 400 rounds (11-14 s): reconstruction MSE 0.37-0.49 of the error against another digit's
  reconstruction (an encoder that ignores its input: 1).
- bigan, 300 rounds (5-7 s): sample FID (shipped classifier's features) 5.7-6.7, 80 after one round;
  the codes' std per number 0.25-0.37, 0.001 after one round. E inverting G (G(E(x)) resembling x) needs
  far longer training than a unit test has; the joint terms by hand and the one-step test check its wiring.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gankit.config import resolve
from gankit.data import Batch, DataSpec, load_dataset, resized, uint8_to_float
from gankit.errors import GankitError
from gankit.losses import gaussian_kl, gaussian_nll, vaegan_d_loss
from gankit.metrics import evaluate, generate
from gankit.metrics.encoders import (
    encode_all,
    linear_probe,
    reconstruct_all,
    reconstruction_scores,
)
from gankit.metrics.tasks import TaskData
from gankit.models.encoders.aae import MIXTURE_RADIUS, MIXTURE_STD, mixture_draw
from gankit.registry import all_models, get_model
from gankit.train.trainer import Trainer

QUIET = {"eval_samples": 0, "sample_every": 100000, "checkpoint_every": 100000, "log_every": 100000,
         "precision": "fp32"}
VARIANTS = [("aae", {}), ("aae", {"prior": "mixture"}), ("aae-supervised", {}), ("bigan", {}),
            ("bigan", {"stochastic_encoder": True}), ("vaegan", {}), ("vaegan", {"variant": "vae"})]


def build(name, shape=(1, 32, 32), **options):
    cls = get_model(name)
    options = resolve({"model": name, "options": {"width": 4, **options}}, cls.Options).options
    return cls(options, DataSpec("mnist", "image", shape, 10))


def trainer(tmp_path, name, data, steps=1, batch_size=8, options=None, **train):
    tree = {"model": name, "data": {"name": data.spec.name},
            "train": {"steps": steps, "batch_size": batch_size, **QUIET, **train}, "options": options or {"width": 4}}
    return Trainer(resolve(tree, get_model(name).Options), tmp_path / "run", dataset=data, notify=lambda message: None)


class Stub(nn.Module):
    """A network replaced by a hand-checkable function."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *inputs):
        return self.fn(*inputs)


def softplus(v: float) -> float:
    """log(1 + e^v): BCE(logit v, 0) = -log(1 - sigma(v)); BCE(v, 1) = softplus(-v)."""
    return math.log1p(math.exp(v))


def mean(values):
    return sum(values) / len(values)


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


# --- the loss terms ---------------------------------------------------------------------------------

def test_gaussian_nll_by_hand():
    reconstruction, target = t([[1.0, 2.0], [0.0, 0.0]]), t([[0.0, 0.0], [0.0, 1.0]])
    # per sample: (1 + 4) and 1, halved, averaged over the batch
    assert gaussian_nll(reconstruction, target).item() == pytest.approx(0.5 * (5 + 1) / 2)
    assert gaussian_nll(reconstruction, target, std=0.5).item() == pytest.approx((5 + 1) / 2 / (2 * 0.25))
    images = torch.ones(2, 3, 4, 4, dtype=torch.float64)  # summed over every element of an image
    assert gaussian_nll(images, torch.zeros_like(images)).item() == pytest.approx(0.5 * 48)


def test_gaussian_kl_of_a_diagonal_gaussian_by_hand():
    mu, logvar = [[0.5, -1.0, 0.0], [2.0, 0.0, 0.3]], [[0.0, math.log(0.25), 1.0], [-1.0, 0.0, 0.0]]
    per_code = [0.5 * sum(m * m + math.exp(lv) - 1 - lv for m, lv in zip(ms, lvs)) for ms, lvs in zip(mu, logvar)]
    assert gaussian_kl(t(mu), t(logvar)).item() == pytest.approx(mean(per_code), rel=1e-12)


def test_vaegan_d_loss_by_hand():
    real, reconstructed, sampled = [2.0, -0.5], [0.3, -1.0], [1.5, 0.0]
    expected = mean([softplus(-v) for v in real]) + mean([softplus(v) for v in reconstructed]) \
        + mean([softplus(v) for v in sampled])
    assert vaegan_d_loss(t(real), t(reconstructed), t(sampled)).item() == pytest.approx(expected, rel=1e-12)


# --- each model's players, wired to those terms ----------------------------------------------------

def test_aae_d_takes_prior_codes_as_real_and_encodings_as_fake():
    model = build("aae")
    codes, prior = t([[0.5, 9.0], [3.0, 9.0]]), t([[1.0, 9.0], [-2.0, 9.0]])
    model.E, model.D = Stub(lambda x: codes), Stub(lambda z: z[:, 0])
    model.prior = lambda n, labels=None: prior
    batch = Batch(torch.zeros(2, 1, 32, 32))
    assert model.d_loss(batch)[0].item() == pytest.approx(mean([softplus(-1.0), softplus(2.0)])
                                                          + mean([softplus(0.5), softplus(3.0)]))
    assert model.e_loss(batch)[0].item() == pytest.approx(mean([softplus(-0.5), softplus(-3.0)]))


def test_aae_supervised_judges_codes_with_their_labels_and_draws_the_labels_components():
    model = build("aae-supervised")
    assert model.label_use == "all" and model.num_labels == 10 and model.mixture_prior()
    seen, asked = [], []
    codes = torch.randn(3, 8)
    model.E, model.D = Stub(lambda x: codes), Stub(lambda v: seen.append(v) or v[:, 0])
    prior = model.prior
    model.prior = lambda n, labels=None: asked.append(labels) or prior(n, labels)
    labels = torch.tensor([1, 7, 7])
    model.d_loss(Batch(torch.zeros(3, 1, 32, 32), labels))
    assert torch.equal(asked[0], labels)
    one_hot = torch.nn.functional.one_hot(labels, 10).float()
    assert all(v.shape == (3, 18) and torch.equal(v[:, 8:], one_hot) for v in seen)
    assert torch.equal(seen[1][:, :8], codes)
    with pytest.raises(GankitError, match="does not apply here"):
        build("aae-supervised", prior="gaussian")


def test_the_mixture_prior_puts_component_k_on_a_circle():
    torch.manual_seed(0)
    draws = mixture_draw(torch.full((20000,), 3), 10, 5)
    angle = 2 * math.pi * 3 / 10
    expected = torch.tensor([MIXTURE_RADIUS * math.cos(angle), MIXTURE_RADIUS * math.sin(angle), 0, 0, 0])
    assert torch.allclose(draws.mean(0), expected, atol=0.02)
    assert torch.allclose(draws.std(0), torch.full((5,), MIXTURE_STD), atol=0.02)
    model = build("aae", prior="mixture")
    assert model.prior(4).shape == (4, 8) and model.prior(4)[:, :2].norm(dim=1).min() > 1


def test_bigan_d_and_the_swapped_labels_of_g_and_e_by_hand():
    model = build("bigan", z_dim=2)
    x = t([[1.0, 3.0], [0.0, -2.0]]).view(2, 1, 1, 2)  # image means 2 and -1
    codes, prior = t([[0.5, 7.0], [-1.0, 7.0]]), t([[1.0, 7.0], [0.25, 7.0]])
    model.E, model.G = Stub(lambda images: codes), Stub(lambda z: z[:, :1, None, None].expand(-1, 1, 1, 2))
    model.D = Stub(lambda images, z: images.flatten(1).mean(1) + z[:, 0])
    model.prior = lambda n, labels=None: prior
    encoder_pairs, generator_pairs = [2 + 0.5, -1 - 1.0], [1.0 + 1.0, 0.25 + 0.25]
    batch = Batch(x)
    assert model.d_loss(batch)[0].item() == pytest.approx(mean([softplus(-v) for v in encoder_pairs])
                                                          + mean([softplus(v) for v in generator_pairs]))
    assert model.ge_loss(batch)[0].item() == pytest.approx(mean([softplus(v) for v in encoder_pairs])
                                                           + mean([softplus(-v) for v in generator_pairs]))
    assert [p.name for p in model.players()] == ["D", "GE"]


class StubD(nn.Module):
    """Dis_l(x) = x flattened; the logit is the sum of the features."""

    def features(self, x):
        return x.flatten(1)

    def logits(self, features):
        return features.sum(1)


def vaegan_with_stubs(**options):
    """vaegan with E(x) = (mu, log-variance -200: z is mu), G(z) = z as a 2x2 image, a fixed prior draw."""
    model = build("vaegan", shape=(1, 8, 8), z_dim=4, **options)
    mu = t([[0.5, -0.5, 1.0, 0.0], [0.0, 0.25, 0.0, -1.0]])
    model.E = Stub(lambda x: torch.cat([mu, torch.full_like(mu, -200.0)], 1))
    model.G = Stub(lambda z: z.view(-1, 1, 2, 2))
    prior = t([[1.0, 1.0, 0.0, 0.0], [-0.5, 0.0, 0.0, 0.0]])
    model.prior = lambda n, labels=None: prior
    if options.get("variant") != "vae":
        model.D = StubD()
    x = t([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    return model, Batch(x.view(2, 1, 2, 2)), mu.numpy(), prior.numpy(), x.numpy()


def test_vaegan_players_minimise_the_papers_terms():
    model, batch, mu, prior, x = vaegan_with_stubs(gamma=0.3)
    kl = np.mean([0.5 * np.sum(m ** 2 + math.exp(-200) - 1 + 200) for m in mu])
    llike = np.mean([0.5 * np.sum((m - xi) ** 2) for m, xi in zip(mu, x)])  # Dis_l is the identity here
    assert model.e_loss(batch)[0].item() == pytest.approx(kl + llike)
    fool = mean([softplus(-m.sum()) for m in mu]) + mean([softplus(-p.sum()) for p in prior])
    assert model.g_loss(batch)[0].item() == pytest.approx(0.3 * llike + fool)
    d = mean([softplus(-xi.sum()) for xi in x]) + mean([softplus(m.sum()) for m in mu]) \
        + mean([softplus(p.sum()) for p in prior])
    assert model.d_loss(batch)[0].item() == pytest.approx(d)
    assert [p.name for p in model.players()] == ["D", "E", "G"]


def test_the_vae_variant_is_one_player_on_the_pixel_likelihood():
    model, batch, mu, _, x = vaegan_with_stubs(variant="vae", pixel_std=0.5)
    kl = np.mean([0.5 * np.sum(m ** 2 + math.exp(-200) - 1 + 200) for m in mu])
    pixels = np.mean([np.sum((m - xi) ** 2) / (2 * 0.25) for m, xi in zip(mu, x)])
    assert model.vae_loss(batch)[0].item() == pytest.approx(kl + pixels)
    assert [p.name for p in model.players()] == ["VAE"] and not hasattr(model, "D")


# --- the models ------------------------------------------------------------------------------------

def test_the_encoder_models_are_registered_in_one_family():
    models = all_models()
    for name in ("aae", "aae-supervised", "bigan", "vaegan"):
        cls = models[name]
        assert cls.family == "encoder" and cls.summary and cls.paper
        assert "Deviations" in __import__(cls.__module__, fromlist=["x"]).__doc__


@pytest.mark.parametrize("name,options", VARIANTS)
@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 16, 16)])
def test_encode_reconstruct_and_sample_shapes(name, options, shape):
    model = build(name, shape, **options).eval()
    x = torch.rand(3, *shape) * 2 - 1
    with torch.no_grad():
        codes, reconstructions, samples = model.encode(x), model.reconstruct(x), model.sample(5)
    assert codes.shape == (3, model.options.z_dim)
    assert reconstructions.shape == x.shape and samples.shape == (5, *shape) and samples.abs().max() <= 1
    if model.gaussian_encoder():  # the code is the posterior mean, while training draws around it
        with torch.no_grad():
            assert torch.equal(codes, model.posterior(x)[0]) and not torch.equal(model.draw_code(x), codes)


def test_refusals():
    with pytest.raises(GankitError, match="z_dim must be at least 2"):
        build("aae", z_dim=1)
    with pytest.raises(GankitError, match="gamma must be non-negative"):
        build("vaegan", gamma=-1.0)
    with pytest.raises(ValueError, match="one domain"):
        get_model("bigan")(build("bigan").options, DataSpec("a>b", "image", (1, 32, 32), shape_b=(1, 32, 32)))


def digits16():
    return resized(load_dataset("digits"), 16)


@pytest.mark.parametrize("name,options", VARIANTS)
def test_one_step_updates_every_player(tmp_path, name, options):
    run = trainer(tmp_path, name, digits16(), options={"width": 4, **options})
    before = {p.name: [w.detach().clone() for w in p.parameters()] for p in run.players}
    run.fit(progress=False)
    for player in run.players:
        assert all(not torch.equal(old, new) for old, new in zip(before[player.name], player.parameters())), \
            player.name


def test_training_pictures_show_inputs_reconstructions_and_prior_samples(tmp_path):
    from PIL import Image

    run = trainer(tmp_path, "aae", digits16())
    run.fit(progress=False)
    with Image.open(tmp_path / "run" / "samples" / "latest.png") as picture:  # 4 rows of 8 cells (drawn at 32)
        assert picture.size == (8 * 33 + 1, 4 * 33 + 1)


def test_ema_is_refused(tmp_path):
    with pytest.raises(GankitError, match="or encoder models such as vaegan"):
        trainer(tmp_path, "vaegan", digits16(), ema_decay=0.9)


# --- the evaluation --------------------------------------------------------------------------------

def test_reconstruction_scores_by_hand():
    truth = torch.zeros(2, 1, 4, 4)
    off = truth + 0.2  # 0.1 on the [0, 1] scale everywhere
    assert reconstruction_scores(off, truth) == pytest.approx({"mse": 0.01, "psnr": 20.0})
    assert reconstruction_scores(torch.full_like(truth, 5.0), truth)["mse"] == pytest.approx(0.25)  # clamped to 1


def test_linear_probe_reads_a_linearly_separable_code():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 4
    codes = torch.nn.functional.one_hot(labels, 4).float() * 3 + 0.3 * torch.randn(200, 4, generator=generator)
    assert linear_probe(codes[:100], labels[:100], codes[100:], labels[100:]) == 1.0
    noise = torch.randn(200, 4, generator=generator)
    assert linear_probe(noise[:100], labels[:100], noise[100:], labels[100:]) < 0.5


def test_eval_scores_reconstructions_prior_samples_and_probes(tmp_path):
    data = digits16()
    model = trainer(tmp_path, "vaegan", data).model
    metrics = evaluate(model, data.select(slice(0, 40)), 40, plot=tmp_path / "eval.png",
                       task_data=TaskData(data, train=lambda: data))
    assert metrics["images"] == 40 and metrics["probe_train_images"] == len(data) and (tmp_path / "eval.png").is_file()
    truth = uint8_to_float(data.images[:40])
    assert metrics["reconstruction_mse"] == pytest.approx(
        reconstruction_scores(reconstruct_all(model, truth), truth)["mse"])
    assert 0 < metrics["mean_image_mse"] < 1 and 0 < metrics["reconstruction_psnr"] < 60
    for key in ("probe_accuracy", "pixel_probe_accuracy", "precision", "recall"):
        assert 0 <= metrics[key] <= 1
    assert metrics["fid"] > 0 and metrics["real_images"] == 40
    no_train = evaluate(model, data.select(slice(0, 20)), 20)
    assert "no training images" in no_train["probe_unavailable"] and "probe_accuracy" not in no_train


# --- tiny learning tests ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist16(shared_data):
    train = resized(load_dataset("mnist", str(shared_data), "train").select(slice(0, 2000)), 16)
    test = resized(load_dataset("mnist", str(shared_data), "test").select(slice(0, 500)), 16)
    return train, uint8_to_float(test.images)


def learned(tmp_path, name, train, steps, **options):
    run = trainer(tmp_path, name, train, steps=steps, batch_size=32, options={"width": 8, "lr": 1e-3, **options})
    run.fit(progress=False)
    return run.model


def mse(a, b):
    return ((a - b) / 2).pow(2).mean().item()


def test_aae_reconstructs_mnist_with_codes_on_the_prior(tmp_path, mnist16):
    train, truth = mnist16
    model = learned(tmp_path, "aae", train, 400)
    mean_image = uint8_to_float(train.images).mean(0, keepdim=True)
    assert mse(reconstruct_all(model, truth), truth) < 0.75 * mse(mean_image, truth)
    codes = encode_all(model, truth)  # after one round their std is about 0.001
    assert codes.std(0).mean() > 0.5 and 0.5 < codes.pow(2).mean() < 2


def test_vaegan_reconstructs_each_digit_rather_than_any_digit(tmp_path, mnist16):
    train, truth = mnist16
    reconstructions = reconstruct_all(learned(tmp_path, "vaegan", train, 400), truth)
    assert mse(reconstructions, truth) < 0.75 * mse(reconstructions.roll(1, 0), truth)


def test_bigan_learns_samples_and_spreads_its_codes_to_the_prior(tmp_path, mnist16):
    from gankit.classifier import fuse_batchnorm, load_classifier
    from gankit.metrics.features import classify
    from gankit.metrics.images import fid

    train, truth = mnist16
    model = learned(tmp_path, "bigan", train, 300)
    net = fuse_batchnorm(load_classifier("mnist"))
    torch.manual_seed(0)
    assert fid(classify(net, truth)[0], classify(net, generate(model, len(truth)))[0]) < 20
    assert encode_all(model, truth).std(0).mean() > 0.1
