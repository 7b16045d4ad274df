"""GAN (Goodfellow et al. 2014), with MLP networks by default.

    D minimises  BCE(D(x), 1) + BCE(D(G(z)), 0)
    G minimises  BCE(D(G(z)), 1)            (non-saturating, the default: loss=ns)
             or  -BCE(D(G(z)), 0)           (the paper's minimax form: loss=minimax)
One D step and one G step per round, Adam 2e-4 with betas (0.5, 0.999).

``options.loss`` picks any pair from losses.ADVERSARIAL_LOSSES (ns, minimax,
lsgan, wasserstein, hinge), which is how lsgan, wgan, wgan-gp, dragan and sngan
reuse this file. The reference script puts a Sigmoid in D and uses BCELoss, and
BatchNorm1d(C, 0.8) in G (eps=0.8 by accident); here D returns logits.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.losses import ADVERSARIAL_LOSSES
from gankit.models.unconditional.base import AdversarialOptions, Nets, UnconditionalGAN
from gankit.registry import register


@dataclass
class GANOptions(AdversarialOptions):
    nets: Nets = "mlp"


@register
class GAN(UnconditionalGAN):
    name = "gan"
    summary = "the original GAN: BCE discriminator, non-saturating generator loss"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets"
    Options = GANOptions

    def d_objective(self, real, fake):
        real_logits, fake_logits = self.D(real), self.D(fake)
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        return d_loss(real_logits, fake_logits), {"real_logit": real_logits.detach().mean(),
                                                  "fake_logit": fake_logits.detach().mean()}

    def g_objective(self, real, fake):
        _, g_loss = ADVERSARIAL_LOSSES[self.options.loss]
        return g_loss(self.D(fake)), {}
