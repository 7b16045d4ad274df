"""Super-resolution networks: SRResNet (SRGAN's generator), RRDBNet (ESRGAN's) and the VGG-style
discriminator both papers use. Widths and block counts are arguments: the papers' sizes are the
models' defaults, and small ones keep CPU runs short."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

RESIDUAL_SCALE = 0.2  # ESRGAN: every dense block's and every RRDB's residual is scaled by this before it is added


def upsampling_stages(scale: int) -> int:
    """How many x2 upsampling stages make ``scale`` (a power of two)."""
    if scale < 2 or scale & (scale - 1):
        raise ValueError(f"the scale factor must be a power of two, not {scale}")
    return int(math.log2(scale))


def conv(in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2)


# --- SRResNet (Ledig et al. 2017) ------------------------------------------------------------------

class ResidualBlock(nn.Module):
    """x + BN(conv(PReLU(BN(conv(x))))): SRResNet's block, 3x3 convolutions of ``width`` channels."""

    def __init__(self, width: int):
        super().__init__()
        self.branch = nn.Sequential(conv(width, width), nn.BatchNorm2d(width), nn.PReLU(width),
                                    conv(width, width), nn.BatchNorm2d(width))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.branch(x)


def sub_pixel_upsampling(width: int) -> nn.Sequential:
    """x2 upsampling: a convolution to 4 x ``width`` channels, rearranged by PixelShuffle into a
    feature map of twice the side (Shi et al. 2016), then PReLU."""
    return nn.Sequential(conv(width, 4 * width), nn.PixelShuffle(2), nn.PReLU(width))


class SRResNet(nn.Module):
    """LR image -> ``scale`` x larger image: a 9x9 convolution, ``blocks`` residual blocks inside a
    long skip connection, log2(scale) PixelShuffle stages and a 9x9 convolution, tanh (images in [-1, 1])."""

    def __init__(self, channels: int = 3, width: int = 64, blocks: int = 16, scale: int = 4):
        super().__init__()
        self.head = nn.Sequential(conv(channels, width, 9), nn.PReLU(width))
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)], conv(width, width),
                                  nn.BatchNorm2d(width))
        self.upsample = nn.Sequential(*[sub_pixel_upsampling(width) for _ in range(upsampling_stages(scale))])
        self.tail = conv(width, channels, 9)

    def forward(self, lr: Tensor) -> Tensor:
        features = self.head(lr)
        return torch.tanh(self.tail(self.upsample(features + self.body(features))))


# --- RRDBNet (Wang et al. 2018) --------------------------------------------------------------------

class DenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing the block's input and every earlier output (``growth``
    channels each; LeakyReLU 0.2 after the first four); x + 0.2 x the last one's output. No BN."""

    def __init__(self, width: int, growth: int):
        super().__init__()
        self.convs = nn.ModuleList(conv(width + i * growth, growth) for i in range(4))
        self.fuse = conv(width + 4 * growth, width)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.convs:
            features.append(self.act(layer(torch.cat(features, 1))))
        return x + RESIDUAL_SCALE * self.fuse(torch.cat(features, 1))


class RRDB(nn.Module):
    """Residual-in-residual dense block: x + 0.2 x three dense blocks in a row."""

    def __init__(self, width: int, growth: int):
        super().__init__()
        self.blocks = nn.Sequential(*[DenseBlock(width, growth) for _ in range(3)])

    def forward(self, x: Tensor) -> Tensor:
        return x + RESIDUAL_SCALE * self.blocks(x)


class RRDBNet(nn.Module):
    """LR image -> ``scale`` x larger image: a 3x3 convolution, ``blocks`` RRDBs and a convolution inside
    a long skip connection, log2(scale) stages of nearest-neighbour x2 upsampling + convolution +
    LeakyReLU, then two convolutions. No BN, linear output. The dense blocks' convolutions start at
    0.1 x Kaiming's scale (the paper's initialisation, which keeps the deep residual net stable)."""

    def __init__(self, channels: int = 3, width: int = 64, blocks: int = 23, growth: int = 32, scale: int = 4):
        super().__init__()
        self.head = conv(channels, width)
        self.body = nn.Sequential(*[RRDB(width, growth) for _ in range(blocks)], conv(width, width))
        self.upsample = nn.ModuleList(conv(width, width) for _ in range(upsampling_stages(scale)))
        self.tail = nn.Sequential(conv(width, width), nn.LeakyReLU(0.2), conv(width, channels))
        self.act = nn.LeakyReLU(0.2)
        for module in self.body[:-1].modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
                with torch.no_grad():
                    module.weight.mul_(0.1)
                nn.init.zeros_(module.bias)

    def forward(self, lr: Tensor) -> Tensor:
        features = self.head(lr)
        features = features + self.body(features)
        for layer in self.upsample:
            features = self.act(layer(nn.functional.interpolate(features, scale_factor=2, mode="nearest")))
        return self.tail(features)


# --- the discriminator -----------------------------------------------------------------------------

class VGGStyleDiscriminator(nn.Module):
    """SRGAN's D: eight 3x3 convolutions, ``width`` channels doubling every second one, every second one
    with stride 2 (so a side shrinks 16x), BN after all but the first, LeakyReLU 0.2; then a dense layer
    of 16 x ``width`` units (1,024 at the paper's 64), LeakyReLU and one raw logit per image. ``size``,
    the side of the HR crops it judges, must be a multiple of 16."""

    def __init__(self, channels: int, size: int, width: int = 64):
        super().__init__()
        if size % 16:
            raise ValueError(f"the VGG-style discriminator takes sides that are multiples of 16, not {size}")
        layers, in_channels = [], channels
        for i in range(8):
            out_channels = width * 2 ** (i // 2)
            layers += [conv(in_channels, out_channels, stride=1 + i % 2)]
            layers += [nn.BatchNorm2d(out_channels)] if i else []
            layers += [nn.LeakyReLU(0.2)]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * (size // 16) ** 2, 16 * width),
                                  nn.LeakyReLU(0.2), nn.Linear(16 * width, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x)).squeeze(1)
