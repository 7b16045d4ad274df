"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

The discriminator sees every input, real and fake, through the same family of
random transformations T. Each transformation is differentiable in its input,
so the generator is trained through T as well (``D(T(G(z)))``), which keeps T
from leaking into the generated distribution. Transformations are drawn
independently per sample and per call.

Policies (comma-separated, applied in the order given):

    color        random brightness (+U[-0.5, 0.5]), saturation (x U[0, 2]) and
                 contrast (x U[0.5, 1.5]) per sample
    translation  shift by up to 1/8 of the image size per axis, zero padded
    cutout       zero a random square of half the image size per sample
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError


def _uniform(x: Tensor, low: float, high: float) -> Tensor:
    """One U[low, high) value per sample, shaped to broadcast over (C, H, W)."""
    return low + (high - low) * torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype)


def color(x: Tensor) -> Tensor:
    x = x + _uniform(x, -0.5, 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * _uniform(x, 0.0, 2.0) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(x, 0.5, 1.5) + mean  # contrast


def _offsets(n: int, limit: int, device) -> Tensor:
    return torch.randint(-limit, limit + 1, (n, 1, 1), device=device)


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each sample by whole pixels; what moves in from outside is zero."""
    b, _, h, w = x.shape
    pad_h, pad_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h)).permute(0, 2, 3, 1)  # (B, H', W', C)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + pad_h + _offsets(b, pad_h, x.device)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + pad_w + _offsets(b, pad_w, x.device)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2)  # gather (B, H, W, C) -> (B, C, H, W)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a (ratio*H) x (ratio*W) square centred anywhere in the image (it may be clipped)."""
    b, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h, (b, 1, 1), device=x.device) - size_h // 2
    left = torch.randint(0, w, (b, 1, 1), device=x.device) - size_w // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + size_h) & (cols >= left) & (cols < left + size_w)
    return x * (~hole).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, Callable[[Tensor], Tensor]] = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> list[str]:
    """'color,translation' -> ['color', 'translation']; unknown names are a GankitError."""
    names = [name.strip() for name in policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise GankitError(f"unknown DiffAugment policy '{unknown[0]}' in options.diffaugment; "
                          f"choose from {', '.join(POLICIES)} (comma-separated).")
    return names


class DiffAugment:
    """Callable applying a policy such as ``"color,translation,cutout"``; '' is the identity."""

    def __init__(self, policy: str = ""):
        self.names = parse_policy(policy)

    def __bool__(self) -> bool:
        return bool(self.names)

    def __call__(self, x: Tensor) -> Tensor:
        if self.names and x.dim() != 4:
            raise ValueError("DiffAugment needs image batches of shape (B, C, H, W)")
        for name in self.names:
            x = POLICIES[name](x)
        return x
