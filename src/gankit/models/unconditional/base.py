"""What every unconditional model shares: options, networks, and the D-side machinery.

A subclass states its objective in two methods and nothing else:

    d_objective(real, fake) -> (loss, logs)   the critic's adversarial loss
    g_objective(real, fake) -> (loss, logs)   the generator's loss
    d_penalty(real, fake)   -> {name: term}   optional extra critic terms (gradient penalties)

``real`` and ``fake`` are already what D sees: DiffAugment applied when
``options.diffaugment`` is set, fakes detached in D's step (and regenerated,
with gradients, in G's step). This base class adds the options every
unconditional model offers: spectral normalisation on D, the R1 penalty
(gamma/2 * E||grad D(x)||^2), PacGAN packing (D judges ``pack`` samples at once;
the D nets do the stacking) and the choice of networks by the data
(``nets='auto'``: MLP for 2-D points, DCGAN for images).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.losses import r1_penalty
from gankit.models.adversarial import AdversarialModel
from gankit.models.base import Player
from gankit.models.options import BaseOptions, LossName, Nets, Norm, Optimizer  # noqa: F401 (re-exported)
from gankit.nets import build_discriminator, build_generator


@dataclass
class UnconditionalOptions(BaseOptions):
    pack: int = 1  # PacGAN: D judges this many samples at once (Lin et al. 2018)

    def validate(self) -> None:
        super().validate()
        if self.pack < 1:
            raise GankitError(f"options.pack must be at least 1, not {self.pack}.")


@dataclass
class AdversarialOptions(UnconditionalOptions):
    loss: LossName = "ns"  # D and G losses from losses.ADVERSARIAL_LOSSES


class UnconditionalGAN(AdversarialModel):
    """Base class of the unconditional models: G(z) against a critic D."""

    family = "unconditional"
    Options = UnconditionalOptions

    def __init__(self, options: UnconditionalOptions, data):
        super().__init__(options, data)
        self.G = self.build_generator()
        self.D = self.build_discriminator()

    # --- networks (subclasses may override) ----------------------------------

    def build_generator(self):
        o = self.options
        return build_generator(self.arch, self.data, o.z_dim, self.width, norm=o.g_norm)

    def build_discriminator(self):
        o = self.options
        return build_discriminator(self.arch, self.data, self.width, norm=o.d_norm,
                                   spectral_norm=o.spectral_norm, pack=o.pack)

    # --- what D sees -----------------------------------------------------------

    def fake(self, n: int) -> Tensor:
        return self.G(self.noise(n))

    def d_input(self, x: Tensor) -> Tensor:
        """A batch as D sees it (DiffAugment'd); its size must be a multiple of ``pack``."""
        if len(x) % self.options.pack:
            raise GankitError(f"options.pack={self.options.pack} needs a batch size divisible by "
                              f"{self.options.pack}, not {len(x)}; change train.batch_size or options.pack.")
        return self.augment(x)

    def pack(self, x: Tensor) -> Tensor:
        """(B, C, ...) -> (B/m, m*C, ...): the input one judgement of a packed D sees."""
        m = self.options.pack
        return x.reshape(x.shape[0] // m, x.shape[1] * m, *x.shape[2:])

    def unpack(self, v: Tensor) -> Tensor:
        return v.reshape(-1, *self.data.shape)

    def score(self, x: Tensor) -> Tensor:
        """D's scalar per (packed) sample, the function gradient penalties act on."""
        return self.D(x)

    def penalty(self, fn, *points: Tensor, **kwargs) -> Tensor:
        """A losses.penalties function at packed points: with PacGAN the penalised input is the pack."""
        return fn(lambda v: self.score(self.unpack(v)), *(self.pack(p) for p in points), **kwargs)

    # --- the objective (subclasses implement the first two) --------------------

    def d_objective(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
        raise NotImplementedError

    def g_objective(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
        raise NotImplementedError

    def d_penalty(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        return {}

    def d_loss(self, batch):
        with torch.no_grad():
            fake = self.fake(len(batch))
        real, fake = self.d_input(batch.x), self.d_input(fake)
        loss, logs = self.d_objective(real, fake)
        terms = self.d_penalty(real, fake)
        if self.options.r1_gamma > 0:
            terms["r1"] = 0.5 * self.options.r1_gamma * self.penalty(r1_penalty, real)
        for name, term in terms.items():
            loss = loss + term
            logs[name] = term.detach()
        return loss, {"loss": loss.detach(), **logs}

    def g_loss(self, batch):
        loss, logs = self.g_objective(self.d_input(batch.x), self.d_input(self.fake(len(batch))))
        return loss, {"loss": loss.detach(), **logs}

    def players(self):
        return [Player("D", [self.D], self.d_loss, self.optim(), steps=self.options.n_critic),
                Player("G", [self.G], self.g_loss, self.optim())]

    def sample(self, n, labels=None):
        return self.G(self.noise(n))
