"""Adversarial autoencoder (Makhzani et al. 2016): an autoencoder whose codes are made to follow a prior p(z)
by a GAN played on the codes.

E: x -> z is deterministic (one of the paper's three choices of q(z|x)), G: z -> x
the decoder, D: z -> logit. Each round has the paper's two phases:

    reconstruction   E, G minimise  mean (G(E(x)) - x)^2
    regularisation   D minimises    BCE(D(z'), 1) + BCE(D(E(x)), 0),   z' ~ p(z)
                     E minimises    BCE(D(E(x)), 1)                    (non-saturating)

p(z) is N(0, I) by default. ``prior=mixture`` is a mixture of 10 Gaussians
(the paper's second prior): component k is N(m_k, 0.5^2 I) with the means m_k
spaced evenly on a circle of radius 4 in the code's first two numbers.

``aae-supervised`` is the paper's label-conditioned regularisation (its
section 2.3) as a model of its own, since it trains on labelled batches: D also
sees the one-hot class, prior codes come from the class's component of the
mixture and each image's code is judged with its own label, so the codes of
class k fill component k and ``sample(n, labels)`` draws the classes asked for.

Networks: E is DCGAN's discriminator with ``z_dim`` (8) outputs, G DCGAN's
generator, D an MLP with two hidden layers of 16 x width units (1,024 at
width 64; the paper's MNIST D had two of 1,000), LeakyReLU 0.2. Adam 2e-4,
betas (0.5, 0.999), for all three updates. Deviations from the paper:
convolutional E and G (its MNIST networks were MLPs), Adam rather than SGD with
momentum, each update on a fresh batch, and a mean squared reconstruction error
(the paper leaves p(x|z) to the data). The widely copied reference script
draws its codes by reparameterisation from an encoder that nothing pulls toward
a Gaussian, and merges the two phases into one update of E and G on
0.999 L1 + 0.001 adversarial loss, with a sigmoid in front of its BCE.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.losses import d_loss_bce, g_loss_nonsaturating
from gankit.models.base import Player
from gankit.models.encoders.base import EncoderModel, EncoderOptions
from gankit.nets.conditional import one_hot
from gankit.nets.mlp import MLPDiscriminator
from gankit.registry import register

MIXTURE_COMPONENTS = 10
MIXTURE_RADIUS = 4.0
MIXTURE_STD = 0.5


def mixture_draw(components: Tensor, num_components: int, z_dim: int) -> Tensor:
    """One code from each requested component k of the mixture: N(m_k, MIXTURE_STD^2 I), m_k on a circle of
    radius MIXTURE_RADIUS in the first two numbers (angle 2 pi k / num_components), 0 in the others."""
    angle = components.float() * (2 * math.pi / num_components)
    means = F.pad(MIXTURE_RADIUS * torch.stack([angle.cos(), angle.sin()], 1), (0, z_dim - 2))
    return means + MIXTURE_STD * torch.randn_like(means)


@dataclass
class AAEOptions(EncoderOptions):
    z_dim: int = 8
    prior: Literal["gaussian", "mixture"] = "gaussian"


@register
class AAE(EncoderModel):
    name = "aae"
    summary = "autoencoder whose codes a GAN on z pulls to the prior (Gaussian, or a mixture of 10 Gaussians)"
    paper = "Makhzani et al. 2016, Adversarial Autoencoders"
    Options = AAEOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        one_hot_inputs = self.num_components if self.label_use == "all" else 0
        self.D = MLPDiscriminator((options.z_dim + one_hot_inputs,), hidden=(16 * options.width,) * 2)

    @property
    def num_components(self) -> int:
        return MIXTURE_COMPONENTS

    def mixture_prior(self) -> bool:
        return self.options.prior == "mixture"

    def prior(self, n: int, labels: Tensor | None = None) -> Tensor:
        if not self.mixture_prior():
            return self.noise(n)
        if labels is None:
            labels = torch.randint(self.num_components, (n,), device=self.device)
        return mixture_draw(labels, self.num_components, self.options.z_dim)

    def judge(self, z: Tensor, labels: Tensor | None) -> Tensor:
        """D's logit for codes z (with their one-hot labels, for the label-conditioned variant)."""
        return self.D(z if labels is None else torch.cat([z, one_hot(labels, self.num_components)], 1))

    def players(self):
        return [Player("AE", [self.E, self.G], self.reconstruction_loss, self.optim()),
                Player("D", [self.D], self.d_loss, self.optim()),
                Player("E", [self.E], self.e_loss, self.optim())]

    def reconstruction_loss(self, batch):
        loss = F.mse_loss(self.G(self.E(batch.x)), batch.x)
        return loss, {"loss": loss.detach()}

    def d_loss(self, batch):
        with torch.no_grad():
            codes = self.E(batch.x)
        loss = d_loss_bce(self.judge(self.prior(len(batch), batch.y), batch.y), self.judge(codes, batch.y))
        return loss, {"loss": loss.detach()}

    def e_loss(self, batch):
        loss = g_loss_nonsaturating(self.judge(self.E(batch.x), batch.y))
        return loss, {"loss": loss.detach()}


@dataclass
class SupervisedAAEOptions(EncoderOptions):
    NOT_OFFERED: ClassVar[dict[str, str]] = {
        "prior": "aae-supervised ties component k of its mixture-of-Gaussians prior to class k"}
    z_dim: int = 8


@register
class SupervisedAAE(AAE):
    name = "aae-supervised"
    summary = "aae whose D also sees the class: class k's codes fill component k of the mixture prior"
    paper = "Makhzani et al. 2016, Adversarial Autoencoders (section 2.3)"
    Options = SupervisedAAEOptions
    label_use = "all"
    sample_labels = "class"
    task_metrics = ("class_accuracy",)

    @property
    def num_components(self) -> int:
        return self.data.num_classes

    def mixture_prior(self) -> bool:
        return True

    @property
    def num_labels(self) -> int:
        return self.data.num_classes
