"""pix2pix (Isola et al. 2017): a conditional GAN on aligned pairs, plus an L1 pull toward the target.

G is a U-Net from a to b; D is a PatchGAN that judges the pair (a, b) stacked
along the channels, one logit per patch:

    D minimises  1/2 [ BCE(D(a, b), 1) + BCE(D(a, G(a)), 0) ]
    G minimises  BCE(D(a, G(a)), 1) + lambda E|G(a) - b|,   lambda = 100

Adam 2e-4, beta1 0.5, the rate decayed linearly to 0 over the second half
(``train.lr_decay=linear``). There is no z: dropout in the decoder is G's only
noise, and the paper notes G learns to ignore it. The paper keeps dropout on
at test time; gankit translates in eval mode, so a translation is repeatable.
``gan_weight=0`` drops D and trains the same U-Net with L1 alone, the paper's
ablation: blurrier outputs with a lower L1 error.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.errors import GankitError
from gankit.losses import ADVERSARIAL_LOSSES, paired_l1
from gankit.models.base import Player
from gankit.models.options import LossName
from gankit.models.translation.base import TranslationModel, TranslationNorm, TranslationOptions
from gankit.nets.translation import PatchDiscriminator, UNetGenerator
from gankit.registry import register


@dataclass
class Pix2PixOptions(TranslationOptions):
    l1_weight: float = 100.0
    gan_weight: float = 1.0  # 0: no D, the U-Net trained with L1 alone
    loss: LossName = "ns"
    norm: TranslationNorm = "batch"
    dropout: float = 0.5  # in the three decoder stages nearest the bottleneck
    d_layers: int = 3  # PatchGAN stride-2 stages: 70x70 patches at 256x256

    def validate(self) -> None:
        super().validate()
        if self.l1_weight < 0 or self.gan_weight < 0 or not 0 <= self.dropout < 1 or self.d_layers < 1:
            raise GankitError("options.l1_weight and gan_weight must be non-negative, dropout in [0, 1) and "
                              "d_layers at least 1.")


@register
class Pix2Pix(TranslationModel):
    name = "pix2pix"
    summary = "U-Net G(a) -> b judged with a by a PatchGAN; GAN + 100 x L1 to the paired target"
    paper = "Isola et al. 2017, Image-to-Image Translation with Conditional Adversarial Networks"
    Options = Pix2PixOptions
    needs_pairs = True

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.G = UNetGenerator(self.channels_a, self.channels_b, self.size, o.width, o.norm, o.dropout)
        if o.gan_weight > 0:
            self.D = PatchDiscriminator(self.channels_a + self.channels_b, o.width, o.d_layers, o.norm)

    def translate(self, x, direction="a2b"):
        return self.G(x)

    def players(self):
        generator = Player("G", [self.G], self.g_loss, self.optim())
        if self.options.gan_weight == 0:
            return [generator]
        return [Player("D", [self.D], self.d_loss, self.optim()), generator]

    def d_loss(self, batch):
        with torch.no_grad():
            fake = self.G(batch.x)
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        # Halved, as in the paper, so D learns more slowly than G.
        loss = 0.5 * d_loss(self.D(torch.cat([batch.x, batch.x_b], 1)), self.D(torch.cat([batch.x, fake], 1)))
        return loss, {"loss": loss.detach()}

    def g_loss(self, batch):
        o = self.options
        fake = self.G(batch.x)
        l1 = paired_l1(fake, batch.x_b)
        loss, logs = o.l1_weight * l1, {"l1": l1.detach()}
        if o.gan_weight > 0:
            _, g_loss = ADVERSARIAL_LOSSES[o.loss]
            adversarial = g_loss(self.D(torch.cat([batch.x, fake], 1)))
            loss = loss + o.gan_weight * adversarial
            logs["adversarial"] = adversarial.detach()
        return loss, {"loss": loss.detach(), **logs}
