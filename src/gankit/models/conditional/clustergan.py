"""ClusterGAN (Mukherjee et al. 2019): a latent with a one-hot cluster part, and an encoder back to it.

The latent is z = (z_n, z_c): z_n ~ N(0, sigma^2 I) with sigma = 0.1 and z_c a
one-hot vector over K clusters. An encoder E maps images back to (z_n^, c^),
where c^ are K cluster logits. With a WGAN-GP critic D:

    D minimises     E D(G(z)) - E D(x) + 10 E (||grad D(x^)||_2 - 1)^2
    G, E minimise   -E D(G(z)) + beta_n ||z_n - E_n(G(z))||^2 + beta_c CE(E_c(G(z)), z_c)

beta_n = beta_c = 10 (the squared error is a mean over the code's elements, as in
the official code). G and E are one player with one optimizer; D takes 5 steps
per G/E step; Adam 1e-4 with betas (0.5, 0.9). Clustering a real image is argmax
E_c(x) (``cluster_acc``, Hungarian matching); the official code instead runs
k-means on E's whole code [z_n^, softmax(c^)] and reports its purity as ACC
(``kmeans_purity``); both are scored. The official code trains 500,000 rounds of
batch 64. The widely copied reference script crashes with an in-place autograd
error when G and E step together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.losses import cluster_code_loss, gradient_penalty
from gankit.models.base import Player
from gankit.models.conditional.base import NO_PACKING, ClassAwareGAN
from gankit.models.options import BaseOptions, Norm
from gankit.registry import register


@dataclass
class ClusterGANOptions(BaseOptions):
    NOT_OFFERED: ClassVar[dict[str, str]] = {"pack": NO_PACKING,
                                             "loss": "clustergan's critic is a Wasserstein one with a gradient penalty"}
    z_dim: int = 30  # size of the continuous part z_n
    clusters: int = 10  # K, the size of the one-hot part z_c
    sigma: float = 0.1  # std of z_n
    d_norm: Norm = "none"  # the critic is gradient-penalised: no BatchNorm
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    n_critic: int = 5
    gp_weight: float = 10.0
    beta_n: float = 10.0  # weight of the z_n reconstruction
    beta_c: float = 10.0  # weight of the cluster cross-entropy

    def validate(self) -> None:
        super().validate()
        if self.clusters < 2 or self.sigma <= 0 or min(self.gp_weight, self.beta_n, self.beta_c) < 0:
            raise GankitError("options.clusters must be at least 2, sigma positive, and gp_weight, beta_n "
                              "and beta_c non-negative.")


@register
class ClusterGAN(ClassAwareGAN):
    name = "clustergan"
    family = "clustering"
    summary = "latent = Gaussian part + one-hot cluster; encoder E recovers both; WGAN-GP critic"
    paper = "Mukherjee et al. 2019, ClusterGAN: Latent Space Clustering in Generative Adversarial Networks"
    Options = ClusterGANOptions
    sample_labels = "code"
    task_metrics = ("clustering", "latent_kmeans", "code_purity")

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        self.G = self.generator(o.clusters)
        self.D = self.discriminator()
        self.E = self.discriminator(out_dim=o.z_dim + o.clusters)

    def input_gradients(self):
        return True

    @property
    def num_labels(self):
        return self.options.clusters

    def noise(self, n):
        return self.options.sigma * torch.randn(n, self.options.z_dim, device=self.device)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(z_n^, cluster logits) of images."""
        code = self.E(x)
        return code[:, :self.options.z_dim], code[:, self.options.z_dim:]

    def classify(self, x: Tensor) -> Tensor:
        return self.encode(x)[1]

    def latent(self, x: Tensor) -> Tensor:
        """E's whole code of images, [z_n^, softmax(c^)]: what the official code clusters with k-means."""
        z_n, logits = self.encode(x)
        return torch.cat([z_n, logits.softmax(1)], 1)

    def d_loss(self, batch):
        with torch.no_grad():
            fake = self.sample(len(batch))
        real, fake = self.augment(batch.x), self.augment(fake)
        wasserstein = self.D(fake).mean() - self.D(real).mean()
        terms = {"gp": self.options.gp_weight * gradient_penalty(self.D, real, fake), **self.r1(self.D, real)}
        return self.total(wasserstein, {"wasserstein": -wasserstein.detach()}, terms)

    def ge_loss(self, batch):
        o = self.options
        z_n, z_c = self.noise(len(batch)), self.random_labels(len(batch))
        fake = self.G(torch.cat([z_n, self.one_hot(z_c, o.clusters)], 1))
        z_n_hat, logits = self.encode(fake)
        adversarial = -self.D(self.augment(fake)).mean()
        codes = cluster_code_loss(z_n_hat, z_n, logits, z_c, o.beta_n, o.beta_c)
        logs = {"adversarial": adversarial.detach(), "codes": codes.detach(),
                "cluster_acc": (logits.argmax(1) == z_c).float().mean()}
        return self.total(adversarial + codes, logs, {})

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim(), steps=self.options.n_critic),
                Player("G", [self.G, self.E], self.ge_loss, self.optim())]
