"""WGAN (Arjovsky et al. 2017, "Wasserstein GAN").

gan with the critic estimating the Wasserstein-1 distance instead of a
probability, kept (roughly) 1-Lipschitz by clipping its weights:

    D minimises  E D(G(z)) - E D(x)        (D is a linear critic)
    G minimises  -E D(G(z))
    after every D step: clamp every critic weight to [-clip, clip], clip = 0.01

n_critic = 5 critic steps, each on a fresh batch, per G step; RMSprop 5e-5
(the paper found momentum-based optimizers unstable with clipping). As in the
paper's code, the critic takes 100 steps instead in the first 25 rounds and in
every 500th, so that it is near its optimum before G follows it
(``warmup_critic_steps=0`` turns this off). The reference script follows the
algorithm without that warm-up and uses BatchNorm1d(C, 0.8) in G (eps=0.8 by
accident).
"""
from __future__ import annotations

import dataclasses
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
    warmup_critic_steps: int = 100  # critic steps in the warm-up rounds (0: always n_critic)
    warmup_rounds: int = 25  # the first this many rounds are warm-up rounds ...
    warmup_every: int = 500  # ... and so is every round whose number is a multiple of this

    def validate(self) -> None:
        super().validate()
        if self.clip <= 0:
            raise GankitError(f"options.clip must be positive, not {self.clip}.")
        if self.warmup_critic_steps < 0 or self.warmup_rounds < 0 or self.warmup_every < 1:
            raise GankitError("options.warmup_critic_steps and warmup_rounds must be non-negative and "
                              "warmup_every at least 1.")


@register
class WGAN(GAN):
    name = "wgan"
    summary = "Wasserstein critic kept Lipschitz by weight clipping, RMSprop, 5 critic steps"
    paper = "Arjovsky et al. 2017, Wasserstein GAN"
    Options = WGANOptions

    def critic_steps(self, round_: int) -> int:
        o = self.options
        warm = o.warmup_critic_steps > 0 and (round_ < o.warmup_rounds or round_ % o.warmup_every == 0)
        return o.warmup_critic_steps if warm else o.n_critic

    def players(self):
        critic, generator = super().players()
        return [dataclasses.replace(critic, schedule=self.critic_steps), generator]

    def after_step(self, player):
        if player == "D":
            clip_weights(self.D, self.options.clip)
