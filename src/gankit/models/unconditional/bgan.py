"""BGAN (Hjelm et al. 2018, "Boundary-Seeking Generative Adversarial Networks").

D is gan's; G, instead of pushing its samples to be called real, aims at the
decision boundary D(x) = 1/2, where the optimal D's density ratio
p_data / p_G = D / (1 - D) equals 1:

    D minimises  BCE(D(x), 1) + BCE(D(G(z)), 0)
    G minimises  1/2 E (log D(G(z)) - log(1 - D(G(z))))^2 = 1/2 E logit(G(z))^2

With D returning the logit, G's loss is simply half its mean square, with
no log of a probability that could underflow. Adam 2e-4, betas (0.5, 0.999).
The reference script computes the same loss from sigmoid outputs (unstable
when D saturates) and crashes on an undefined data loader.
"""
from __future__ import annotations

from gankit.losses import d_loss_bce
from gankit.models.unconditional.base import UnconditionalGAN
from gankit.registry import register


@register
class BGAN(UnconditionalGAN):
    name = "bgan"
    summary = "boundary-seeking G: 1/2 E logit(D(G(z)))^2"
    paper = "Hjelm et al. 2018, Boundary-Seeking Generative Adversarial Networks"

    def d_objective(self, real, fake):
        real_logits, fake_logits = self.D(real), self.D(fake)
        return d_loss_bce(real_logits, fake_logits), {"real_logit": real_logits.detach().mean(),
                                                      "fake_logit": fake_logits.detach().mean()}

    def g_objective(self, real, fake):
        return 0.5 * self.D(fake).pow(2).mean(), {}
