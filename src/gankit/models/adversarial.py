"""What the GANs of every family share: networks chosen by the data, DiffAugment, the D-side options."""
from __future__ import annotations

from typing import ClassVar, Optional

from gankit.augment import DiffAugment
from gankit.models.base import Model, OptimSpec
from gankit.models.options import BaseOptions
from gankit.nets import image_sizes, resolve_arch


class AdversarialModel(Model):
    """Sets ``arch`` (from ``options.nets`` and the data), ``width`` and ``augment``."""

    # The networks nets='auto' picks for images: the ones the model's paper used where gankit has them.
    image_nets: ClassVar[str] = "dcgan"

    def __init__(self, options: BaseOptions, data):
        super().__init__(options, data)
        self.arch = resolve_arch(options.nets, data, self.image_nets)
        self.width = options.width or (256 if self.arch == "mlp" else 64)
        if options.diffaugment and not data.is_image:
            raise ValueError(f"DiffAugment (options.diffaugment) needs image data, and {data.name} is 2-D points")
        if self.input_gradients() and self.arch != "mlp" and options.d_norm == "batch":
            raise ValueError("a critic with a gradient penalty must not use BatchNorm (it mixes the samples of "
                             "a batch); set options.d_norm to layer, instance or none")
        self.augment = DiffAugment(options.diffaugment)

    @classmethod
    def image_sizes(cls, options):
        return image_sizes(cls.image_nets if options.nets == "auto" else options.nets)

    def input_gradients(self) -> bool:
        """Whether D's loss penalises its input gradients (then BatchNorm in D is an error)."""
        return self.options.r1_gamma > 0

    def optim(self, lr: Optional[float] = None) -> OptimSpec:
        """The options' optimiser recipe, at ``lr`` when a player has a rate of its own."""
        o = self.options
        return OptimSpec(o.optimizer, lr or o.lr, o.betas)
