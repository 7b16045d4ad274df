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
from gankit.nets.paper_cnns import (BEGAN_SIZES, SNGAN_SIZES, BEGANDecoder, SNGANDiscriminator,
                                    SNGANGenerator)

# mlp: fully connected; dcgan: Radford et al.'s all-conv nets; fc-conv: the InfoGAN paper's MNIST nets;
# sngan: the SNGAN paper's standard CNN; began: BEGAN's ELU decoder (G) and autoencoder (D)
ARCHITECTURES = ("auto", "mlp", "dcgan", "fc-conv", "sngan", "began")
IMAGE_SIZES = {"dcgan": DCGAN_SIZES, "fc-conv": FC_CONV_SIZES, "sngan": SNGAN_SIZES, "began": BEGAN_SIZES}


def resolve_arch(arch: str, data: DataSpec, image_default: str = "dcgan") -> str:
    """'auto' means MLP for 2-D points and ``image_default`` (DCGAN unless a model says) for images."""
    if arch == "auto":
        return image_default if data.is_image else "mlp"
    if arch != "mlp" and not data.is_image:
        raise ValueError(f"the {arch} networks need image data, and {data.name} is 2-D points")
    return arch


def image_sizes(arch: str) -> Optional[ImageSizes]:
    """The image sizes the networks of ``arch`` support; None: any size."""
    return IMAGE_SIZES.get(arch)


def build_generator(arch: str, data: DataSpec, z_dim: int, width: int, norm: str = "batch") -> nn.Module:
    arch = resolve_arch(arch, data)
    if arch == "dcgan":
        return DCGANGenerator(z_dim, data.shape, width=width, norm=norm)
    if arch == "fc-conv":
        return FCConvGenerator(z_dim, data.shape, norm=norm, hidden=16 * width, channels=2 * width)
    if arch == "sngan":
        return SNGANGenerator(z_dim, data.shape, width=width, norm=norm)
    if arch == "began":
        return BEGANDecoder(z_dim, data.shape, n=width)
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
    if arch == "sngan":
        return SNGANDiscriminator(data.shape, width, out_dim, norm=norm, spectral_norm=spectral_norm, pack=pack)
    if arch == "began":
        raise ValueError("the began networks' D is an autoencoder, for began and ebgan; choose other nets")
    hidden = (width,) * 3 if not data.is_image else (width * 4, width * 2)
    return MLPDiscriminator(data.shape, hidden=hidden, out_dim=out_dim, norm="none" if norm == "batch" else norm,
                            spectral_norm=spectral_norm, pack=pack)


__all__ = ["ARCHITECTURES", "DCGANDiscriminator", "DCGANGenerator", "FCConvDiscriminator", "FCConvGenerator",
           "MLPDiscriminator", "MLPGenerator", "build_discriminator", "build_generator", "image_sizes",
           "resolve_arch"]
