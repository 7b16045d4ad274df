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
- ``NoiseAdaptingGenerator`` and ``NoisyDiscriminator`` (Bousmalis et al. 2017,
  PixelDA): a full-resolution residual G fed the image and a noise plane, and a
  D with noise and dropout in every layer.
- ``AttributeDiscriminator`` (Choi et al. 2018, StarGAN): a PatchGAN critic with a
  second head that classifies the image's attributes.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.nets.blocks import GaussianNoise, dcgan_init, norm_layer


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


def resnet_down(in_channels: int, width: int, norm: str) -> list[nn.Module]:
    """c7s1-w, d2w, d4w: the ResNet generator's way in, to 4w channels at a quarter of the size."""
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=False), _norm(norm, width), nn.ReLU()]
    for c in (width, 2 * width):
        layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), _norm(norm, 2 * c), nn.ReLU()]
    return layers


def resnet_up(out_channels: int, width: int, norm: str, upsample: str = "transposed") -> list[nn.Module]:
    """u2w, uw, c7s1-C with tanh: the way out from 4w channels at a quarter size. Each u doubles the size
    and halves the channels, by a stride-2 transposed 3x3 convolution (the ResNet generator's) or, with
    ``upsample="nearest"``, by nearest-neighbour upsampling and a 5x5 convolution (MUNIT's decoder):
    upsampling before convolving paints every output pixel with the same kernel, where a stride-2
    transposed convolution alternates kernel taps."""
    layers = []
    for c in (4 * width, 2 * width):
        if upsample == "nearest":
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(2),
                       nn.Conv2d(c, c // 2, 5, bias=False)]
        else:
            layers.append(nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=False))
        layers += [_norm(norm, c // 2), nn.ReLU()]
    return layers + [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]


class ResnetGenerator(nn.Module):
    """c7s1-w, d2w, d4w, ``blocks`` x R4w, u2w, uw, c7s1-C with tanh (CycleGAN: 6 blocks at 128, 9 at 256).

    The widely copied reference script pads the 7x7 convolutions by the channel
    count (3 for RGB, 1 for grey) instead of 3, which silently changes the
    output size for grey images; the padding here is always 3.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 64, blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        self.net = nn.Sequential(*resnet_down(in_channels, width, norm),
                                 *[ResidualBlock(4 * width, norm) for _ in range(blocks)],
                                 *resnet_up(out_channels, width, norm))
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


class NoiseAdaptingGenerator(nn.Module):
    """PixelDA's G (Bousmalis et al. 2017): a source image and a noise vector in, the image restyled out.

    z (``z_dim``, uniform on [-1, 1]) passes a linear layer to one H x W plane, stacked
    onto the image as an extra channel; then conv3-ReLU, ``blocks`` residual blocks at
    full resolution (no down- or upsampling, so the content stays where it is), and a
    conv3 to the target channels with tanh. The noise lets one source image be adapted
    to many backgrounds.
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, z_dim: int = 10, width: int = 64,
                 blocks: int = 6, norm: str = "batch"):
        super().__init__()
        self.z_dim, self.size = z_dim, size
        self.noise_plane = nn.Linear(z_dim, size * size)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels + 1, width, 3, padding=1), nn.ReLU(),
            *[ResidualBlock(width, norm) for _ in range(blocks)],
            nn.Conv2d(width, out_channels, 3, padding=1), nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            raise ValueError(f"this generator adapts {self.size}x{self.size} images, not "
                             f"{x.shape[-2]}x{x.shape[-1]}")
        plane = self.noise_plane(z).view(-1, 1, self.size, self.size)
        return self.net(torch.cat([x, plane], 1))


class NoisyDiscriminator(nn.Module):
    """PixelDA's D: conv3 stride 1 (w), then stride-2 conv3 stages (2w, 4w, ...) down to 4x4, each with
    norm, LeakyReLU 0.2 and dropout, and a linear layer to one logit; Gaussian noise on the input and
    after every stage while training, which keeps D from winning outright early on."""

    def __init__(self, in_channels: int, size: int, width: int = 64, norm: str = "batch", noise: float = 0.2,
                 dropout: float = 0.1):
        super().__init__()
        layers = [GaussianNoise(noise), nn.Conv2d(in_channels, width, 3, padding=1), nn.LeakyReLU(0.2),
                  nn.Dropout(dropout), GaussianNoise(noise)]
        c = width
        while size > 4:
            c_out = min(2 * c, 8 * width)
            layers += [nn.Conv2d(c, c_out, 3, stride=2, padding=1, bias=norm == "none"), _norm(norm, c_out),
                       nn.LeakyReLU(0.2), nn.Dropout(dropout), GaussianNoise(noise)]
            c, size = c_out, size // 2
        layers += [nn.Flatten(), nn.Linear(c * size * size, 1)]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class AdaINResidualBlock(nn.Module):
    """x + (pad, conv3, AdaIN, ReLU, pad, conv3, AdaIN)(x): a residual block whose two instance norms take
    their scale and shift from outside, from a style code (Huang & Belongie 2017's adaptive instance norm)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))
        self.conv2 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))
        self.norm = nn.InstanceNorm2d(channels)
        self.params = 4 * channels  # (scale, shift) for each of the two norms

    def forward(self, x: Tensor, params: Tensor) -> Tensor:
        scale1, shift1, scale2, shift2 = (p[..., None, None] for p in params.chunk(4, 1))
        h = torch.relu(self.norm(self.conv1(x)) * (1 + scale1) + shift1)
        return x + self.norm(self.conv2(h)) * (1 + scale2) + shift2


class StyleEncoder(nn.Module):
    """MUNIT's style encoder: c7s1-w, stride-2 4x4 convolutions (2w, 4w, then 4w) down to 2x2 or
    ``downs`` of them, global average pooling and a 1x1 convolution to ``style_dim`` numbers. No
    normalisation: instance norm would wash out the very statistics that carry the style."""

    def __init__(self, in_channels: int, size: int, width: int, style_dim: int = 8, downs: int = 4):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), nn.ReLU()]
        c = width
        for _ in range(min(downs, size.bit_length() - 2)):  # stop at 2x2
            c_out = min(2 * c, 4 * width)
            layers += [nn.Conv2d(c, c_out, 4, stride=2, padding=1), nn.ReLU()]
            c = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, style_dim, 1), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class AdaINDecoder(nn.Module):
    """MUNIT's decoder: ``blocks`` AdaIN residual blocks on the content code, their norms' scales and
    shifts computed from the style code by an MLP, then nearest-neighbour upsampling with 5x5
    convolutions and layer norm."""

    def __init__(self, out_channels: int, width: int, blocks: int, style_dim: int = 8, mlp_dim: int = 256):
        super().__init__()
        self.blocks = nn.ModuleList(AdaINResidualBlock(4 * width) for _ in range(blocks))
        self.mlp = nn.Sequential(nn.Linear(style_dim, mlp_dim), nn.ReLU(), nn.Linear(mlp_dim, mlp_dim), nn.ReLU(),
                                 nn.Linear(mlp_dim, sum(block.params for block in self.blocks)))
        self.up = nn.Sequential(*resnet_up(out_channels, width, "layer", upsample="nearest"))
        self.apply(dcgan_init)

    def forward(self, content: Tensor, style: Tensor) -> Tensor:
        params = self.mlp(style).split([block.params for block in self.blocks], 1)
        for block, p in zip(self.blocks, params):
            content = block(content, p)
        return self.up(content)


class MultiScaleDiscriminator(nn.Module):
    """One fully convolutional D per scale, on the image and on 2x, 4x, ... average-pooled copies of it
    (MUNIT, after pix2pixHD): coarse scales judge layout, fine ones texture. Each is ``layers`` stride-2
    4x4 convolutions (w, 2w, ... capped at 8w) with LeakyReLU 0.2 and no norm, then a 1x1 convolution to
    a grid of logits; ``forward`` returns the scales' grids, finest first."""

    def __init__(self, in_channels: int, width: int = 64, scales: int = 3, layers: int = 3):
        super().__init__()
        self.scales = nn.ModuleList()
        for _ in range(scales):
            stages, c = [], in_channels
            for i in range(layers):
                c_out = width * min(2 ** i, 8)
                stages += [nn.Conv2d(c, c_out, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
                c = c_out
            self.scales.append(nn.Sequential(*stages, nn.Conv2d(c, 1, 1)))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> list[Tensor]:
        grids = []
        for i, d in enumerate(self.scales):
            if i > 0:
                x = self.downsample(x)
            grids.append(d(x))
        return grids


class AttributeDiscriminator(nn.Module):
    """StarGAN's D: stride-2 4x4 convolutions (w, 2w, 4w, ...; LeakyReLU 0.01, no norm) down to 2x2, then
    two heads on the same features: a 3x3 conv giving one realness score per patch, and a conv over the
    whole 2x2 map giving ``num_logits`` attribute logits (N, num_logits).

    At 128x128 this is the paper's six-layer D (2x2 patch scores); smaller images get fewer layers.
    """

    def __init__(self, in_channels: int, size: int, width: int, num_logits: int):
        super().__init__()
        layers = size.bit_length() - 2  # log2(size) - 1: 32 -> 4 layers, 128 -> 6
        if 1 << (layers + 1) != size or layers < 1:
            raise ValueError(f"StarGAN's D needs a power-of-two image size >= 4, not {size}")
        stages, c_in = [], in_channels
        for i in range(layers):
            stages += [nn.Conv2d(c_in, width * 2 ** i, 4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            c_in = width * 2 ** i
        self.trunk = nn.Sequential(*stages)
        self.realness = nn.Conv2d(c_in, 1, 3, padding=1, bias=False)
        self.attributes = nn.Conv2d(c_in, num_logits, 2, bias=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(patch scores (N, 1, 2, 2), attribute logits (N, num_logits))."""
        features = self.trunk(x)
        return self.realness(features), self.attributes(features).flatten(1)
