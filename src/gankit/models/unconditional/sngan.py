"""SNGAN (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks").

A preset of gan's options rather than a new objective: every weight of D is
divided by its largest singular value (estimated by one power iteration per
forward pass), which bounds D's Lipschitz constant without a penalty, and the
losses are the hinge pair

    D minimises  E max(0, 1 - D(x)) + E max(0, 1 + D(G(z)))
    G minimises  -E D(G(z))

on the paper's "standard CNN" for images (gankit.nets.paper_cnns: 3x3 and
4x4 stride-2 convs in D, no BatchNorm there; ``nets=dcgan`` gives SN-DCGAN) and
MLPs for 2-D points; z of 128, Adam 2e-4, betas (0.5, 0.999), one D step per G
step (the paper's setting C).
Any other model gets the same normalisation with options.spectral_norm=true.
The reference folder of scripts has no SNGAN; torch's own spectral_norm
parametrization does the power iteration.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.models.unconditional.gan import GAN, GANOptions
from gankit.models.unconditional.base import LossName, Nets, Norm
from gankit.registry import register


@dataclass
class SNGANOptions(GANOptions):
    z_dim: int = 128
    nets: Nets = "auto"
    loss: LossName = "hinge"
    spectral_norm: bool = True
    d_norm: Norm = "none"


@register
class SNGAN(GAN):
    name = "sngan"
    summary = "spectrally normalised D with the hinge loss (a preset of gan)"
    paper = "Miyato et al. 2018, Spectral Normalization for Generative Adversarial Networks"
    Options = SNGANOptions
    image_nets = "sngan"
