"""DCGAN (Radford et al. 2016): the GAN objective on all-convolutional networks.

The losses and round structure are gan's; what changes is the networks
(see gankit.nets.dcgan: transposed-conv G with BatchNorm and ReLU, strided-conv
D with LeakyReLU 0.2 and no BatchNorm on its first layer, N(0, 0.02) init),
z of dimension 100 and Adam 2e-4 with beta1 0.5. The widely copied reference
script uses Upsample+Conv, dropout and BatchNorm after the activation instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from gankit.models.unconditional.gan import GAN, GANOptions
from gankit.models.unconditional.base import Nets
from gankit.registry import register


@dataclass
class DCGANOptions(GANOptions):
    z_dim: int = 100
    nets: Nets = "dcgan"


@register
class DCGAN(GAN):
    name = "dcgan"
    summary = "GAN objective on the paper's convolutional G and D"
    paper = "Radford et al. 2016, Unsupervised Representation Learning with Deep Convolutional GANs"
    Options = DCGANOptions
