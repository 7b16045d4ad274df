"""WGAN (Arjovsky et al. 2017, "Wasserstein GAN").

gan with the critic estimating the Wasserstein-1 distance instead of a
probability, kept (roughly) 1-Lipschitz by clipping its weights:

    D minimises  E D(G(z)) - E D(x)        (D is a linear critic)
    G minimises  -E D(G(z))
    after every D step: clamp every critic weight to [-clip, clip], clip = 0.01

n_critic = 5 critic steps, each on a fresh batch, per G step; RMSprop 5e-5
(the paper found momentum-based optimizers unstable with clipping). The
paper's code also runs 100 critic steps for the first 25 G steps and every
500th; that warm-up is not reproduced here. The reference script follows the
algorithm but uses BatchNorm1d(C, 0.8) in G (eps=0.8 by accident).
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.errors import GankitError
from gankit.losses import clip_weights
from gankit.models.unconditional.gan import GAN, GANOptions
from gankit.models.unconditional.base import LossName, Nets, Optimizer
from gankit.registry import register


@dataclass
class WGANOptions(GANOptions):
    nets: Nets = "auto"
    loss: LossName = "wasserstein"
    optimizer: Optimizer = "rmsprop"
    lr: float = 5e-5
    n_critic: int = 5
    clip: float = 0.01  # weight-clipping bound

    def validate(self) -> None:
        super().validate()
        if self.clip <= 0:
            raise GankitError(f"options.clip must be positive, not {self.clip}.")


@register
class WGAN(GAN):
    name = "wgan"
    summary = "Wasserstein critic kept Lipschitz by weight clipping, RMSprop, 5 critic steps"
    paper = "Arjovsky et al. 2017, Wasserstein GAN"
    Options = WGANOptions

    def after_step(self, player):
        if player == "D":
            clip_weights(self.D, self.options.clip)
