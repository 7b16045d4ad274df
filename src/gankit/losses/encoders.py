"""The encoder family's terms, as pure functions of tensors (the KL term of a Gaussian encoder is
``gaussian_kl`` in gankit.losses.translation, shared with BicycleGAN)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def gaussian_nll(reconstruction: Tensor, target: Tensor, std: float = 1.0) -> Tensor:
    """-log N(target | reconstruction, std^2 I) without its constant: 1/(2 std^2) ||target - reconstruction||^2,
    summed over a sample's elements and averaged over the batch.

    On D's features with std 1 this is VAE/GAN's learned similarity L_llike^Dis_l = 1/2 ||Dis_l(x~) - Dis_l(x)||^2
    (Larsen et al. 2016); on pixels it is a plain VAE's Gaussian reconstruction term.
    """
    return (reconstruction - target).pow(2).flatten(1).sum(1).mean() / (2 * std ** 2)


def vaegan_d_loss(real: Tensor, reconstructed: Tensor, sampled: Tensor) -> Tensor:
    """BCE(D(x), 1) + BCE(D(x~), 0) + BCE(D(x_p), 0) from raw logits: VAE/GAN's discriminator loss on real
    images, reconstructions x~ and prior samples x_p, each term a mean over its batch."""
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(reconstructed, torch.zeros_like(reconstructed))
            + F.binary_cross_entropy_with_logits(sampled, torch.zeros_like(sampled)))
