"""Regularisers on the critic: gradient penalties and weight clipping.

Each penalty takes ``critic``, a callable from a batch of inputs to logits, so
conditional critics can be wrapped in a lambda. Gradients are taken with
``create_graph=True`` so the penalty itself can be backpropagated, and norms are
per sample over every non-batch dimension.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

Critic = Callable[[Tensor], Tensor]


def input_gradient_norm(critic: Critic, points: Tensor) -> Tensor:
    """Per-sample L2 norm of d critic(points) / d points, shape (B,)."""
    points = points.detach().requires_grad_(True)
    outputs = critic(points)
    (grad,) = torch.autograd.grad(outputs.sum(), points, create_graph=True)
    return grad.flatten(1).norm(2, dim=1)


def _per_sample_uniform(like: Tensor) -> Tensor:
    """U[0, 1) weights of shape (B, 1, ..., 1), one per sample."""
    return torch.rand((like.shape[0],) + (1,) * (like.dim() - 1), device=like.device, dtype=like.dtype)


def interpolate(real: Tensor, fake: Tensor) -> Tensor:
    """x^ = e x + (1 - e) x~ with e ~ U[0, 1] drawn once per sample."""
    eps = _per_sample_uniform(real)
    return eps * real.detach() + (1 - eps) * fake.detach()


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, center: float = 1.0) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E (||grad f(x^)||_2 - center)^2."""
    return (input_gradient_norm(critic, interpolate(real, fake)) - center).pow(2).mean()


def dragan_penalty(critic: Critic, real: Tensor, noise_scale: float = 0.5, center: float = 1.0) -> Tensor:
    """DRAGAN (Kodali et al. 2017): E (||grad D(x_p)||_2 - k)^2 with k = ``center`` (the paper's k = 1).

    x_p lies a per-sample random fraction of the way from x to
    x + noise_scale * std(x) * U[0, 1), i.e. in a noisy ball around real data.
    """
    real = real.detach()
    perturbed = real + noise_scale * real.std() * torch.rand_like(real)
    return (input_gradient_norm(critic, interpolate(perturbed, real)) - center).pow(2).mean()


def wgan_div_penalty(critic: Critic, real: Tensor, fake: Tensor, k: float = 2.0, p: float = 6.0) -> Tensor:
    """WGAN-div (Wu et al. 2018): k E ||grad f(x^)||^p on real/fake interpolates."""
    return k * input_gradient_norm(critic, interpolate(real, fake)).pow(p).mean()


def r1_penalty(critic: Critic, real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): E ||grad D(x)||^2 at real data (times gamma/2 by the caller)."""
    return input_gradient_norm(critic, real).pow(2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, bound: float = 0.01) -> None:
    """WGAN weight clipping: clamp every parameter of ``module`` to [-bound, bound]."""
    for param in module.parameters():
        param.clamp_(-bound, bound)
