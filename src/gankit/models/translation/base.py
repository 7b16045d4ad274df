"""What the image-to-image models share: two-domain data, ``translate``, options and the optimiser.

A translation model trains on two-domain data (``pairs:A>B`` or ``unpaired:A>B``,
gankit.data.translation): each batch carries ``x`` from domain A and ``x_b``
from domain B, aligned for paired data. Instead of sampling from noise it
translates: ``translate(x, "a2b")`` and, for two-way models, ``"b2a"``.
``gankit eval`` scores translations of the test split, ``gankit translate``
runs a trained model on a folder of the user's images.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

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

    def __init__(self, options, data):
        super().__init__(options, data)
        if not data.is_two_domain:
            raise ValueError(f"{self.name} translates between two image domains, and {data.name} is one; "
                             f"name two, e.g. pairs:mnist-edges>mnist or unpaired:mnist>mnist-m")
        if self.needs_pairs and not data.paired:
            raise ValueError(f"{self.name} learns from aligned pairs; use a pairs: dataset "
                             f"(e.g. pairs:mnist-edges>mnist, or pairs:folder:PATH of side-by-side AB images)")
        self.channels_a, self.channels_b = data.shape[0], data.shape_b[0]
        self.size = data.shape[-1]

    @classmethod
    def image_sizes(cls, options):
        return PowerOfTwoSizes(32)

    def translate(self, x: Tensor, direction: Direction = "a2b") -> Tensor:
        """Images of the source domain (in [-1, 1]) mapped to the other domain."""
        raise NotImplementedError

    def directions(self) -> tuple[Direction, ...]:
        return ("a2b", "b2a") if self.two_way else ("a2b",)

    def sample(self, n, labels=None):
        raise GankitError(f"{self.name} translates images rather than drawing them from noise; use "
                          f"'gankit translate RUN --input DIR --out DIR', or 'gankit sample RUN' for input/output grids.")

    def optim(self) -> OptimSpec:
        return OptimSpec("adam", self.options.lr, self.options.betas)
