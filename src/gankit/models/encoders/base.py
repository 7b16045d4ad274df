"""What the encoder models share: an encoder E (x -> z) beside the generator G (z -> x), the prior, options.

G is DCGAN's generator; E is DCGAN's discriminator with ``z_dim`` outputs, or
``2 z_dim`` for a Gaussian q(z|x) (its mean and log-variance). Every model offers

    encode(x)        the code of x: E(x), or a Gaussian encoder's posterior mean
    reconstruct(x)   G(encode(x))
    sample(n)        G(z) with z from the prior (N(0, I) unless the model says otherwise)

``gankit eval`` scores reconstructions of the test images, prior samples and a
linear probe on the codes (gankit.metrics.encoders); ``gankit encode`` exports
the codes of the user's images; ``gankit sample`` draws test images above their
reconstructions, then prior samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.models.base import Model, OptimSpec
from gankit.nets.blocks import PowerOfTwoSizes
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator


@dataclass
class EncoderOptions:
    z_dim: int = 32
    width: int = 64  # base channels of E, G and D's image path
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:
        if self.z_dim < 2 or self.width < 1 or self.lr <= 0:
            raise GankitError("options.z_dim must be at least 2, options.width at least 1 and options.lr positive.")


class EncoderModel(Model):
    """Base of the encoder models: builds G and E; subclasses build D and name the players."""

    family = "encoder"
    Options = EncoderOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        if not data.is_image or data.is_two_domain:
            raise ValueError(f"{self.name} encodes images of one domain, and {data.name} is not that")
        self.G = DCGANGenerator(options.z_dim, data.shape, options.width)
        self.E = DCGANDiscriminator(data.shape, options.width, out_dim=options.z_dim * (1 + self.gaussian_encoder()))

    @classmethod
    def image_sizes(cls, options):
        return PowerOfTwoSizes(8)

    def gaussian_encoder(self) -> bool:
        """Whether E gives a Gaussian q(z|x) (mean and log-variance) rather than one code per image."""
        return False

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, log-variance) of a Gaussian encoder's q(z|x)."""
        return self.E(x).chunk(2, 1)

    @staticmethod
    def reparameterised(mean: Tensor, logvar: Tensor) -> Tensor:
        """z = mean + sigma * noise: a draw from N(mean, sigma^2) that gradients flow through."""
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()

    def draw_code(self, x: Tensor) -> Tensor:
        """z ~ q(z|x): E(x), or a reparameterised draw from a Gaussian encoder."""
        return self.reparameterised(*self.posterior(x)) if self.gaussian_encoder() else self.E(x)

    def encode(self, x: Tensor) -> Tensor:
        """The code of x: E(x), or a Gaussian encoder's posterior mean."""
        return self.posterior(x)[0] if self.gaussian_encoder() else self.E(x)

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.G(self.encode(x))

    def prior(self, n: int, labels: Tensor | None = None) -> Tensor:
        """``n`` codes from the prior p(z): N(0, I) unless a model says otherwise."""
        return self.noise(n)

    def sample(self, n, labels=None):
        return self.G(self.prior(n, labels))

    def optim(self) -> OptimSpec:
        return OptimSpec("adam", self.options.lr, self.options.betas)
