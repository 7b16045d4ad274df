"""The image-to-image family's networks: U-Net and ResNet generators, PatchGAN, the image pool.

Each is written once from its paper and shared by the models that use it:

- ``UNetGenerator`` (Isola et al. 2017, pix2pix): an encoder down to 1x1 and a
  decoder whose every stage also sees the encoder stage of the same size.
- ``ResnetGenerator`` (Johnson et al. 2016, as CycleGAN uses it): c7s1-w, two
  stride-2 downsamplings, residual blocks, two upsamplings, c7s1-C, with
  reflection padding (3 around the 7x7 convolutions, 1 around the 3x3 ones).
- ``PatchDiscriminator``: a fully convolutional D whose output is a grid of
  logits, one per overlapping patch (70x70 patches at 256x256 with 3 layers).
- ``ImagePool`` (Shrivastava et al. 2017): D sees a mix of the newest fakes and
  fakes from earlier rounds, which damps oscillation.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.nets.blocks import dcgan_init, norm_layer


def _norm(kind: str, channels: int) -> nn.Module:
    """The family's norms: instance norm without learned affine parameters, as in the papers' code."""
    return nn.InstanceNorm2d(channels) if kind == "instance" else norm_layer(kind, channels)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net: ``depth`` stride-2 4x4 convolutions down to 1x1 at ``size``, mirrored back up.

    Encoder: C(w) - C(2w) - C(4w) - C(8w) - C(8w) ..., LeakyReLU 0.2, no norm on
    the first and innermost layers. Decoder: ReLU, transposed conv, norm, with
    dropout 0.5 in the three stages nearest the bottleneck (the paper's only
    source of noise: pix2pix has no z), and each stage's output concatenated
    with the encoder output of the same size. Tanh output.
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, width: int = 64, norm: str = "batch",
                 dropout: float = 0.5):
        super().__init__()
        depth = size.bit_length() - 1  # log2(size): 32 -> 5 stages, 256 -> 8
        if 1 << depth != size or depth < 3:
            raise ValueError(f"the U-Net needs a power-of-two image size >= 8, not {size}")
        widths = [min(width * 2 ** i, width * 8) for i in range(depth)]
        self.down = nn.ModuleList()
        c_in = in_channels
        for i, c_out in enumerate(widths):
            layers = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False))
            if 0 < i < depth - 1:
                layers.append(_norm(norm, c_out))
            self.down.append(nn.Sequential(*layers))
            c_in = c_out
        self.up = nn.ModuleList()
        for i in reversed(range(1, depth)):  # from the bottleneck out; stage i lands at encoder stage i - 1
            c_in = widths[i] if i == depth - 1 else 2 * widths[i]
            layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, widths[i - 1], 4, stride=2, padding=1, bias=False),
                      _norm(norm, widths[i - 1])]
            if i >= depth - 3 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        self.out = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * widths[0], out_channels, 4, stride=2, padding=1),
                                 nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for stage in self.down:
            x = stage(x)
            skips.append(x)
        skips.pop()  # the bottleneck has no partner
        for stage in self.up:
            x = torch.cat([stage(x), skips.pop()], 1)
        return self.out(x)


class ResidualBlock(nn.Module):
    """x + (pad, conv3, norm, ReLU, pad, conv3, norm)(x), reflection-padded by 1."""

    def __init__(self, channels: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), _norm(norm, channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), _norm(norm, channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """c7s1-w, d2w, d4w, ``blocks`` x R4w, u2w, uw, c7s1-C with tanh (CycleGAN: 6 blocks at 128, 9 at 256).

    The widely copied reference script pads the 7x7 convolutions by the channel
    count (3 for RGB, 1 for grey) instead of 3, which silently changes the
    output size for grey images; the padding here is always 3.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 64, blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=False), _norm(norm, width), nn.ReLU()]
        for c in (width, 2 * width):
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), _norm(norm, 2 * c), nn.ReLU()]
        layers += [ResidualBlock(4 * width, norm) for _ in range(blocks)]
        for c in (4 * width, 2 * width):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=False),
                       _norm(norm, c // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """C(w) - C(2w) - ... - C(2^(L-1) w) stride 2, one more stride-1 stage, and a 1-channel stride-1 conv.

    All 4x4 convolutions with LeakyReLU 0.2, no norm on the first; the output is
    a (N, 1, h, w) grid of raw logits, one per receptive field (70x70 for
    ``layers=3``), so losses average over patches.
    """

    def __init__(self, in_channels: int, width: int = 64, layers: int = 3, norm: str = "batch"):
        super().__init__()
        c = width
        stages = [nn.Conv2d(in_channels, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        for i in range(1, layers + 1):
            c_out = width * min(2 ** i, 8)
            stride = 2 if i < layers else 1
            stages += [nn.Conv2d(c, c_out, 4, stride=stride, padding=1, bias=norm == "none"),
                       _norm(norm, c_out), nn.LeakyReLU(0.2)]
            c = c_out
        stages.append(nn.Conv2d(c, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*stages)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ImagePool(nn.Module):
    """The last ``capacity`` fakes D has seen; ``query`` answers each new fake with itself or an old one.

    Until the pool is full every fake is stored and returned. After that each
    fake, with probability 1/2, replaces a random stored image, which is
    returned in its place; otherwise the fake itself is returned. The stored
    images are part of the module's state_dict, so a resumed run continues with
    the same pool.
    """

    def __init__(self, capacity: int = 50):
        super().__init__()
        self.capacity = capacity
        self.images: list[Tensor] = []

    @torch.no_grad()
    def query(self, fakes: Tensor) -> Tensor:
        if self.capacity == 0:
            return fakes.detach()
        answer = []
        for fake in fakes.detach():
            if len(self.images) < self.capacity:
                self.images.append(fake.clone())
                answer.append(fake)
            elif torch.rand(()) < 0.5:
                slot = int(torch.randint(self.capacity, ()))
                answer.append(self.images[slot])
                self.images[slot] = fake.clone()
            else:
                answer.append(fake)
        return torch.stack([image.to(fakes.device, fakes.dtype) for image in answer])

    def get_extra_state(self) -> Tensor:
        return torch.stack(self.images) if self.images else torch.empty(0)

    def set_extra_state(self, state: Tensor) -> None:
        self.images = list(state.unbind()) if state.numel() else []


class EncoderDecoderGenerator(nn.Module):
    """DiscoGAN's generator (Kim et al. 2017): ``layers`` stride-2 4x4 convolutions down, as many up, no skips.

    Encoder C(w) - C(2w) - ... (capped at 8w), LeakyReLU 0.2, norm on every layer
    but the first; decoder the mirror image with transposed convolutions, norm
    and ReLU, the last one mapping to the output channels with tanh. Unlike the
    U-Net, everything the output keeps of the input passes the bottleneck, of
    side size / 2^layers (4x4 at the paper's 64x64 with 4 layers; the paper uses
    4 or 5 by domain). Fully convolutional: any size divisible by 2^layers.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 64, layers: int = 4, norm: str = "batch"):
        super().__init__()
        if layers < 1:
            raise ValueError(f"the encoder-decoder needs at least 1 stride-2 layer, not {layers}")
        widths = [width * min(2 ** i, 8) for i in range(layers)]
        bias = norm == "none"
        encoder = [nn.Conv2d(in_channels, widths[0], 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        for c_in, c_out in zip(widths, widths[1:]):
            encoder += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=bias), _norm(norm, c_out),
                        nn.LeakyReLU(0.2)]
        decoder = []
        for c_in, c_out in zip(widths[:0:-1], widths[-2::-1]):
            decoder += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=bias), _norm(norm, c_out),
                        nn.ReLU()]
        decoder += [nn.ConvTranspose2d(widths[0], out_channels, 4, stride=2, padding=1), nn.Tanh()]
        self.layers = layers
        self.net = nn.Sequential(*encoder, *decoder)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] % 2 ** self.layers or x.shape[-2] % 2 ** self.layers:
            raise ValueError(f"this encoder-decoder halves the image {self.layers} times; "
                             f"{tuple(x.shape[-2:])} is not divisible by {2 ** self.layers}")
        return self.net(x)
