"""BiGAN (Donahue et al. 2017) and ALI (Dumoulin et al. 2017): a GAN on (image, code) pairs.

G maps codes to images, E images to codes, and a joint discriminator D(x, z)
tells the encoder's pairs (x, E(x)) from the generator's (G(z), z):

    D     minimises  BCE(D(x, E(x)), 1) + BCE(D(G(z), z), 0)
    G, E  minimise   BCE(D(x, E(x)), 0) + BCE(D(G(z), z), 1)       (the labels swapped)

with z ~ N(0, I), 50 numbers. The two joint distributions can only agree when
E inverts G, so G(E(x)) reconstructs x (its class and style more than its
exact pixels), though no reconstruction loss is ever computed.
``stochastic_encoder=true`` is ALI: E gives a Gaussian q(z|x) (mean and
log-variance) and x is paired with a reparameterised draw from it; its codes
for probes and ``gankit encode`` are the means.

Networks: G is DCGAN's generator and E DCGAN's discriminator with ``z_dim``
(ALI: 2 z_dim) outputs; D embeds x with a DCGAN discriminator and z with two
fully connected layers, 8 x width units each, and judges the two embeddings
side by side with two more layers (gankit.nets.encoders.JointDiscriminator),
dropping a ``dropout`` share (0.2) of the units of its fully connected layers
while training, as ALI's discriminators use dropout. Adam 2e-4, betas
(0.5, 0.999): one D step, then one step of G and E together, per round.
Not in the widely copied reference scripts: written from the papers.
Deviations from the papers: their networks differ per dataset (the BiGAN
paper's MNIST networks are fully connected); here they are DCGAN-style at
32x32, with ALI's Gaussian prior for both.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.errors import GankitError
from gankit.losses import d_loss_bce
from gankit.models.base import Player
from gankit.models.encoders.base import EncoderModel, EncoderOptions
from gankit.nets.encoders import JointDiscriminator
from gankit.registry import register


@dataclass
class BiGANOptions(EncoderOptions):
    z_dim: int = 50
    stochastic_encoder: bool = False  # true: ALI's Gaussian encoder
    dropout: float = 0.2  # in D's fully connected layers, while training

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.dropout < 1:
            raise GankitError(f"options.dropout must be in [0, 1), not {self.dropout}.")


@register
class BiGAN(EncoderModel):
    name = "bigan"
    summary = "G(z), E(x) and a joint D(x, z) on (x, E(x)) vs (G(z), z); stochastic_encoder=true: ALI"
    paper = "Donahue et al. 2017, Adversarial Feature Learning; Dumoulin et al. 2017, Adversarially Learned Inference"
    Options = BiGANOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        self.D = JointDiscriminator(data.shape, options.z_dim, options.width, hidden=8 * options.width,
                                    dropout=options.dropout)

    def gaussian_encoder(self):
        return self.options.stochastic_encoder

    def pairs(self, x):
        """The encoder's pair (x, z ~ E(x)) and the generator's (G(z), z) with z from the prior."""
        z = self.prior(len(x))
        return (x, self.draw_code(x)), (self.G(z), z)

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim()),
                Player("GE", [self.G, self.E], self.ge_loss, self.optim())]

    def d_loss(self, batch):
        with torch.no_grad():
            encoder_pair, generator_pair = self.pairs(batch.x)
        loss = d_loss_bce(self.D(*encoder_pair), self.D(*generator_pair))
        return loss, {"loss": loss.detach()}

    def ge_loss(self, batch):
        encoder_pair, generator_pair = self.pairs(batch.x)
        loss = d_loss_bce(self.D(*generator_pair), self.D(*encoder_pair))  # the labels swapped
        return loss, {"loss": loss.detach()}
