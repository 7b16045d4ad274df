"""Reusable networks. ``build_generator``/``build_discriminator`` let the data pick them."""
from __future__ import annotations

from typing import Optional

from torch import nn

from gankit.data import DataSpec
from gankit.nets.blocks import ImageSizes
from gankit.nets.dcgan import SIZES as DCGAN_SIZES
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.fc_conv import SIZES as FC_CONV_SIZES
from gankit.nets.fc_conv import FCConvDiscriminator, FCConvGenerator
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator

# mlp: fully connected; dcgan: Radford et al.'s all-conv nets; fc-conv: the InfoGAN paper's MNIST nets
ARCHITECTURES = ("auto", "mlp", "dcgan", "fc-conv")
IMAGE_SIZES = {"dcgan": DCGAN_SIZES, "fc-conv": FC_CONV_SIZES}  # the image sides each conv family takes


def resolve_arch(arch: str, data: DataSpec) -> str:
    """'auto' means MLP for 2-D points and DCGAN for images."""
    if arch == "auto":
        return "dcgan" if data.is_image else "mlp"
    if arch != "mlp" and not data.is_image:
        raise ValueError(f"the {arch} networks need image data, and {data.name} is 2-D points")
    return arch


def image_sizes(arch: str) -> Optional[ImageSizes]:
    """The image sizes the networks of ``arch`` ('auto' meaning dcgan) support; None: any size."""
    return IMAGE_SIZES.get("dcgan" if arch == "auto" else arch)


def build_generator(arch: str, data: DataSpec, z_dim: int, width: int, norm: str = "batch") -> nn.Module:
    arch = resolve_arch(arch, data)
    if arch == "dcgan":
        return DCGANGenerator(z_dim, data.shape, width=width, norm=norm)
    if arch == "fc-conv":
        return FCConvGenerator(z_dim, data.shape, norm=norm, hidden=16 * width, channels=2 * width)
    hidden = (width,) * 3 if not data.is_image else (width, width * 2, width * 4)
    return MLPGenerator(z_dim, data.shape, hidden=hidden, norm=norm if data.is_image else "none")


def build_discriminator(arch: str, data: DataSpec, width: int, out_dim: int = 1, norm: str = "batch",
                        spectral_norm: bool = False, pack: int = 1) -> nn.Module:
    arch = resolve_arch(arch, data)
    if arch == "dcgan":
        return DCGANDiscriminator(data.shape, width=width, out_dim=out_dim, norm=norm,
                                  spectral_norm=spectral_norm, pack=pack)
    if arch == "fc-conv":
        if pack > 1:
            raise ValueError("the fc-conv networks do not pack samples (PacGAN); use nets=dcgan or mlp")
        return FCConvDiscriminator(data.shape, out_dim, norm=norm, spectral_norm=spectral_norm, hidden=16 * width,
                                   channels=2 * width)
    hidden = (width,) * 3 if not data.is_image else (width * 4, width * 2)
    return MLPDiscriminator(data.shape, hidden=hidden, out_dim=out_dim, norm="none" if norm == "batch" else norm,
                            spectral_norm=spectral_norm, pack=pack)


__all__ = ["ARCHITECTURES", "DCGANDiscriminator", "DCGANGenerator", "FCConvDiscriminator", "FCConvGenerator",
           "MLPDiscriminator", "MLPGenerator", "build_discriminator", "build_generator", "image_sizes",
           "resolve_arch"]
