"""What the class-aware models share: image networks with extra latent inputs or extra heads.

G takes noise plus extra latent parts (a one-hot class for cgan/acgan, InfoGAN's
codes, ClusterGAN's one-hot cluster) concatenated into one vector; the D nets
expose ``features(x)`` and ``logits(features)``, so a model can put heads of its
own on D's trunk (a class head, InfoGAN's Q). The adversarial options of the
unconditional family carry over: ``options.loss`` (ns, minimax, lsgan,
wasserstein, hinge) where a model has a real/fake logit, spectral norm on D,
R1 at real data, DiffAugment and EMA (``train.ema_decay``). PacGAN packing
does not: a pack of samples has no single label or code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Optional

import torch
from torch import Tensor, nn

from gankit.losses import r1_penalty
from gankit.models.adversarial import AdversarialModel
from gankit.models.base import Player
from gankit.models.options import BaseOptions, LossName
from gankit.nets import build_discriminator, build_generator
from gankit.nets.conditional import one_hot


NO_PACKING = "PacGAN packing judges several samples at once, and a pack has no single label or code"


@dataclass
class ClassAwareOptions(BaseOptions):
    NOT_OFFERED: ClassVar[dict[str, str]] = {"pack": NO_PACKING}
    loss: LossName = "ns"  # the real/fake pair from losses.ADVERSARIAL_LOSSES


class ClassAwareGAN(AdversarialModel):
    """Image-only base: ``generator(extra)``, ``discriminator(out_dim)``, label helpers and R1."""

    Options = ClassAwareOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        if not data.is_image:
            raise ValueError(f"{self.name} needs image data, and {data.name} is 2-D points")

    def generator(self, extra_dim: int) -> nn.Module:
        """G over a latent of z_dim noise numbers followed by ``extra_dim`` more."""
        o = self.options
        return build_generator(self.arch, self.data, o.z_dim + extra_dim, self.width, norm=o.g_norm)

    def discriminator(self, out_dim: int = 1, norm: Optional[str] = None) -> nn.Module:
        o = self.options
        return build_discriminator(self.arch, self.data, self.width, out_dim, norm=norm or o.d_norm,
                                   spectral_norm=o.spectral_norm)

    def random_labels(self, n: int, num_values: Optional[int] = None) -> Tensor:
        """Labels drawn uniformly over ``num_values`` (default: the classes)."""
        return torch.randint(num_values or self.num_labels, (n,), device=self.device)

    def sample(self, n, labels=None):
        """G(z, y): the one-hot label (random unless given) after the noise."""
        labels = self.random_labels(n) if labels is None else labels
        return self.G(torch.cat([self.noise(n), self.one_hot(labels, self.num_labels)], 1))

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim(), steps=self.options.n_critic),
                Player("G", [self.G], self.g_loss, self.optim())]

    @staticmethod
    def one_hot(labels: Tensor, num_values: int) -> Tensor:
        return one_hot(labels, num_values)

    @property
    def num_labels(self) -> int:
        return self.data.num_classes

    def r1(self, critic: Callable[[Tensor], Tensor], real: Tensor) -> dict[str, Tensor]:
        """{'r1': gamma/2 E||grad critic(x)||^2} at real data when options.r1_gamma > 0, else {}."""
        if self.options.r1_gamma <= 0:
            return {}
        return {"r1": 0.5 * self.options.r1_gamma * r1_penalty(critic, real)}

    @staticmethod
    def total(loss: Tensor, logs: dict, terms: dict[str, Tensor]) -> tuple[Tensor, dict]:
        """``loss`` plus the extra ``terms``, each logged under its name; the sum is logged as 'loss'."""
        for name, term in terms.items():
            loss = loss + term
            logs[name] = term.detach()
        return loss, {"loss": loss.detach(), **logs}
