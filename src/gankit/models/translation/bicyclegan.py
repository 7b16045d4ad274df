"""BicycleGAN (Zhu et al. 2017): multimodal translation on aligned pairs, with a latent code tied both ways.

G(a, z) maps an input and an 8-number code to an output; the code is what
makes one input have many outputs. Two cycles tie z to the output, so that G
cannot ignore it (pix2pix's G learns to ignore its noise):

- cVAE-GAN (B -> z -> B): an encoder E reads the true target b as N(mu, sigma^2),
  z ~ E(b) is drawn by reparameterisation, and G(a, z) must rebuild b:
      L1 |G(a, z) - b|  (lambda = 10)  +  KL(E(b) || N(0, I))  (0.01)  +  GAN_1(G(a, z))
- cLR-GAN (z -> B -> z): a code z from the prior makes G(a, z), and E must read
  z back from it:
      |mu(E(G(a, z))) - z|  (lambda_latent = 0.5)  +  GAN_2(G(a, z))

G and E minimise the sum; the latent term updates G alone (E reads the fake
with its weights frozen: learning E on its own output would let both agree on
a code that says nothing). D_1 and D_2 are PatchGANs, least squares, judging
the cVAE-GAN and cLR-GAN outputs; as in the authors' code, the first half of
each batch feeds the cVAE-GAN and the second half the cLR-GAN. G is the
pix2pix U-Net with z tiled over the image and stacked onto a's channels; E
is MUNIT's style encoder with 2 x 8 outputs (mu, log sigma^2). Adam 2e-4,
betas (0.5, 0.999).

``variant="pix2pix+noise"`` is the paper's baseline: the same G(a, z) with z
from the prior, trained with GAN + 10 x L1 to b on the whole batch, no encoder
and no cycles; its G learns to ignore z, which ``diversity`` shows.

The widely copied reference crashes before training (it indexes its
encoder's output wrongly), and lets the latent term update E.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Literal, Optional

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import d_loss_least_squares, gaussian_kl, least_squares_g_loss, paired_l1
from gankit.models.base import Player
from gankit.models.translation.base import TranslationModel, TranslationNorm, TranslationOptions
from gankit.nets.translation import PatchDiscriminator, StyleEncoder, UNetGenerator
from gankit.registry import register


@contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """``module``'s parameters take no gradient from what is computed inside the block (inputs still do)."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


@dataclass
class BicycleGANOptions(TranslationOptions):
    z_dim: int = 8
    l1_weight: float = 10.0
    kl_weight: float = 0.01
    latent_weight: float = 0.5
    norm: TranslationNorm = "instance"
    dropout: float = 0.0  # in the U-Net's three innermost decoder stages; z is G's noise here
    d_layers: int = 3
    variant: Literal["bicycle", "pix2pix+noise"] = "bicycle"

    def validate(self) -> None:
        super().validate()
        if min(self.l1_weight, self.kl_weight, self.latent_weight) < 0 or self.z_dim < 1 or self.d_layers < 1 \
                or not 0 <= self.dropout < 1:
            raise GankitError("options.l1_weight, kl_weight and latent_weight must be non-negative, z_dim and "
                              "d_layers at least 1, and dropout in [0, 1).")


@register
class BicycleGAN(TranslationModel):
    name = "bicyclegan"
    summary = "U-Net G(a, z) on pairs, encoder E(b) -> z; cVAE-GAN (rebuild b from E(b)) + cLR-GAN (read a " \
              "random z back from G(a, z)): many outputs per input"
    paper = "Zhu et al. 2017, Toward Multimodal Image-to-Image Translation"
    Options = BicycleGANOptions
    needs_pairs = True
    multimodal = True
    ema_modules = ("G", "E")

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.G = UNetGenerator(self.channels_a + o.z_dim, self.channels_b, self.size, o.width, o.norm, o.dropout)
        self.D_lr = PatchDiscriminator(self.channels_b, o.width, o.d_layers, o.norm)
        if o.variant == "bicycle":
            self.E = StyleEncoder(self.channels_b, self.size, o.width, 2 * o.z_dim)
            self.D_vae = PatchDiscriminator(self.channels_b, o.width, o.d_layers, o.norm)

    def draw_styles(self, n: int) -> Tensor:
        return torch.randn(n, self.options.z_dim, device=self.device)

    def generate(self, a: Tensor, z: Tensor) -> Tensor:
        """G(a, z): z tiled over the image, stacked onto a's channels."""
        return self.G(torch.cat([a, z[:, :, None, None].expand(-1, -1, *a.shape[-2:])], 1))

    def encode(self, b: Tensor) -> tuple[Tensor, Tensor]:
        """(mu, log sigma^2) of E's Gaussian over z for target images b."""
        return self.E(b).chunk(2, 1)

    def rebuild(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The cVAE-GAN's (G(a, z), mu, log sigma^2), z drawn from E(b) by reparameterisation."""
        mu, logvar = self.encode(b)
        return self.generate(a, mu + torch.randn_like(mu) * (0.5 * logvar).exp()), mu, logvar

    def translate(self, x, direction="a2b", style: Optional[Tensor] = None):
        return self.generate(x, self.draw_styles(len(x)) if style is None else style)

    @staticmethod
    def halves(batch) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
        """((a, b) for the cVAE-GAN, (a, b) for the cLR-GAN): the batch's two halves."""
        half = len(batch) // 2
        return (batch.x[:half], batch.x_b[:half]), (batch.x[half:], batch.x_b[half:])

    def players(self):
        if self.options.variant == "pix2pix+noise":
            return [Player("D", [self.D_lr], self.noise_d_loss, self.optim()),
                    Player("G", [self.G], self.noise_g_loss, self.optim())]
        return [Player("D", [self.D_vae, self.D_lr], self.d_loss, self.optim()),
                Player("G", [self.G, self.E], self.g_loss, self.optim())]

    def noise_d_loss(self, batch):
        with torch.no_grad():
            fake = self.translate(batch.x)
        loss = d_loss_least_squares(self.D_lr(batch.x_b), self.D_lr(fake))
        return loss, {"loss": loss.detach()}

    def noise_g_loss(self, batch):
        fake = self.translate(batch.x)
        adversarial, l1 = least_squares_g_loss(self.D_lr(fake)), paired_l1(fake, batch.x_b)
        loss = adversarial + self.options.l1_weight * l1
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "l1": l1.detach()}

    def d_loss(self, batch):
        (a_vae, b_vae), (a_lr, b_lr) = self.halves(batch)
        with torch.no_grad():
            fake_vae, _, _ = self.rebuild(a_vae, b_vae)
            fake_lr = self.translate(a_lr)
        loss_vae = d_loss_least_squares(self.D_vae(b_vae), self.D_vae(fake_vae))
        loss_lr = d_loss_least_squares(self.D_lr(b_lr), self.D_lr(fake_lr))
        return loss_vae + loss_lr, {"loss": (loss_vae + loss_lr).detach(), "vae": loss_vae.detach(),
                                    "lr": loss_lr.detach()}

    def g_loss(self, batch):
        o = self.options
        (a_vae, b_vae), (a_lr, _) = self.halves(batch)
        fake_vae, mu, logvar = self.rebuild(a_vae, b_vae)
        z = self.draw_styles(len(a_lr))
        fake_lr = self.generate(a_lr, z)
        adversarial = least_squares_g_loss(self.D_vae(fake_vae)) + least_squares_g_loss(self.D_lr(fake_lr))
        l1, kl = paired_l1(fake_vae, b_vae), gaussian_kl(mu, logvar)
        with frozen(self.E):
            latent = paired_l1(self.encode(fake_lr)[0], z)
        loss = adversarial + o.l1_weight * l1 + o.kl_weight * kl + o.latent_weight * latent
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "l1": l1.detach(),
                      "kl": kl.detach(), "latent": latent.detach()}
