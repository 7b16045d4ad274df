"""The unconditional GAN family: losses against independent NumPy values, network
shapes, one training step per model, and the options every model offers
(spectral norm, PacGAN packing, R1, DiffAugment, loss selection)."""
from __future__ import annotations

import math
import sys
import typing

import numpy as np
import pytest
import torch
from torch import nn

from gankit.augment import DiffAugment
from gankit.config import build_dataclass, resolve
from gankit.data import Batch, DataSpec, load_dataset
from gankit.errors import GankitError
from gankit.losses import ADVERSARIAL_LOSSES
from gankit.models.unconditional.base import LossName, UnconditionalGAN
from gankit.registry import all_models, get_model
from gankit.train.logger import MetricsLogger
from gankit.train.trainer import Trainer

MODELS = sorted(name for name, cls in all_models().items() if cls.family == "unconditional")
TOY_MODELS = [name for name in MODELS if name != "dcgan"]  # dcgan's networks are image-only by design
AE_MODELS = {"ebgan", "began"}
POINTS = DataSpec("ring8", "toy2d", (2,))
DIGITS = DataSpec("digits", "image", (1, 8, 8))
RGB32 = DataSpec("rgb32", "image", (3, 32, 32))

# A fixed tiny batch: 4 real and 4 fake 2-D points.
REAL = np.array([[1.0, 0.0], [0.0, 1.0], [-0.7, 0.7], [0.3, -0.9]])
FAKE = np.array([[0.1, 0.2], [-0.4, 0.3], [0.5, -0.5], [0.0, 0.05]])
W, B = np.array([1.3, -0.6]), 0.2  # the linear critic D(x) = x . W + B


def test_every_model_of_the_family_is_registered():
    expected = {"gan", "dcgan", "lsgan", "wgan", "wgan-gp", "wgan-div", "dragan", "bgan", "rgan", "rsgan",
                "ragan", "softmax-gan", "ebgan", "began", "sngan"}
    assert expected <= set(MODELS)
    for name in MODELS:
        cls = get_model(name)
        assert issubclass(cls, UnconditionalGAN) and cls.paper and cls.summary
        assert "reference" in sys.modules[cls.__module__].__doc__  # states where the reference deviates


# --- hand-built networks -------------------------------------------------------

class FixedG(nn.Module):
    """Returns the fixed fake batch, whatever the noise."""

    def __init__(self, fake):
        super().__init__()
        self.fake = torch.tensor(fake)
        self.offset = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, z):
        return self.fake[: len(z)] + self.offset


class LinearCritic(nn.Module):
    def __init__(self, pack=1):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(np.tile(W, pack)))
        self.pack = pack

    def forward(self, x):
        return x.reshape(len(x) // self.pack, -1) @ self.w + B


class QuadraticCritic(nn.Module):
    """D(x) = 1/2 sum_i a_i v_i^2 over the packed row v: grad = a * v."""

    def __init__(self, a, pack=1):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(np.tile(a, pack)))
        self.pack = pack

    def forward(self, x):
        v = x.reshape(len(x) // self.pack, -1)
        return 0.5 * (self.a * v * v).sum(1)


class AffineAutoencoder(nn.Module):
    """Reconstruction s*v + c, code v @ P."""

    S, C = 0.6, np.array([0.1, -0.2])
    P = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.7]])

    def __init__(self):
        super().__init__()
        self.s = nn.Parameter(torch.tensor(self.S, dtype=torch.float64))

    def pack(self, x):
        return x

    def forward(self, x):
        return self.s * x + torch.tensor(self.C), x @ torch.tensor(self.P)


def hand_built(name, D=None, fake=FAKE, **options):
    model = get_model(name)(build_dataclass(get_model(name).Options, options, "options"), POINTS)
    model.G = FixedG(fake)
    model.D = D if D is not None else (AffineAutoencoder() if name in AE_MODELS else LinearCritic())
    return model


def losses_of(model, real=REAL):
    batch = Batch(torch.tensor(real))
    d_loss, d_logs = model.d_loss(batch)
    g_loss, g_logs = model.g_loss(batch)
    for logs in (d_logs, g_logs):
        assert all(not v.requires_grad for v in logs.values())
    return d_loss.item(), g_loss.item(), d_logs


# --- independent NumPy values ----------------------------------------------------

def softplus(t):
    return np.log1p(np.exp(t))


def relu(t):
    return np.maximum(t, 0)


r, f = REAL @ W + B, FAKE @ W + B  # the critic's logits
W_NORM = np.linalg.norm(W)

EXPECTED = {  # name -> (options, D loss, G loss)
    "gan": ({}, softplus(-r).mean() + softplus(f).mean(), softplus(-f).mean()),
    "dcgan": ({"nets": "mlp"}, softplus(-r).mean() + softplus(f).mean(), softplus(-f).mean()),
    "gan-minimax": ({"loss": "minimax"}, softplus(-r).mean() + softplus(f).mean(), -softplus(f).mean()),
    "gan-hinge": ({"loss": "hinge"}, relu(1 - r).mean() + relu(1 + f).mean(), -f.mean()),
    "sngan": ({}, relu(1 - r).mean() + relu(1 + f).mean(), -f.mean()),
    "lsgan": ({}, 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(), 0.5 * ((f - 1) ** 2).mean()),
    "wgan": ({}, f.mean() - r.mean(), -f.mean()),
    # a linear critic has gradient W everywhere, whatever the interpolation
    "wgan-gp": ({}, f.mean() - r.mean() + 10 * (W_NORM - 1) ** 2, -f.mean()),
    "wgan-div": ({}, f.mean() - r.mean() + 2 * W_NORM ** 6, -f.mean()),
    "dragan": ({}, softplus(-r).mean() + softplus(f).mean() + 10 * (W_NORM - 1) ** 2, softplus(-f).mean()),
    "bgan": ({}, softplus(-r).mean() + softplus(f).mean(), 0.5 * (f ** 2).mean()),
    "rsgan": ({}, softplus(-(r - f)).mean(), softplus(-(f - r)).mean()),
    "ragan": ({}, softplus(-(r - f.mean())).mean() + softplus(f - r.mean()).mean(),
              softplus(-(f - r.mean())).mean() + softplus(r - f.mean()).mean()),
    "rgan": ({}, ((r - f.mean() - 1) ** 2).mean() + ((f - r.mean() + 1) ** 2).mean(),
             ((f - r.mean() - 1) ** 2).mean() + ((r - f.mean() + 1) ** 2).mean()),
    "rgan-hinge-standard": ({"kind": "standard", "base": "hinge"}, relu(1 - (r - f)).mean(),
                            relu(1 - (f - r)).mean()),
    "softmax-gan": ({}, r.mean() + np.log(np.exp(-np.concatenate([r, f])).sum()),
                    np.concatenate([r, f]).mean() + np.log(np.exp(-np.concatenate([r, f])).sum())),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_losses_match_numpy(case):
    options, d_expected, g_expected = EXPECTED[case]
    name = case if case in MODELS else case.split("-")[0]
    d_loss, g_loss, _ = losses_of(hand_built(name, **options))
    assert d_loss == pytest.approx(d_expected, rel=1e-10)
    assert g_loss == pytest.approx(g_expected, rel=1e-10)


def autoencoder_numpy(v, l1=False):
    error = AffineAutoencoder.S * v + AffineAutoencoder.C - v
    return (np.abs(error) if l1 else error ** 2).mean(1), v @ AffineAutoencoder.P


def test_ebgan_losses_match_numpy():
    e_real, _ = autoencoder_numpy(REAL)
    e_fake, codes = autoencoder_numpy(FAKE)
    margin = 0.05  # between the fake energies, so the per-sample hinge is active for some only
    assert (e_fake < margin).any() and (e_fake > margin).any()
    n = len(codes)
    pt = sum((codes[i] @ codes[j] / np.linalg.norm(codes[i]) / np.linalg.norm(codes[j])) ** 2
             for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    d_loss, g_loss, _ = losses_of(hand_built("ebgan", margin=margin))
    assert d_loss == pytest.approx(e_real.mean() + relu(margin - e_fake).mean(), rel=1e-10)
    assert g_loss == pytest.approx(e_fake.mean() + 0.1 * pt, rel=1e-10)


def test_began_losses_and_k_controller_match_numpy():
    l_real, l_fake = autoencoder_numpy(REAL, l1=True)[0].mean(), autoencoder_numpy(FAKE, l1=True)[0].mean()
    model = hand_built("began")
    assert model.k.item() == 0.0 and "k" in dict(model.named_buffers())
    model.k.fill_(0.3)
    d_loss, g_loss, logs = losses_of(model)
    assert d_loss == pytest.approx(l_real - 0.3 * l_fake, rel=1e-6)
    assert g_loss == pytest.approx(l_fake, rel=1e-10)
    balance = 0.5 * l_real - l_fake
    assert logs["M"].item() == pytest.approx(l_real + abs(balance), rel=1e-10)
    model.after_step("G")  # only D's steps move k
    assert model.k.item() == pytest.approx(0.3, rel=1e-6)
    model.after_step("D")
    assert model.k.item() == pytest.approx(0.3 + 0.001 * balance, rel=1e-6)
    model.k.fill_(0.0)  # k stays in [0, 1]
    model.d_loss(Batch(torch.tensor(REAL)))
    model.after_step("D")
    assert model.k.item() == (0.0 if balance < 0 else pytest.approx(0.001 * balance))


def test_wgan_clips_critic_weights_after_each_d_step_only():
    model = get_model("wgan")(get_model("wgan").Options(width=16), POINTS)
    with torch.no_grad():
        for p in model.D.parameters():
            p.fill_(0.5)
    model.after_step("G")
    assert max(p.abs().max().item() for p in model.D.parameters()) == 0.5
    model.after_step("D")
    assert max(p.abs().max().item() for p in model.D.parameters()) == pytest.approx(0.01)
    assert model.players()[0].steps == 5 and model.players()[0].optim.kind == "rmsprop"


A = np.array([0.8, 1.7])  # the quadratic critic's curvatures


def test_gradient_penalties_are_per_sample_with_a_quadratic_critic():
    # real == fake, so every interpolate is the data point itself and the gradient is A * x
    grad_norms = np.linalg.norm(A * REAL, axis=1)
    values = 0.5 * (A * REAL * REAL).sum(1)
    model = hand_built("wgan-gp", D=QuadraticCritic(A), fake=REAL)
    d_loss, _, logs = losses_of(model)
    assert logs["gp"].item() == pytest.approx(10 * ((grad_norms - 1) ** 2).mean(), rel=1e-10)
    assert d_loss == pytest.approx(values.mean() - values.mean() + logs["gp"].item(), rel=1e-10)
    model = hand_built("wgan-div", D=QuadraticCritic(A), fake=REAL)
    assert losses_of(model)[2]["div"].item() == pytest.approx(2 * (grad_norms ** 6).mean(), rel=1e-10)


def test_gradient_penalty_with_packing_takes_the_norm_over_the_pack():
    packed = (A * REAL).reshape(2, 4)  # pairs of samples, as the packed critic sees them
    model = hand_built("wgan-gp", D=QuadraticCritic(A, pack=2), fake=REAL, pack=2)
    expected = 10 * ((np.linalg.norm(packed, axis=1) - 1) ** 2).mean()
    assert losses_of(model)[2]["gp"].item() == pytest.approx(expected, rel=1e-10)


def test_r1_penalty_matches_numpy():
    grad_sq = (np.linalg.norm(A * REAL, axis=1) ** 2).mean()
    values_r, values_f = 0.5 * (A * REAL * REAL).sum(1), 0.5 * (A * FAKE * FAKE).sum(1)
    plain = softplus(-values_r).mean() + softplus(values_f).mean()
    for name in ("gan", "lsgan", "rgan"):
        model = hand_built(name, D=QuadraticCritic(A), r1_gamma=3.0)
        d_loss, _, logs = losses_of(model)
        assert logs["r1"].item() == pytest.approx(1.5 * grad_sq, rel=1e-10)
        if name == "gan":
            assert d_loss == pytest.approx(plain + 1.5 * grad_sq, rel=1e-10)
    d_loss, _, logs = losses_of(hand_built("gan", D=QuadraticCritic(A)))
    assert "r1" not in logs and d_loss == pytest.approx(plain, rel=1e-10)


def test_hinge_selection_uses_the_hinge_loss():
    assert set(typing.get_args(LossName)) == set(ADVERSARIAL_LOSSES)
    for name in ("gan", "dcgan", "lsgan", "wgan-gp", "dragan"):
        options = {"loss": "hinge", **({"nets": "mlp"} if name == "dcgan" else {})}
        d_loss, g_loss, _ = losses_of(hand_built(name, **options))
        penalty = 10 * (W_NORM - 1) ** 2 if name in ("wgan-gp", "dragan") else 0.0
        assert d_loss == pytest.approx(relu(1 - r).mean() + relu(1 + f).mean() + penalty, rel=1e-10)
        assert g_loss == pytest.approx(-f.mean(), rel=1e-10)


def test_d_step_detaches_fakes_and_g_step_reaches_g():
    model = hand_built("gan")
    d_loss, _ = model.d_loss(Batch(torch.tensor(REAL)))
    assert torch.autograd.grad(d_loss, model.G.offset, allow_unused=True)[0] is None
    g_loss, _ = model.g_loss(Batch(torch.tensor(REAL)))
    assert torch.autograd.grad(g_loss, model.G.offset)[0].abs().item() > 0


# --- networks ---------------------------------------------------------------------

def tiny(name, data, **extra):
    cls = get_model(name)
    return cls(build_dataclass(cls.Options, {"width": 8, "z_dim": 8, **extra}, "options"), data)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("data", [POINTS, DIGITS, RGB32], ids=["2d", "8x8", "32x32"])
def test_network_shapes(name, data):
    if name == "dcgan" and not data.is_image:
        with pytest.raises(ValueError, match="need image data"):
            tiny(name, data)
        return
    model = tiny(name, data, nets="auto")
    n = 6
    x = model.sample(n)
    assert x.shape == (n, *data.shape)
    if data.is_image:
        assert x.abs().max() <= 1  # tanh output for [-1, 1] images
        assert any(isinstance(m, nn.Conv2d) for m in model.D.modules())  # the data decides: conv nets
    else:
        assert not any(isinstance(m, nn.Conv2d) for m in model.modules())
    out = model.D(x)
    if name in AE_MODELS:
        reconstruction, code = out
        assert reconstruction.shape == x.shape and code.shape[0] == n
    else:
        assert out.shape == (n,)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def run_config(name, data, **options):
    tree = {"model": name, "data": {"name": data},
            "train": {"steps": 1, "batch_size": 16, "eval_samples": 0},
            "options": {"width": 8, "z_dim": 8, **options}}
    return resolve(tree, get_model(name).Options)


def one_round_changes_every_player(trainer, tmp_path):
    before = {p.name: [w.detach().clone() for w in p.parameters()] for p in trainer.players}
    logger = MetricsLogger(tmp_path)
    trainer.train_round(logger)
    record = logger.flush(1)
    logger.close()
    for player in trainer.players:
        changed = [not torch.equal(old, new) for old, new in zip(before[player.name], player.parameters())]
        assert sum(changed) >= len(changed) // 2, f"{player.name}: {sum(changed)}/{len(changed)} changed"
    assert all(math.isfinite(v) for v in record.values())
    assert "D/loss" in record and "G/loss" in record


@pytest.mark.parametrize("name", TOY_MODELS)
def test_one_training_round_on_points(name, tmp_path):
    trainer = Trainer(run_config(name, "ring8"), tmp_path, load_dataset("ring8"))
    one_round_changes_every_player(trainer, tmp_path)


@pytest.mark.parametrize("name", MODELS)
def test_one_training_round_on_images(name, tmp_path, digits):
    trainer = Trainer(run_config(name, "digits", nets="dcgan" if name == "dcgan" else "auto"), tmp_path, digits)
    one_round_changes_every_player(trainer, tmp_path)


# --- options ------------------------------------------------------------------------

def linear_spectral_norms(module):
    return [torch.linalg.matrix_norm(m.weight.detach().flatten(1), 2).item()
            for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


@pytest.mark.parametrize("data", [POINTS, DIGITS], ids=["mlp", "conv"])
def test_spectral_norm_constrains_d(data):
    torch.manual_seed(0)
    plain, normed = tiny("gan", data, nets="auto", width=32), tiny("gan", data, nets="auto", width=32,
                                                                     spectral_norm=True)
    x = torch.randn(64, *data.shape)
    for _ in range(200):  # power iterations run in training-mode forward passes
        normed.D(x)
    assert all(abs(s - 1) < 1e-2 for s in linear_spectral_norms(normed.D))
    assert not all(abs(s - 1) < 0.1 for s in linear_spectral_norms(plain.D))
    if not data.is_image:  # a chain of 1-Lipschitz layers: |D(x) - D(y)| <= ||x - y||
        normed.D.eval()
        y = x + 0.3 * torch.randn_like(x)
        ratio = (normed.D(x) - normed.D(y)).abs() / (x - y).norm(dim=1)
        assert ratio.max().item() <= 1.01 ** 4
    sngan = tiny("sngan", data)
    assert sngan.options.loss == "hinge" and sngan.options.spectral_norm
    assert any("parametrizations" in n for n, _ in sngan.D.named_parameters())


def test_pack_changes_d_input_width_and_needs_divisible_batches():
    assert tiny("gan", POINTS, pack=4).D.net[0].in_features == 4 * tiny("gan", POINTS).D.net[0].in_features
    assert tiny("dcgan", DIGITS, pack=3).D.trunk[0].in_channels == 3
    assert tiny("ebgan", POINTS, pack=2).D.encoder[0].in_features == 4
    assert tiny("began", DIGITS, pack=2).D.encoder[0].in_channels == 2
    for name in ("gan", "wgan-gp", "ebgan", "began", "rsgan"):
        model = tiny(name, POINTS, pack=4)
        loss, _ = model.d_loss(Batch(torch.randn(32, 2)))
        assert loss.isfinite()
        out = model.D(torch.randn(32, 2))  # one judgement (or reconstruction) per pack of 4
        assert (out[0] if name in AE_MODELS else out).shape[0] == 8
        with pytest.raises(GankitError, match="divisible by 4"):
            model.d_loss(Batch(torch.randn(30, 2)))
    with pytest.raises(GankitError, match="at least 1"):
        build_dataclass(get_model("gan").Options, {"pack": 0}, "options")


def test_penalised_critic_refuses_batchnorm():
    for name in ("wgan-gp", "wgan-div", "dragan"):
        with pytest.raises(ValueError, match="BatchNorm"):
            tiny(name, DIGITS, d_norm="batch")
        tiny(name, DIGITS, d_norm="layer")
    with pytest.raises(ValueError, match="BatchNorm"):
        tiny("dcgan", DIGITS, r1_gamma=1.0)
    tiny("dcgan", DIGITS, r1_gamma=1.0, d_norm="none")
    tiny("gan", POINTS, r1_gamma=1.0)  # the MLP D has no BatchNorm


def test_diffaugment_is_differentiable_and_shape_preserving():
    x = torch.rand(4, 3, 16, 16, dtype=torch.float64) * 2 - 1
    for policy in ("color", "translation", "cutout", "color,translation,cutout"):
        augment = DiffAugment(policy)
        y = augment(x)
        assert y.shape == x.shape and y.dtype == x.dtype and not torch.equal(x, y)

        def seeded(inp):  # the same random draws on every call, so gradcheck sees one function
            with torch.random.fork_rng():
                torch.manual_seed(0)
                return augment(inp)

        assert torch.autograd.gradcheck(seeded, (x[:1, :2, :5, :5].clone().requires_grad_(),))
    moved = DiffAugment("translation")(x)  # whole pixels move: values are kept or zero
    assert set(moved.unique().tolist()) <= set(x.unique().tolist()) | {0.0}
    holes = (DiffAugment("cutout")(torch.ones(64, 1, 16, 16)) == 0).flatten(1).sum(1)
    assert holes.max() == 64 and holes.min() >= 16  # an 8x8 square, clipped at most to a quarter
    assert DiffAugment("")(x) is x
    with pytest.raises(GankitError, match="unknown DiffAugment policy 'flip'"):
        build_dataclass(get_model("gan").Options, {"diffaugment": "color,flip"}, "options")
    with pytest.raises(ValueError, match="needs image data"):
        tiny("gan", POINTS, diffaugment="color")


def test_diffaugment_sees_real_and_fake_in_both_steps():
    model = tiny("dcgan", DIGITS, diffaugment="translation,cutout")
    seen = []
    inner = model.augment
    model.augment = lambda v: seen.append(v.requires_grad) or inner(v)
    batch = Batch(torch.rand(8, 1, 8, 8) * 2 - 1)
    model.d_loss(batch)
    assert seen == [False, False]  # real, and the detached fake
    seen.clear()
    loss, _ = model.g_loss(batch)
    assert seen == [False, True]  # the fake keeps its graph to G through the augmentation
    loss.backward()
    assert all(p.grad is not None for p in model.G.parameters())


def test_image_nets_follow_each_paper():
    from gankit.nets.paper_cnns import BEGANAutoencoder, BEGANDecoder, SNGANDiscriminator, SNGANGenerator

    mnist32 = DataSpec("mnist", "image", (1, 32, 32), 10)
    sngan = get_model("sngan")(get_model("sngan").Options(width=8), mnist32)
    assert isinstance(sngan.G, SNGANGenerator) and isinstance(sngan.D, SNGANDiscriminator)
    convs = [m for m in sngan.D.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0]) for c in convs] == [(3, 1), (4, 2), (3, 1), (4, 2), (3, 1), (4, 2), (3, 1)]
    assert all(hasattr(c, "parametrizations") for c in convs)  # every D layer spectrally normalised
    assert not any(isinstance(m, nn.BatchNorm2d) for m in sngan.D.modules())
    began = get_model("began")(get_model("began").Options(width=8), mnist32)
    assert isinstance(began.G, BEGANDecoder) and isinstance(began.D, BEGANAutoencoder)
    assert any(isinstance(m, nn.Upsample) for m in began.G.modules())
    assert all(not isinstance(m, (nn.BatchNorm2d, nn.ReLU)) for m in began.D.modules())
    reconstruction, code = began.D(torch.zeros(2, 1, 32, 32))
    assert reconstruction.shape == (2, 1, 32, 32) and code.shape == (2, 64)
    dcgan_sngan = get_model("sngan")(get_model("sngan").Options(nets="dcgan", width=8), mnist32)
    assert type(dcgan_sngan.D).__name__ == "DCGANDiscriminator"  # SN-DCGAN on request
    assert str(get_model("sngan").image_sizes(get_model("sngan").Options())) == "an image size that is a multiple of 8, >= 8"
