"""VAE/GAN (Larsen et al. 2016): a VAE whose reconstruction error is measured in the feature space of a GAN
discriminator, and whose decoder is that GAN's generator.

E gives q(z|x) = N(mu, sigma^2); x~ = G(z) with z drawn from q(z|x) by
reparameterisation, x_p = G(z_p) with z_p ~ N(0, I); Dis_l(x) is D's last
feature map before its logit. With

    L_prior = KL(q(z|x) || N(0, I))
    L_llike = 1/2 ||Dis_l(x~) - Dis_l(x)||^2       (a unit-variance Gaussian on D's features)
    L_GAN   = BCE(D(x), 1) + BCE(D(x~), 0) + BCE(D(x_p), 0)        (gankit.losses.vaegan_d_loss)

    E minimises  L_prior + L_llike
    G minimises  gamma L_llike + BCE(D(x~), 1) + BCE(D(x_p), 1)
    D minimises  L_GAN

The GAN error never reaches E and D learns from the GAN error alone (the
paper's "limiting error signals to relevant networks"). The objectives as
usually quoted, with L_GAN = log D(x) + log(1 - D(x~)) + log(1 - D(x_p))
(the negative of L_GAN above), are "decoder: gamma L_llike - L_GAN" and
"D: -L_GAN"; read literally, both ascend L_GAN, so the decoder would help D.
gankit has G play against D on x~ and x_p, with the non-saturating BCE
toward "real", as its other GANs do. D judges x,
x~ and x_p in one batch in each of the three steps, so Dis_l, BatchNorm
included, is the same function whichever player is stepping.

``variant=vae`` is the paper's VAE baseline on the same E and G, with no D:
E and G together minimise L_prior + 1/(2 pixel_std^2) ||x~ - x||^2, a Gaussian
likelihood on the pixels (the [-1, 1] scale).

Networks: E is DCGAN's discriminator with 2 z_dim outputs, G DCGAN's generator,
D DCGAN's discriminator (Dis_l is its last strided convolution's output,
after BatchNorm and LeakyReLU). Codes of 32 numbers; Adam 2e-4, betas
(0.5, 0.999), for each player; gamma 0.01 weighs G's learned similarity
against its GAN loss (gankit's default, not the paper's: in a width-32 MNIST
run it put G's two terms at the same order early in training). Deviations
from the paper: each player steps on its own batch in turn (the paper's
algorithm takes all three gradients on one batch), the networks are DCGAN's
at 32x32, and G's GAN term is non-saturating. Not in the widely copied
reference scripts: written from the paper.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from gankit.errors import GankitError
from gankit.losses import g_loss_nonsaturating, gaussian_kl, gaussian_nll, vaegan_d_loss
from gankit.models.base import Player
from gankit.models.encoders.base import EncoderModel, EncoderOptions
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.registry import register


@dataclass
class VAEGANOptions(EncoderOptions):
    gamma: float = 0.01  # G's weight on the learned similarity L_llike against its GAN loss
    variant: Literal["vaegan", "vae"] = "vaegan"  # vae: the same E and G as a plain VAE, no D
    pixel_std: float = 0.1  # variant=vae: the std of the Gaussian pixel likelihood (on the [-1, 1] scale)

    def validate(self) -> None:
        super().validate()
        if self.gamma < 0 or self.pixel_std <= 0:
            raise GankitError("options.gamma must be non-negative and options.pixel_std positive.")


@register
class VAEGAN(EncoderModel):
    name = "vaegan"
    summary = "VAE whose reconstruction error is measured on a GAN D's features; decoder = G; variant=vae ablation"
    paper = "Larsen et al. 2016, Autoencoding beyond pixels using a learned similarity metric"
    Options = VAEGANOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        if options.variant == "vaegan":
            self.D = DCGANDiscriminator(data.shape, options.width)

    def gaussian_encoder(self):
        return True

    def players(self):
        if self.options.variant == "vae":
            return [Player("VAE", [self.E, self.G], self.vae_loss, self.optim())]
        return [Player("D", [self.D], self.d_loss, self.optim()),
                Player("E", [self.E], self.e_loss, self.optim()),
                Player("G", [self.G], self.g_loss, self.optim())]

    @staticmethod
    def prior_plus_llike(mu, logvar, reconstruction, target, std=1.0):
        """L_prior + L_llike: the KL of q(z|x) from the prior plus the Gaussian likelihood term, both logged."""
        prior, llike = gaussian_kl(mu, logvar), gaussian_nll(reconstruction, target, std)
        loss = prior + llike
        return loss, {"loss": loss.detach(), "prior": prior.detach(), "llike": llike.detach()}

    def vae_loss(self, batch):
        mu, logvar = self.posterior(batch.x)
        x_tilde = self.G(self.reparameterised(mu, logvar))
        return self.prior_plus_llike(mu, logvar, x_tilde, batch.x, self.options.pixel_std)

    def judge(self, x, x_tilde, x_p):
        """D's features Dis_l of x and x~, and its logits for x, x~ and x_p: one pass over the three."""
        features = self.D.features(torch.cat([x, x_tilde, x_p]))
        n = len(x)
        return features[:n], features[n:2 * n], self.D.logits(features).split(n)

    def d_loss(self, batch):
        with torch.no_grad():
            x_tilde, x_p = self.G(self.draw_code(batch.x)), self.sample(len(batch))
        _, _, (real, reconstructed, sampled) = self.judge(batch.x, x_tilde, x_p)
        loss = vaegan_d_loss(real, reconstructed, sampled)
        return loss, {"loss": loss.detach()}

    def e_loss(self, batch):
        mu, logvar = self.posterior(batch.x)
        with torch.no_grad():
            x_p = self.sample(len(batch))
        real_features, reconstructed_features, _ = self.judge(batch.x, self.G(self.reparameterised(mu, logvar)), x_p)
        return self.prior_plus_llike(mu, logvar, reconstructed_features, real_features)

    def g_loss(self, batch):
        with torch.no_grad():
            z = self.draw_code(batch.x)
        real_features, reconstructed_features, (_, reconstructed, sampled) = self.judge(batch.x, self.G(z),
                                                                                        self.sample(len(batch)))
        llike = gaussian_nll(reconstructed_features, real_features)
        gan = g_loss_nonsaturating(reconstructed) + g_loss_nonsaturating(sampled)
        loss = self.options.gamma * llike + gan
        return loss, {"loss": loss.detach(), "llike": llike.detach(), "gan": gan.detach()}
