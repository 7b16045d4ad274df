"""CycleGAN (Zhu et al. 2017): two generators trained on unpaired domains, tied by cycle consistency.

G: A -> B and F: B -> A are ResNet generators; D_B judges domain B, D_A domain
A, both PatchGANs with the least-squares loss:

    D_B minimises  1/2 [ E (D_B(b) - 1)^2 + E D_B(G(a))^2 ]        (D_A likewise)
    G, F minimise  E (D_B(G(a)) - 1)^2 + E (D_A(F(b)) - 1)^2
                   + lambda ( E|F(G(a)) - a| + E|G(F(b)) - b| )    lambda = 10
                   + mu lambda ( E|G(b) - b| + E|F(a) - a| )          identity, mu = 0.5

D sees fakes from a pool of the last 50 (half the time an older one).
Adam 2e-4, beta1 0.5, constant for the first half and decayed linearly to 0
over the second (``train.lr_decay=linear``). The identity term needs both
domains to have the same channel count; by default it is on (mu = 0.5) where
they do and off where they do not (grey MNIST -> colour MNIST-M). The widely
copied reference pads the 7x7 convolutions by the channel count instead of 3
(see gankit.nets.translation.ResnetGenerator).

G takes its step first and D then judges the fakes G just made (through the
pool): one generator pass per round serves both players.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from gankit.errors import GankitError
from gankit.losses import cycle_consistency, d_loss_least_squares, identity_mapping, least_squares_g_loss
from gankit.models.base import Player
from gankit.models.translation.base import TranslationNorm, TranslationOptions, TwoWayTranslationModel
from gankit.nets.translation import ImagePool, PatchDiscriminator, ResnetGenerator
from gankit.registry import register


@dataclass
class CycleGANOptions(TranslationOptions):
    cycle_weight: float = 10.0  # lambda
    # mu, a fraction of lambda; None: 0.5 where both domains have the same channel count, else 0
    identity_weight: Optional[float] = None
    blocks: int = 6  # residual blocks in each G (the paper: 6 at 128x128, 9 at 256x256)
    pool: int = 50  # fakes kept for D; 0 disables the pool
    norm: TranslationNorm = "instance"
    d_layers: int = 3

    def validate(self) -> None:
        super().validate()
        if self.cycle_weight < 0 or (self.identity_weight or 0) < 0 or self.blocks < 0 or self.pool < 0 \
                or self.d_layers < 1:
            raise GankitError("options.cycle_weight, identity_weight, blocks and pool must be non-negative and "
                              "d_layers at least 1.")


@register
class CycleGAN(TwoWayTranslationModel):
    name = "cyclegan"
    summary = "two ResNet G (A->B, B->A), two PatchGAN D; LSGAN + 10 x cycle (+ 5 x identity), image pool"
    paper = "Zhu et al. 2017, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks"
    Options = CycleGANOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        same_channels = self.channels_a == self.channels_b
        if o.identity_weight and not same_channels:
            raise ValueError(f"the identity term feeds each G images of its target domain, and the domains have "
                             f"{self.channels_a} and {self.channels_b} channels; set options.identity_weight=0")
        self.identity = (0.5 if same_channels else 0.0) if o.identity_weight is None else o.identity_weight
        self.G_ab = ResnetGenerator(self.channels_a, self.channels_b, o.width, o.blocks, o.norm)
        self.G_ba = ResnetGenerator(self.channels_b, self.channels_a, o.width, o.blocks, o.norm)
        self.D_a = PatchDiscriminator(self.channels_a, o.width, o.d_layers, o.norm)
        self.D_b = PatchDiscriminator(self.channels_b, o.width, o.d_layers, o.norm)
        self.pool_a, self.pool_b = ImagePool(o.pool), ImagePool(o.pool)
        self.fresh = None  # (fake_a, fake_b) from G's latest step, detached, for D's step

    def players(self):
        return [Player("G", [self.G_ab, self.G_ba], self.g_loss, self.optim()),
                Player("D", [self.D_a, self.D_b], self.d_loss, self.optim())]

    def g_loss(self, batch):
        a, b = batch.x, batch.x_b
        adversarial, cycle, fake_b, fake_a = self.generator_terms(batch, least_squares_g_loss, cycle_consistency)
        loss = adversarial + self.options.cycle_weight * cycle
        logs = {"adversarial": adversarial.detach(), "cycle": cycle.detach()}
        if self.identity > 0:
            identity = identity_mapping(a, self.G_ab(b), b, self.G_ba(a))
            loss = loss + self.identity * self.options.cycle_weight * identity
            logs["identity"] = identity.detach()
        self.fresh = (fake_a.detach(), fake_b.detach())
        return loss, {"loss": loss.detach(), **logs}

    def d_loss(self, batch):
        fake_a, fake_b = self.fresh
        pooled_a, pooled_b = self.pool_a.query(fake_a), self.pool_b.query(fake_b)
        return self.critics_loss(d_loss_least_squares, batch, fake_b=pooled_b, fake_a=pooled_a)
