"""What the inpainting models share: masks, the context G sees, the composite, options and the optimiser.

An inpainting model trains on one-domain image data (labels only if it asks for
them). Each batch's holes come from the model's ``masks`` (gankit.data.masks,
the same generator at training and test time). G sees the context: the image
with its hole filled by the data mean, per channel. G predicts a whole image,
and only its hole is kept:

    inpaint(x, m) = (1 - m) x + m G(context(x, m)),   context(x, m) = (1 - m) x + m mean

The data mean is estimated as BatchNorm estimates its statistics: in training
mode every real batch that passes through ``context`` updates a cumulative
per-channel mean of the images seen (kept in the checkpoint), so at test time
it is the mean of the training images.
Instead of sampling from noise a model inpaints: ``gankit eval`` scores the
filled holes of the test split, ``gankit inpaint`` fills the user's images.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.data.masks import MaskGenerator, MaskKind, composite
from gankit.errors import GankitError
from gankit.models.base import Model, OptimSpec
from gankit.nets.blocks import PowerOfTwoSizes
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator


@dataclass
class InpaintingOptions:
    mask: MaskKind = "center"  # center, block (a square at a random place) or strokes
    mask_size: float = 0.5  # center, block: the hole's side as a share of the image's (0.5: a quarter of it)
    strokes: int = 4  # mask=strokes: strokes per image, each 4 segments up to mask_size x the side long
    stroke_width: float = 0.1  # mask=strokes: as a share of the image side
    width: int = 64  # base channels of G's encoder and decoder and of D
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:
        self.mask_generator()
        if self.width < 1 or self.lr <= 0:
            raise GankitError("options.width must be at least 1 and options.lr positive.")

    def mask_generator(self, kind: MaskKind | None = None) -> MaskGenerator:
        """The masks these options describe; ``kind`` draws another kind of hole of the same sizes."""
        return MaskGenerator(kind or self.mask, self.mask_size, self.strokes, self.stroke_width)


class InpaintingModel(Model):
    """Base of the inpainting models; subclasses build G and implement ``predict``."""

    family = "inpainting"
    Options = InpaintingOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        if not data.is_image or data.is_two_domain:
            raise ValueError(f"{self.name} fills holes in images of one domain, and {data.name} is not that")
        self.masks = options.mask_generator()
        self.channels, self.size = data.shape[0], data.shape[-1]
        if self.masks.kind != "strokes":
            self.masks.hole_side(self.size)  # a hole as large as the image is refused now, not at the first step
        self.register_buffer("mean", torch.zeros(self.channels))
        self.register_buffer("images_seen", torch.zeros((), dtype=torch.long))

    @classmethod
    def image_sizes(cls, options):
        return PowerOfTwoSizes(8)

    def encoder_decoder(self, bottleneck: int, extra_channels: int = 0) -> nn.Module:
        """An inpainting G: strided 4x4 convolutions (BatchNorm, LeakyReLU 0.2) encode the context (and
        ``extra_channels`` more input planes) into ``bottleneck`` numbers, which DCGAN's transposed
        convolutions (BatchNorm, ReLU, tanh) decode into a whole image."""
        seen = (self.channels + extra_channels, self.size, self.size)
        return nn.Sequential(DCGANDiscriminator(seen, self.options.width, out_dim=bottleneck), nn.LeakyReLU(0.2),
                             DCGANGenerator(bottleneck, self.data.shape, self.options.width))

    def draw_masks(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` masks from the model's generator (the global random state unless ``generator``), on its device."""
        return self.masks(n, self.size, generator).to(self.device)

    def context(self, x: Tensor, mask: Tensor) -> Tensor:
        """x with its hole filled by the data mean: G's view. In training mode, x (real images) also
        updates the running mean."""
        if self.training:
            with torch.no_grad():
                n, total = len(x), self.images_seen + len(x)
                self.mean += (x.float().mean((0, 2, 3)) - self.mean) * (n / total)
                self.images_seen.copy_(total)
        return composite(x, self.mean.view(1, -1, 1, 1), mask)

    def predict(self, context: Tensor, mask: Tensor) -> Tensor:
        """G's whole image (in [-1, 1]) for the ``context`` of holes ``mask``."""
        raise NotImplementedError

    def inpaint(self, x: Tensor, mask: Tensor) -> Tensor:
        """(1 - m) x + m G(context): x with its hole filled by G."""
        return composite(x, self.predict(self.context(x, mask), mask), mask)

    def sample(self, n, labels=None):
        raise GankitError(f"{self.name} fills holes in images rather than drawing them from noise; use "
                          f"'gankit inpaint RUN --input DIR --out DIR', or 'gankit sample RUN' for "
                          f"input / masked / filled rows.")

    def optim(self) -> OptimSpec:
        return OptimSpec("adam", self.options.lr, self.options.betas)
