"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs").

wgan with the weight clipping replaced by a gradient penalty that pushes the
critic's gradient norm towards 1 on random interpolates of real and fake:

    D minimises  E D(G(z)) - E D(x) + 10 E (||grad D(x^)||_2 - 1)^2,
                 x^ = e x + (1 - e) G(z),  e ~ U[0, 1] drawn once per sample
    G minimises  -E D(G(z))

n_critic = 5, Adam 1e-4 with betas (0, 0.9). The penalty is per sample, so
the critic must not use BatchNorm: d_norm defaults to 'none' ('layer' is the
paper's suggested replacement) and 'batch' is refused for conv critics. The
norm is taken over all of a sample's dimensions (the whole pack with PacGAN).
The reference script penalises correctly but gives G BatchNorm1d(C, 0.8)
(eps=0.8 by accident).
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.losses import gradient_penalty
from gankit.models.unconditional.gan import GAN, GANOptions
from gankit.models.unconditional.base import LossName, Nets, Norm
from gankit.registry import register


@dataclass
class PenalisedCriticOptions(GANOptions):
    """The WGAN-GP recipe, shared by the Wasserstein critics with a gradient penalty."""

    nets: Nets = "auto"
    loss: LossName = "wasserstein"
    d_norm: Norm = "none"
    lr: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.9)
    n_critic: int = 5


@dataclass
class WGANGPOptions(PenalisedCriticOptions):
    gp_weight: float = 10.0


@register
class WGANGP(GAN):
    name = "wgan-gp"
    summary = "Wasserstein critic with a gradient penalty on real/fake interpolates"
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs"
    Options = WGANGPOptions

    def input_gradients(self):
        return True

    def d_penalty(self, real, fake):
        return {"gp": self.options.gp_weight * self.penalty(gradient_penalty, real, fake)}
