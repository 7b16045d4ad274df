"""UNIT (Liu et al. 2017): unsupervised translation through a latent space both domains share.

Each domain has a VAE: encoder E_a, generator G_a (and E_b, G_b). The
shared-latent assumption, that a and its translation have one code z, is built
into the weights: the encoders' last residual blocks and the generators' first
ones are one module used by both domains. A translation decodes a's code with
the other domain's generator, x_ab = G_b(E_a(a)); D_a and D_b judge each domain.
The posterior is N(E(x), I), so z = E(x) + n with n ~ N(0, I) in training and
z = E(x) at test time.

    G, E minimise   lambda_0 [ GAN_b(x_ab) + GAN_a(x_ba) ]                     lambda_0 = 10
                  + lambda_1 [ KL(E_a(a)) + KL(E_b(b)) ]                       lambda_1 = 0.1
                  + lambda_2 [ |G_a(z_a) - a| + |G_b(z_b) - b| ]               lambda_2 = 100  (VAE)
                  + lambda_3 [ KL(E_b(x_ab)) + KL(E_a(x_ba)) ]                 lambda_3 = 0.1
                  + lambda_4 [ |G_a(E_b(x_ab) + n) - a| + |G_b(E_a(x_ba) + n) - b| ]  lambda_4 = 100  (cycle)
    D_a, D_b minimise their GAN losses on real images and translations.

The weights are the paper's; the GAN is least squares (E (D - 1)^2 for G) and
KL is E mu^2, as in the authors' code (gankit.losses.unit_kl). Encoders: the
ResNet generator's way in (c7s1-w, d2w, d4w) and ``blocks`` residual blocks,
the last ``shared`` of them shared; generators: the mirror image. PatchGAN
discriminators. Adam 1e-4, betas (0.5, 0.999); D steps first each round. The
authors also use weight decay 1e-4 and multi-scale discriminators; gankit keeps
the paper's single D per domain and no weight decay.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import cycle_consistency, d_loss_least_squares, least_squares_g_loss, paired_l1, unit_kl
from gankit.models.base import Player
from gankit.models.translation.base import TranslationNorm, TranslationOptions, TwoWayTranslationModel
from gankit.nets.blocks import dcgan_init
from gankit.nets.translation import PatchDiscriminator, ResidualBlock, resnet_down, resnet_up
from gankit.registry import register


@dataclass
class UNITOptions(TranslationOptions):
    lr: float = 1e-4
    gan_weight: float = 10.0  # lambda_0
    kl_weight: float = 0.1  # lambda_1
    recon_weight: float = 100.0  # lambda_2
    cycle_kl_weight: float = 0.1  # lambda_3
    cycle_weight: float = 100.0  # lambda_4
    blocks: int = 3  # residual blocks in each encoder and each generator
    shared: int = 1  # of which the encoders' last and the generators' first are shared by the domains
    norm: TranslationNorm = "instance"
    d_layers: int = 3

    def validate(self) -> None:
        super().validate()
        weights = (self.gan_weight, self.kl_weight, self.recon_weight, self.cycle_kl_weight, self.cycle_weight)
        if min(weights) < 0 or self.d_layers < 1:
            raise GankitError("options.gan_weight, kl_weight, recon_weight, cycle_kl_weight and cycle_weight must be "
                              "non-negative and d_layers at least 1.")
        if not 1 <= self.shared <= self.blocks:
            raise GankitError(f"options.shared must be between 1 and options.blocks ({self.blocks}): the shared "
                              f"latent space is made by sharing at least one block.")


def _blocks(channels: int, n: int, norm: str) -> list[nn.Module]:
    return [ResidualBlock(channels, norm) for _ in range(n)]


@register
class UNIT(TwoWayTranslationModel):
    name = "unit"
    summary = "two VAE-GANs sharing their latent space (shared encoder tail, shared generator head); " \
              "GAN + KL + reconstruction + cycle"
    paper = "Liu, Breuel & Kautz 2017, Unsupervised Image-to-Image Translation Networks"
    Options = UNITOptions
    ema_modules = ("E_a", "E_b", "E_shared", "G_shared", "G_a", "G_b")

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        w, private = o.width, o.blocks - o.shared
        self.E_a = nn.Sequential(*resnet_down(self.channels_a, w, o.norm), *_blocks(4 * w, private, o.norm))
        self.E_b = nn.Sequential(*resnet_down(self.channels_b, w, o.norm), *_blocks(4 * w, private, o.norm))
        self.E_shared = nn.Sequential(*_blocks(4 * w, o.shared, o.norm))
        self.G_shared = nn.Sequential(*_blocks(4 * w, o.shared, o.norm))
        self.G_a = nn.Sequential(*_blocks(4 * w, private, o.norm), *resnet_up(self.channels_a, w, o.norm))
        self.G_b = nn.Sequential(*_blocks(4 * w, private, o.norm), *resnet_up(self.channels_b, w, o.norm))
        self.D_a = PatchDiscriminator(self.channels_a, w, o.d_layers, o.norm)
        self.D_b = PatchDiscriminator(self.channels_b, w, o.d_layers, o.norm)
        for net in (self.E_a, self.E_b, self.E_shared, self.G_shared, self.G_a, self.G_b):
            net.apply(dcgan_init)

    def encode(self, x: Tensor, domain: str) -> Tensor:
        """The posterior mean E(x): (N, 4w, H/4, W/4)."""
        return self.E_shared((self.E_a if domain == "a" else self.E_b)(x))

    def decode(self, z: Tensor, domain: str) -> Tensor:
        return (self.G_a if domain == "a" else self.G_b)(self.G_shared(z))

    @staticmethod
    def draw(mu: Tensor) -> Tensor:
        """z ~ N(mu, I)."""
        return mu + torch.randn_like(mu)

    def translate(self, x, direction="a2b"):
        source, target = ("a", "b") if direction == "a2b" else ("b", "a")
        return self.decode(self.encode(x, source), target)

    def translations(self, batch):
        return (self.decode(self.draw(self.encode(batch.x, "a")), "b"),
                self.decode(self.draw(self.encode(batch.x_b, "b")), "a"))

    def players(self):
        return [Player("D", [self.D_a, self.D_b], self.d_loss, self.optim()),
                Player("G", [self.E_a, self.E_b, self.E_shared, self.G_shared, self.G_a, self.G_b], self.g_loss,
                       self.optim())]

    def d_loss(self, batch):
        return self.critics_loss(d_loss_least_squares, batch)

    def g_loss(self, batch):
        o, a, b = self.options, batch.x, batch.x_b
        mu_a, mu_b = self.encode(a, "a"), self.encode(b, "b")
        z_a, z_b = self.draw(mu_a), self.draw(mu_b)
        fake_b, fake_a = self.decode(z_a, "b"), self.decode(z_b, "a")
        mu_ab, mu_ba = self.encode(fake_b, "b"), self.encode(fake_a, "a")
        adversarial = least_squares_g_loss(self.D_b(fake_b)) + least_squares_g_loss(self.D_a(fake_a))
        kl = unit_kl(mu_a) + unit_kl(mu_b)
        recon = paired_l1(self.decode(z_a, "a"), a) + paired_l1(self.decode(z_b, "b"), b)
        cycle_kl = unit_kl(mu_ab) + unit_kl(mu_ba)
        cycle = cycle_consistency(a, self.decode(self.draw(mu_ab), "a"), b, self.decode(self.draw(mu_ba), "b"))
        loss = (o.gan_weight * adversarial + o.kl_weight * kl + o.recon_weight * recon
                + o.cycle_kl_weight * cycle_kl + o.cycle_weight * cycle)
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "kl": kl.detach(),
                      "recon": recon.detach(), "cycle_kl": cycle_kl.detach(), "cycle": cycle.detach()}
