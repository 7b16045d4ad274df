"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

gan with the cross-entropy replaced by least squares on D's linear output,
with the paper's 0-1 coding (a=0, b=1, c=1):

    D minimises  1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2
    G minimises  1/2 E (D(G(z)) - 1)^2

Fakes that D already rates as real but that lie far from the data still get a
gradient (the sigmoid of gan saturates there). Adam 2e-4, beta1 0.5, networks
chosen by the data (DCGAN nets for images). The reference script uses
MSELoss, i.e. drops the 1/2 on G's loss, uses Upsample+Conv G with
BatchNorm2d(C, 0.8) (eps=0.8 by accident); same optimum, different scale.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.models.unconditional.gan import GAN, GANOptions
from gankit.models.unconditional.base import LossName, Nets
from gankit.registry import register


@dataclass
class LSGANOptions(GANOptions):
    nets: Nets = "auto"
    loss: LossName = "lsgan"


@register
class LSGAN(GAN):
    name = "lsgan"
    summary = "least-squares D and G losses (a=0, b=1, c=1)"
    paper = "Mao et al. 2017, Least Squares Generative Adversarial Networks"
    Options = LSGANOptions
