"""Reusable networks. ``build_generator``/``build_discriminator`` let the data pick them."""
from __future__ import annotations

from torch import nn

from gankit.data import DataSpec
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator

ARCHITECTURES = ("auto", "mlp", "dcgan")


def resolve_arch(arch: str, data: DataSpec) -> str:
    """'auto' means MLP for 2-D points and DCGAN for images."""
    if arch == "auto":
        return "dcgan" if data.is_image else "mlp"
    if arch == "dcgan" and not data.is_image:
        raise ValueError(f"the dcgan networks need image data, and {data.name} is 2-D points")
    return arch


def build_generator(arch: str, data: DataSpec, z_dim: int, width: int, norm: str = "batch") -> nn.Module:
    if resolve_arch(arch, data) == "dcgan":
        return DCGANGenerator(z_dim, data.shape, width=width, norm=norm)
    hidden = (width,) * 3 if not data.is_image else (width, width * 2, width * 4)
    return MLPGenerator(z_dim, data.shape, hidden=hidden, norm=norm if data.is_image else "none")


def build_discriminator(arch: str, data: DataSpec, width: int, out_dim: int = 1, norm: str = "batch",
                        spectral_norm: bool = False, pack: int = 1) -> nn.Module:
    if resolve_arch(arch, data) == "dcgan":
        return DCGANDiscriminator(data.shape, width=width, out_dim=out_dim, norm=norm,
                                  spectral_norm=spectral_norm, pack=pack)
    hidden = (width,) * 3 if not data.is_image else (width * 4, width * 2)
    return MLPDiscriminator(data.shape, hidden=hidden, out_dim=out_dim, norm="none" if norm == "batch" else norm,
                            spectral_norm=spectral_norm, pack=pack)


__all__ = ["ARCHITECTURES", "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator",
           "build_discriminator", "build_generator", "resolve_arch"]
