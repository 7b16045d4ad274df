"""The RRDB PSNR model (Wang et al. 2018): ESRGAN's generator trained alone on the pixel L1, ESRGAN's
first stage.

G is RRDBNet (gankit.nets.superres): ``blocks`` residual-in-residual dense
blocks without BatchNorm (each three dense blocks of five convolutions, every
residual scaled by 0.2), nearest-neighbour x2 upsampling stages and a linear
output; the dense blocks start at 0.1 x Kaiming's initial scale. With x an HR
crop and LR(x) its bicubic, antialiased, 8-bit downscaling:

    G minimises  E |G(LR(x)) - x|        (per pixel)

Adam 2e-4, betas (0.9, 0.99), batch 16 of 128x128 HR crops in the paper, the
rate halved every 2 x 10^5 updates (``train.lr_decay=step``); 23 blocks of 64
channels, growth 32. A run of this model is what ``esrgan``'s
``options.pretrained`` starts from, and what its network interpolation blends
with.
"""
from __future__ import annotations

from dataclasses import dataclass

from gankit.errors import GankitError
from gankit.models.superres.base import PSNRModel, SuperResolutionOptions
from gankit.nets.superres import RRDBNet
from gankit.registry import register


@dataclass
class RRDBOptions(SuperResolutionOptions):
    blocks: int = 23  # RRDBs (ESRGAN's 23)
    growth: int = 32  # channels each dense-block convolution adds
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)

    def validate(self) -> None:
        super().validate()
        if self.growth < 1:
            raise GankitError(f"options.growth must be at least 1, not {self.growth}.")


@register
class RRDBModel(PSNRModel):
    name = "rrdb"
    summary = "ESRGAN's generator (RRDB, no BN, residual scaling 0.2) trained on the pixel L1; esrgan's stage 1"
    paper = "Wang et al. 2018, ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks"
    Options = RRDBOptions
    pixel_loss = "l1"

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = RRDBNet(self.channels, options.width, options.blocks, options.growth, options.scale)

