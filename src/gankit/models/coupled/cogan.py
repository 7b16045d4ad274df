"""Coupled GAN (Liu & Tuzel 2016): two GANs, one per domain, that learn the joint distribution of the two
domains from a sample of each domain alone, with no pairs, because they share weights.

G_a and G_b turn one z into an image of each domain. They share their first
layers (those nearest z, which decide what the image shows) and each owns its
last ones (how its domain renders it); D_a and D_b each own their first layers
(which read their domain's pixels) and share their last ones (which judge what
the image shows). With x_a and x_b batches drawn from each domain independently:

    D minimises  BCE(D_a(x_a), 1) + BCE(D_a(G_a(z)), 0) + BCE(D_b(x_b), 1) + BCE(D_b(G_b(z)), 0)
    G minimises  BCE(D_a(G_a(z)), 1) + BCE(D_b(G_b(z)), 1)        (non-saturating; one z for both)

Both GANs are DCGAN networks split at a layer: ``g_private`` (default 1) of G's
last transposed convolutions belong to each domain, the rest is G_shared;
``d_private`` (default 1) of D's first convolutions belong to each domain, the
rest with the logit is D_shared. Recipe (the paper's): Adam 2e-4, betas (0.5,
0.999), batches of 128, 25,000 rounds on MNIST with its edges or negatives as
the second domain (gankit: DCGAN nets and z ~ N(0, I) of 100 numbers instead of
the paper's digit nets). The two domains' batches never come as pairs: on
``pairs:`` data the trainer draws B in an order of its own (``blind_to_pairs``);
``unpaired:`` data also keeps the two domains' digits apart. The widely copied
reference script shares the discriminators' first layers instead of their
last ones, the opposite of the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import d_loss_bce, g_loss_nonsaturating
from gankit.models.base import Model, OptimSpec, Player
from gankit.nets.dcgan import SIZES, DCGANDiscriminator, DCGANGenerator
from gankit.registry import register


@dataclass
class CoGANOptions:
    z_dim: int = 100
    width: int = 64  # base channels of G and D (DCGAN's 64)
    g_private: int = 1  # G's last layers (transposed convolutions) that each domain owns; the rest are shared
    d_private: int = 1  # D's first layers (convolutions) that each domain owns; the rest and the logit are shared
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:
        if min(self.z_dim, self.width, self.g_private, self.d_private) < 1 or self.lr <= 0:
            raise GankitError("options.z_dim, width, g_private and d_private must be at least 1 and options.lr "
                              "positive.")


def _split(layers: nn.Sequential, at: int) -> tuple[nn.Sequential, nn.Sequential]:
    """``layers`` cut before its layer ``at``: (those before, those from it on)."""
    return nn.Sequential(*layers[:at]), nn.Sequential(*layers[at:])


def _convolutions(layers: nn.Sequential, kind: type) -> list[int]:
    """Where in ``layers`` each convolution of ``kind`` sits."""
    return [i for i, layer in enumerate(layers) if isinstance(layer, kind)]


@register
class CoGAN(Model):
    name = "cogan"
    family = "coupled"
    summary = "two GANs, one per domain, sharing G's first and D's last layers; one z gives a pair"
    paper = "Liu & Tuzel 2016, Coupled Generative Adversarial Networks"
    Options = CoGANOptions
    ema_modules = ("G_shared", "G_a", "G_b")
    blind_to_pairs = True

    def __init__(self, options, data):
        super().__init__(options, data)
        if not data.is_image or not data.is_two_domain:
            raise ValueError(f"cogan couples two image domains, and {data.name} is not two; name two, e.g. "
                             f"pairs:mnist>mnist-edges or pairs:mnist>mnist-negative")
        if data.shape[-1] != data.shape_b[-1]:
            raise ValueError(f"cogan's shared layers need both domains at one size, not {data.shape[-1]} and "
                             f"{data.shape_b[-1]}")
        o = options
        g_a, g_b = (DCGANGenerator(o.z_dim, shape, o.width).net for shape in (data.shape, data.shape_b))
        d_a, d_b = (DCGANDiscriminator(shape, o.width) for shape in (data.shape, data.shape_b))
        g_layers, d_layers = _convolutions(g_a, nn.ConvTranspose2d), _convolutions(d_a.trunk, nn.Conv2d)
        if o.g_private >= len(g_layers) or o.d_private > len(d_layers):
            raise ValueError(f"at {data.shape[-1]}x{data.shape[-1]} G has {len(g_layers)} layers and D "
                             f"{len(d_layers) + 1}, so g_private must lie below {len(g_layers)} and d_private below "
                             f"{len(d_layers) + 1}: the two GANs must share at least one layer each")
        g_cut = g_layers[-o.g_private]
        d_cut = d_layers[o.d_private] if o.d_private < len(d_layers) else len(d_a.trunk)
        self.G_shared, self.G_a = _split(g_a, g_cut)
        self.G_b = _split(g_b, g_cut)[1]
        self.D_a, d_rest = _split(d_a.trunk, d_cut)
        self.D_b = _split(d_b.trunk, d_cut)[0]
        self.D_shared = nn.Sequential(*d_rest, d_a.head, nn.Flatten(0))

    @classmethod
    def image_sizes(cls, options):
        return SIZES

    def pair(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(G_a(z), G_b(z)): one image of each domain from each z, through the shared layers once."""
        shared = self.G_shared(z)
        return self.G_a(shared), self.G_b(shared)

    def sample(self, n, labels=None):
        """``n`` pairs from one batch of z: (domain A images, domain B images)."""
        return self.pair(self.noise(n))

    def judge(self, x: Tensor, domain: str) -> Tensor:
        """D_a or D_b's logit of ``x``: its own first layers, then the shared ones."""
        return self.D_shared((self.D_a if domain == "a" else self.D_b)(x))

    def optim(self) -> OptimSpec:
        return OptimSpec("adam", self.options.lr, self.options.betas)

    def players(self):
        return [Player("D", [self.D_a, self.D_b, self.D_shared], self.d_loss, self.optim()),
                Player("G", [self.G_shared, self.G_a, self.G_b], self.g_loss, self.optim())]

    def d_loss(self, batch):
        with torch.no_grad():
            fake_a, fake_b = self.sample(len(batch))
        loss_a = d_loss_bce(self.judge(batch.x, "a"), self.judge(fake_a, "a"))
        loss_b = d_loss_bce(self.judge(batch.x_b, "b"), self.judge(fake_b, "b"))
        loss = loss_a + loss_b
        return loss, {"loss": loss.detach(), "a": loss_a.detach(), "b": loss_b.detach()}

    def g_loss(self, batch):
        fake_a, fake_b = self.sample(len(batch))
        loss_a, loss_b = g_loss_nonsaturating(self.judge(fake_a, "a")), g_loss_nonsaturating(self.judge(fake_b, "b"))
        loss = loss_a + loss_b
        return loss, {"loss": loss.detach(), "a": loss_a.detach(), "b": loss_b.detach()}
