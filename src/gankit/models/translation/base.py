"""What the image-to-image models share: two-domain data, ``translate``, options and the optimiser.

A translation model trains on two-domain data (``pairs:A>B`` or ``unpaired:A>B``,
gankit.data.translation): each batch carries ``x`` from domain A and ``x_b``
from domain B, aligned for paired data. Instead of sampling from noise it
translates: ``translate(x, "a2b")`` and, for two-way models, ``"b2a"``. A model
that ``translates_attributes`` (stargan) trains on one dataset whose images have
named attributes instead, and translates to target values of them:
``translate(x, target=...)``.
``gankit eval`` scores translations of the test split, ``gankit translate``
runs a trained model on a folder of the user's images.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Literal, Optional

import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.models.base import Model, OptimSpec
from gankit.nets.blocks import PowerOfTwoSizes

Direction = Literal["a2b", "b2a"]
TranslationNorm = Literal["batch", "instance", "none"]


@dataclass
class TranslationOptions:
    width: int = 64  # base channels of G and D (the papers' 64)
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:
        if self.width < 1 or self.lr <= 0:
            raise GankitError("options.width must be at least 1 and options.lr positive.")


class TranslationModel(Model):
    """Base of the image-to-image models; subclasses build their nets and implement ``translate``."""

    family = "translation"
    Options = TranslationOptions
    needs_pairs: ClassVar[bool] = False  # learns from aligned (a, b) pairs
    two_way: ClassVar[bool] = False  # also translates b -> a
    multimodal: ClassVar[bool] = False  # draws several outputs per input (gankit translate --styles K)
    # translates the images of one dataset between the values of their named attributes (stargan)
    translates_attributes: ClassVar[bool] = False

    def __init__(self, options, data):
        super().__init__(options, data)
        if self.translates_attributes:
            if not data.attributes:
                raise ValueError(f"{self.name} translates images between the values of their named attributes, "
                                 f"and {data.name} has none; use mnist-colour (digit colour x background)")
        elif not data.is_two_domain:
            raise ValueError(f"{self.name} translates between two image domains, and {data.name} is one; "
                             f"name two, e.g. pairs:mnist-edges>mnist or unpaired:mnist>mnist-m")
        if self.needs_pairs and not data.paired:
            raise ValueError(f"{self.name} learns from aligned pairs; use a pairs: dataset "
                             f"(e.g. pairs:mnist-edges>mnist, or pairs:folder:PATH of side-by-side AB images)")
        self.channels_a, self.channels_b = data.shape[0], (data.shape_b or data.shape)[0]
        self.size = data.shape[-1]

    @classmethod
    def image_sizes(cls, options):
        return PowerOfTwoSizes(32)

    def translate(self, x: Tensor, direction: Direction = "a2b") -> Tensor:
        """Images of the source domain (in [-1, 1]) mapped to the other domain."""
        raise NotImplementedError

    def draw_styles(self, n: int) -> Tensor:
        """Multimodal models: ``n`` style codes from the prior, for ``translate(x, direction, style)``."""
        raise NotImplementedError(f"{self.name} gives one output per input")

    def directions(self) -> tuple[Direction, ...]:
        return ("a2b", "b2a") if self.two_way else ("a2b",)

    def sample(self, n, labels=None):
        raise GankitError(f"{self.name} translates images rather than drawing them from noise; use "
                          f"'gankit translate RUN --input DIR --out DIR', or 'gankit sample RUN' for input/output grids.")

    def optim(self) -> OptimSpec:
        return OptimSpec("adam", self.options.lr, self.options.betas)


class TwoWayTranslationModel(TranslationModel):
    """Two generators, G_ab: A -> B and G_ba: B -> A, and two discriminators, D_a judging domain A
    and D_b domain B (cyclegan, discogan, dualgan)."""

    two_way = True
    ema_modules = ("G_ab", "G_ba")

    def translate(self, x, direction="a2b"):
        return self.G_ab(x) if direction == "a2b" else self.G_ba(x)

    def translations(self, batch) -> tuple[Tensor, Tensor]:
        """(G_ab(a), G_ba(b)): each domain's images translated into the other, A's first."""
        return self.G_ab(batch.x), self.G_ba(batch.x_b)

    def critics_loss(self, d_loss: Callable[[Tensor, Tensor], Tensor], batch, fake_b: Optional[Tensor] = None,
                     fake_a: Optional[Tensor] = None) -> tuple[Tensor, dict]:
        """Both discriminators' losses, summed (each D has its own parameters), and logged apart.

        The fakes are fresh translations of the batch, made without gradients, unless given
        (CycleGAN's, drawn from its pool).
        """
        if fake_b is None or fake_a is None:
            with torch.no_grad():
                fake_b, fake_a = self.translations(batch)
        loss_a = d_loss(self.D_a(batch.x), self.D_a(fake_a))
        loss_b = d_loss(self.D_b(batch.x_b), self.D_b(fake_b))
        return loss_a + loss_b, {"loss": (loss_a + loss_b).detach(), "a": loss_a.detach(), "b": loss_b.detach()}

    def generator_terms(self, batch, g_loss: Callable[[Tensor], Tensor],
                        round_trip: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
                        ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(adversarial, round trip, G_ab(a), G_ba(b)) for the generators' step: ``g_loss`` of both fakes
        summed, and ``round_trip(a, G_ba(G_ab(a)), b, G_ab(G_ba(b)))``."""
        fake_b, fake_a = self.translations(batch)
        adversarial = g_loss(self.D_b(fake_b)) + g_loss(self.D_a(fake_a))
        return adversarial, round_trip(batch.x, self.G_ba(fake_b), batch.x_b, self.G_ab(fake_a)), fake_b, fake_a
