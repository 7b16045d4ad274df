"""GAN (Goodfellow et al. 2014), with MLP networks by default.

    D minimises  BCE(D(x), 1) + BCE(D(G(z)), 0)
    G minimises  BCE(D(G(z)), 1)            (non-saturating, the default)
             or  -BCE(D(G(z)), 0)           (the paper's minimax form, g_loss=minimax)
One D step and one G step per round, Adam 2e-4 with betas (0.5, 0.999).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gankit.losses import d_loss_bce, g_loss_minimax, g_loss_nonsaturating
from gankit.models.base import Model, OptimSpec, Player
from gankit.nets import build_discriminator, build_generator
from gankit.registry import register


@dataclass
class GANOptions:
    z_dim: int = 64
    nets: Literal["auto", "mlp", "dcgan"] = "mlp"
    width: int = 256  # hidden units (MLP) or base channels (DCGAN)
    g_loss: Literal["ns", "minimax"] = "ns"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)


@register
class GAN(Model):
    name = "gan"
    family = "unconditional"
    summary = "the original GAN: BCE discriminator, non-saturating generator loss"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets"
    Options = GANOptions

    def __init__(self, options: GANOptions, data):
        super().__init__(options, data)
        self.G = build_generator(options.nets, data, options.z_dim, options.width)
        self.D = build_discriminator(options.nets, data, options.width)

    def d_loss(self, batch):
        fake = self.G(self.noise(len(batch))).detach()
        real_logits, fake_logits = self.D(batch.x), self.D(fake)
        loss = d_loss_bce(real_logits, fake_logits)
        return loss, {"loss": loss, "real_logit": real_logits.mean(), "fake_logit": fake_logits.mean()}

    def g_loss(self, batch):
        fake_logits = self.D(self.G(self.noise(len(batch))))
        loss = (g_loss_nonsaturating if self.options.g_loss == "ns" else g_loss_minimax)(fake_logits)
        return loss, {"loss": loss}

    def players(self):
        adam = OptimSpec("adam", self.options.lr, self.options.betas)
        return [Player("D", [self.D], self.d_loss, adam), Player("G", [self.G], self.g_loss, adam)]

    def sample(self, n, labels=None):
        return self.G(self.noise(n))
