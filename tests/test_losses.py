"""Every adversarial loss and penalty against values computed independently
with plain Python/NumPy on tiny inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit import losses

REAL = [2.0, -0.5, 0.3]
FAKE = [-1.0, 0.8, 0.1]


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def log_sigmoid(v):
    return -math.log1p(math.exp(-v))


def mean(values):
    return sum(values) / len(values)


def test_bce_discriminator_loss():
    expected = -mean([log_sigmoid(r) for r in REAL]) - mean([log_sigmoid(-f) for f in FAKE])
    assert losses.d_loss_bce(t(REAL), t(FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_nonsaturating_and_minimax_generator_losses():
    assert losses.g_loss_nonsaturating(t(FAKE)).item() == pytest.approx(-mean([log_sigmoid(f) for f in FAKE]))
    # minimax: G minimises E log(1 - sigma(D(x~)))
    expected = mean([math.log(1 - 1 / (1 + math.exp(-f))) for f in FAKE])
    assert losses.g_loss_minimax(t(FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_least_squares_losses():
    expected_d = 0.5 * mean([(r - 1) ** 2 for r in REAL]) + 0.5 * mean([f ** 2 for f in FAKE])
    assert losses.d_loss_least_squares(t(REAL), t(FAKE)).item() == pytest.approx(expected_d)
    assert losses.g_loss_least_squares(t(FAKE)).item() == pytest.approx(0.5 * mean([(f - 1) ** 2 for f in FAKE]))


def test_wasserstein_losses():
    assert losses.d_loss_wasserstein(t(REAL), t(FAKE)).item() == pytest.approx(mean(FAKE) - mean(REAL))
    assert losses.g_loss_wasserstein(t(FAKE)).item() == pytest.approx(-mean(FAKE))


def test_hinge_losses():
    expected = mean([max(0, 1 - r) for r in REAL]) + mean([max(0, 1 + f) for f in FAKE])
    assert losses.d_loss_hinge(t(REAL), t(FAKE)).item() == pytest.approx(expected)
    assert losses.g_loss_hinge(t(FAKE)).item() == pytest.approx(-mean(FAKE))


def test_losses_reduce_over_patch_outputs():
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    assert losses.d_loss_bce(real, fake).shape == ()
    assert losses.d_loss_bce(real, fake).item() == pytest.approx(
        losses.d_loss_bce(real.flatten(), fake.flatten()).item())


def _softplus(v):
    return math.log1p(math.exp(v))


@pytest.mark.parametrize("base,pos,neg", [
    ("sgan", lambda v: _softplus(-v), lambda v: _softplus(v)),
    ("lsgan", lambda v: (v - 1) ** 2, lambda v: (v + 1) ** 2),
    ("hinge", lambda v: max(0.0, 1 - v), lambda v: max(0.0, 1 + v)),
])
def test_relativistic_losses(base, pos, neg):
    standard = mean([pos(r - f) for r, f in zip(REAL, FAKE)])
    average = mean([pos(r - mean(FAKE)) for r in REAL]) + mean([neg(f - mean(REAL)) for f in FAKE])
    assert losses.relativistic_loss(t(REAL), t(FAKE), "standard", base).item() == pytest.approx(standard)
    assert losses.relativistic_loss(t(REAL), t(FAKE), "average", base).item() == pytest.approx(average)
    # the generator's loss swaps the roles and keeps both terms
    g_average = mean([pos(f - mean(REAL)) for f in FAKE]) + mean([neg(r - mean(FAKE)) for r in REAL])
    assert losses.relativistic_loss(t(FAKE), t(REAL), "average", base).item() == pytest.approx(g_average)


def test_rsgan_matches_its_formula():
    # RSGAN D loss = BCE(C(x) - C(x~), 1), written out
    expected = mean([-log_sigmoid(r - f) for r, f in zip(REAL, FAKE)])
    assert losses.relativistic_loss(t(REAL), t(FAKE), "standard", "sgan").item() == pytest.approx(expected)


def test_relativistic_rejects_unknown_kind():
    with pytest.raises(ValueError):
        losses.relativistic_loss(t(REAL), t(FAKE), "bogus", "sgan")


# --- penalties -------------------------------------------------------------------
# A quadratic critic f(x) = sum(w * x^2) per sample has gradient 2 w x, so every
# gradient norm has a closed form that NumPy can evaluate.

W = np.array([[0.5, -1.0], [2.0, 0.25]])


def quadratic_critic(x):
    return (torch.as_tensor(W, dtype=x.dtype) * x.pow(2)).flatten(1).sum(1)


def grad_norms(points):
    return np.sqrt(((2 * W * points) ** 2).reshape(len(points), -1).sum(1))


def test_gradient_penalty_uses_per_sample_interpolation(monkeypatch):
    real = np.random.default_rng(0).normal(size=(3, 2, 2))
    fake = np.random.default_rng(1).normal(size=(3, 2, 2))
    eps = np.array([0.1, 0.5, 0.9])
    monkeypatch.setattr(losses.penalties, "_per_sample_uniform",
                        lambda like: torch.tensor(eps, dtype=like.dtype).view(-1, 1, 1))
    points = eps[:, None, None] * real + (1 - eps[:, None, None]) * fake
    expected = ((grad_norms(points) - 1) ** 2).mean()
    got = losses.gradient_penalty(quadratic_critic, torch.tensor(real), torch.tensor(fake))
    assert got.item() == pytest.approx(expected, rel=1e-10)

    expected_div = 2.0 * (grad_norms(points) ** 6).mean()
    got_div = losses.wgan_div_penalty(quadratic_critic, torch.tensor(real), torch.tensor(fake), k=2, p=6)
    assert got_div.item() == pytest.approx(expected_div, rel=1e-10)


def test_gradient_penalty_is_differentiable_in_critic_weights():
    weight = torch.tensor(1.5, requires_grad=True)
    critic = lambda x: weight * x.pow(2).sum(1)  # noqa: E731  grad 2 w x, norm 2|w| ||x||
    real, fake = torch.ones(4, 3), torch.ones(4, 3)
    penalty = losses.gradient_penalty(critic, real, fake)
    (grad,) = torch.autograd.grad(penalty, weight)
    # penalty = (2 w sqrt(3) - 1)^2, d/dw = 2 (2 w sqrt(3) - 1) 2 sqrt(3)
    s3 = math.sqrt(3)
    assert penalty.item() == pytest.approx((2 * 1.5 * s3 - 1) ** 2)
    assert grad.item() == pytest.approx(2 * (2 * 1.5 * s3 - 1) * 2 * s3)


def test_r1_penalty():
    real = np.random.default_rng(2).normal(size=(4, 2, 2))
    expected = (grad_norms(real) ** 2).mean()
    assert losses.r1_penalty(quadratic_critic, torch.tensor(real)).item() == pytest.approx(expected, rel=1e-10)


def test_dragan_penalty_perturbs_real_points(monkeypatch):
    real = np.random.default_rng(3).normal(size=(3, 2, 2))
    noise = np.full(real.shape, 0.5)
    eps = np.array([0.2, 0.4, 1.0])
    monkeypatch.setattr(torch, "rand_like", lambda x: torch.tensor(noise, dtype=x.dtype))
    monkeypatch.setattr(losses.penalties, "_per_sample_uniform",
                        lambda like: torch.tensor(eps, dtype=like.dtype).view(-1, 1, 1))
    perturbed = real + 0.5 * real.std(ddof=1) * noise
    points = eps[:, None, None] * perturbed + (1 - eps[:, None, None]) * real
    expected = ((grad_norms(points) - 1) ** 2).mean()
    assert losses.dragan_penalty(quadratic_critic, torch.tensor(real)).item() == pytest.approx(expected, rel=1e-10)


def test_per_sample_weights_have_broadcast_shape():
    weights = losses.penalties._per_sample_uniform(torch.zeros(5, 3, 4, 4))
    assert weights.shape == (5, 1, 1, 1)
    assert len(set(weights.flatten().tolist())) == 5


def test_clip_weights():
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -0.2, 0.005], [-0.03, 0.0, 0.01]]))
    losses.clip_weights(layer, 0.01)
    expected = torch.tensor([[0.01, -0.01, 0.005], [-0.01, 0.0, 0.01]])
    assert torch.allclose(layer.weight, expected)
    assert layer.bias.abs().max().item() <= 0.01
