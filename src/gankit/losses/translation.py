"""The image-to-image family's non-adversarial terms, as pure functions of tensors.

Every term is a mean (over elements or over images), so it does not depend on the batch or image size.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def paired_l1(fake: Tensor, target: Tensor) -> Tensor:
    """E |G(a) - b|: pix2pix's L1 term against the ground-truth partner."""
    return (fake - target).abs().mean()


def cycle_consistency(real_a: Tensor, cycled_a: Tensor, real_b: Tensor, cycled_b: Tensor) -> Tensor:
    """E |F(G(a)) - a| + E |G(F(b)) - b|: each domain survives the round trip (CycleGAN, DualGAN)."""
    return (cycled_a - real_a).abs().mean() + (cycled_b - real_b).abs().mean()


def identity_mapping(real_a: Tensor, g_of_b: Tensor, real_b: Tensor, f_of_a: Tensor) -> Tensor:
    """E |G(b) - b| + E |F(a) - a|: a generator handed an image of its target domain leaves it alone
    (CycleGAN's identity term, which keeps colours from drifting)."""
    return (g_of_b - real_b).abs().mean() + (f_of_a - real_a).abs().mean()


def cycle_consistency_mse(real_a: Tensor, cycled_a: Tensor, real_b: Tensor, cycled_b: Tensor) -> Tensor:
    """E (F(G(a)) - a)^2 + E (G(F(b)) - b)^2: the round trip scored by mean squared error (DiscoGAN's
    L_CONST_A + L_CONST_B with d = MSE, as in the authors' code)."""
    return (cycled_a - real_a).pow(2).mean() + (cycled_b - real_b).pow(2).mean()


def pairwise_mse(x: Tensor, y: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    """Bousmalis et al.'s scale-free pairwise MSE, per image over its k (masked) elements, batch mean:

        1/k sum d^2 - 1/k^2 (sum d)^2,   d = (x - y) m

    i.e. the variance of the difference over the mask: it penalises differences *between* pixel pairs
    and forgives a constant shift, so an adapted object may change colour but keeps its shading
    (PixelDA's content-similarity term). ``mask`` (broadcastable to x, values 0/1) defaults to all ones.
    """
    d = x - y
    m = torch.ones_like(d) if mask is None else mask.expand_as(d).to(d.dtype)
    d = (d * m).flatten(1)
    k = m.flatten(1).sum(1).clamp_min(1)
    return (d.pow(2).sum(1) / k - d.sum(1).pow(2) / k.pow(2)).mean()


def source_and_adapted_ce(logits_adapted: Tensor, logits_source: Tensor, labels: Tensor) -> Tensor:
    """CE(T(G(x_s, z)), y_s) + CE(T(x_s), y_s): PixelDA's task term, the classifier T taught the source
    labels on both the adapted and the original source images."""
    return F.cross_entropy(logits_adapted, labels) + F.cross_entropy(logits_source, labels)


def attribute_classification(logits: Tensor, attributes: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """sum_i CE(logits of attribute i, its value): StarGAN's domain classification term for attributes
    that each take one of several values. ``logits`` (N, sum sizes) holds each attribute's logits in
    turn, ``attributes`` (N, A) the value indices. (The paper's CelebA attributes are binary, each with
    one sigmoid logit; a one-of-K attribute is the softmax form of the same term.)"""
    groups = logits.split(list(sizes), dim=1)
    return sum(F.cross_entropy(group, attributes[:, i]) for i, group in enumerate(groups))


def unit_kl(mu: Tensor) -> Tensor:
    """E mu^2 over the latent elements: UNIT's KL term as its authors compute it. The encoder's posterior
    is N(mu, I), whose KL divergence from the prior N(0, I) is 1/2 sum mu^2; per element and without the
    1/2, this is the scale the paper's weights (0.1 against 100 for reconstruction) were tuned on."""
    return mu.pow(2).mean()


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, exp(logvar)) || N(0, I) ) = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2), summed over a code's
    dimensions and averaged over the batch (BicycleGAN's cVAE-GAN term)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()


def least_squares_g_loss(fake: Tensor) -> Tensor:
    """E (D(G(a)) - 1)^2: the least-squares G term as CycleGAN, UNIT, MUNIT and BicycleGAN write it,
    twice gankit's lsgan ``g_loss_least_squares``, which carries Mao et al.'s 1/2."""
    return (fake - 1).pow(2).mean()
