"""InfoGAN (Chen et al. 2016): codes in G's input that an auxiliary head Q must recover.

The latent is noise z (62) plus a categorical code c1 ~ Cat(10) and continuous
codes c2, c3 ~ U(-1, 1). Q shares D's trunk and predicts the codes from an image;
the variational bound on the mutual information I(c; G(z, c)) is

    L_I = CE(Q_cat(G(z, c)), c1) + continuous_weight * sum_j 1/2 (c_j - Q_mu_j(G(z, c)))^2

(the continuous part is a Gaussian NLL with unit variance, up to a constant), and

    D, Q minimise  BCE(D(x), 1) + BCE(D(G(z, c)), 0) + lambda L_I
    G minimises    BCE(D(G(z, c)), 1) + lambda L_I                   (lambda = 1)

Q has no optimizer of its own: it is part of the D player, whose step trains it
on detached fakes, while G's step pushes G to make its codes recoverable. The
official code's rates: Adam 2e-4 for D and Q, 1e-3 for G, beta1 0.5. Q is FC
128 + BatchNorm + LeakyReLU on D's last features, as in the paper. The widely
copied reference script trains G and Q with a third optimizer on the info loss,
puts a Softmax in front of CrossEntropyLoss, and (in older versions) draws the
continuous codes from the wrong range.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import ADVERSARIAL_LOSSES, info_loss
from gankit.models.base import Player
from gankit.models.conditional.base import ClassAwareGAN, ClassAwareOptions
from gankit.registry import register


@dataclass
class InfoGANOptions(ClassAwareOptions):
    z_dim: int = 62  # incompressible noise
    categories: int = 10  # values of the categorical code c1
    continuous: int = 2  # continuous codes c2, c3, ... ~ U(-1, 1)
    info_weight: float = 1.0  # lambda: weight of L_I in both players' losses
    continuous_weight: float = 0.1  # weight of the continuous codes' NLL within L_I
    g_lr: float = 1e-3  # G's rate (D and Q use options.lr)

    def validate(self) -> None:
        super().validate()
        if self.categories < 2 or self.continuous < 0:
            raise GankitError("options.categories must be at least 2 and options.continuous non-negative.")
        if self.info_weight < 0 or self.continuous_weight < 0 or self.g_lr <= 0:
            raise GankitError("options.info_weight and continuous_weight must be non-negative, g_lr positive.")


@register
class InfoGAN(ClassAwareGAN):
    name = "infogan"
    family = "clustering"
    summary = "categorical + continuous codes in G's input; Q (on D's trunk) recovers them"
    paper = "Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing GANs"
    Options = InfoGANOptions
    sample_labels = "code"
    task_metrics = ("clustering", "code_purity")

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.continuous_codes = tuple(f"c{i + 2}" for i in range(o.continuous))
        self.G = self.generator(o.categories + o.continuous)
        self.D = self.discriminator()
        self.Q = nn.Sequential(nn.Linear(self.D.feature_dim, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.2),
                               nn.Linear(128, o.categories + o.continuous))

    @property
    def num_labels(self):
        return self.options.categories

    def codes(self, n: int) -> tuple[Tensor, Tensor]:
        return self.random_labels(n), torch.rand(n, self.options.continuous, device=self.device) * 2 - 1

    def generate(self, categorical: Tensor, continuous: Tensor, noise: Optional[Tensor] = None) -> Tensor:
        noise = self.noise(len(categorical)) if noise is None else noise
        return self.G(torch.cat([noise, self.one_hot(categorical, self.num_labels), continuous], 1))

    def sample(self, n, labels=None):
        categorical, continuous = self.codes(n)
        return self.generate(categorical if labels is None else labels, continuous)

    def information(self, q, categorical, continuous):
        """L_I, logged with how often Q recovers the categorical code."""
        logs = {"info": info_loss(q, categorical, continuous, self.options.continuous_weight),
                "code_acc": (q[:, :self.num_labels].argmax(1) == categorical).float().mean()}
        return logs["info"], {k: v.detach() for k, v in logs.items()}

    def d_loss(self, batch):
        categorical, continuous = self.codes(len(batch))
        with torch.no_grad():
            fake = self.generate(categorical, continuous)
        real = self.augment(batch.x)
        real_features, fake_features = self.D.features(real), self.D.features(self.augment(fake))
        d_loss, _ = ADVERSARIAL_LOSSES[self.options.loss]
        adversarial = d_loss(self.D.logits(real_features), self.D.logits(fake_features))
        info, logs = self.information(self.Q(fake_features), categorical, continuous)
        return self.total(adversarial + self.options.info_weight * info, logs, self.r1(self.D, real))

    def g_loss(self, batch):
        categorical, continuous = self.codes(len(batch))
        features = self.D.features(self.augment(self.generate(categorical, continuous)))
        _, g_loss = ADVERSARIAL_LOSSES[self.options.loss]
        info, logs = self.information(self.Q(features), categorical, continuous)
        return self.total(g_loss(self.D.logits(features)) + self.options.info_weight * info, logs, {})

    def players(self):
        return [Player("D", [self.D, self.Q], self.d_loss, self.optim(), steps=self.options.n_critic),
                Player("G", [self.G], self.g_loss, self.optim(self.options.g_lr))]

    def classify(self, x: Tensor) -> Tensor:
        """Q's categorical logits for real images: the code an image would have been drawn with."""
        return self.Q(self.D.features(x))[:, :self.num_labels]

    def traverse(self, code: str, values: Tensor, noise_seed: int = 0) -> Tensor:
        """Images with rows = categorical values, columns = ``values`` of one continuous code.

        The noise and the other continuous codes (at 0) are the same in every cell.
        """
        rows, columns = self.num_labels, len(values)
        generator = torch.Generator().manual_seed(noise_seed)
        noise = torch.randn(1, self.options.z_dim, generator=generator).to(self.device).expand(rows * columns, -1)
        continuous = torch.zeros(rows * columns, self.options.continuous, device=self.device)
        continuous[:, self.continuous_codes.index(code)] = values.to(self.device).repeat(rows)
        categorical = torch.arange(rows, device=self.device).repeat_interleave(columns)
        return self.generate(categorical, continuous, noise)
