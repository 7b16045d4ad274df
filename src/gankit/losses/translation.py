"""The image-to-image family's non-adversarial terms, as pure functions of tensors.

Every term is a mean over all elements, so it does not depend on the batch or image size.
"""
from __future__ import annotations

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
