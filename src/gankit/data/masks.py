"""Inpainting masks: which pixels of an image are hidden (1, the hole) and which are kept (0).

One ``MaskGenerator`` serves training and evaluation alike (the widely copied
context-encoder script trains on random blocks and tests on the centre, so its
test holes come from another distribution than its training holes). Kinds:

- ``center``: a square hole of side ``mask_size`` x the image side, centred
  (``mask_size=0.5`` hides a quarter of the image);
- ``block``: the same square at a position drawn uniformly per image;
- ``strokes``: ``strokes`` brush strokes per image, each a random walk of
  ``STROKE_SEGMENTS`` straight segments of random direction, each up to
  ``mask_size`` x the side long, drawn ``stroke_width`` x the side wide.

Every random number is drawn on the CPU from the generator given (the global
one when None), so a seed gives the same masks on any device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from gankit.errors import GankitError

MaskKind = Literal["center", "block", "strokes"]
MASK_KINDS: tuple[MaskKind, ...] = ("center", "block", "strokes")
STROKE_SEGMENTS = 4
RASTER_CHUNK = 64  # strokes are drawn for this many images at a time (pixels x segments distances each)


def composite(known: Tensor, filled: Tensor, mask: Tensor) -> Tensor:
    """(1 - m) known + m filled: ``known`` outside the hole, ``filled`` inside it."""
    return (1 - mask) * known + mask * filled


@dataclass(frozen=True)
class MaskGenerator:
    kind: MaskKind = "center"
    mask_size: float = 0.5  # center, block: the hole's side as a share of the image side; strokes: segment length
    strokes: int = 4  # strokes: how many per image
    stroke_width: float = 0.1  # strokes: their width as a share of the image side

    def __post_init__(self):
        if self.kind not in MASK_KINDS:
            raise GankitError(f"unknown mask '{self.kind}'; choose one of {', '.join(MASK_KINDS)}.")
        if self.mask_size >= 1:
            raise GankitError(f"mask_size {self.mask_size} makes holes at least as large as the image: it is the "
                              f"hole's side as a share of the image side, so it must lie below 1 (0.5 hides a "
                              f"quarter of the image).")
        if self.stroke_width >= 1:
            raise GankitError(f"stroke_width {self.stroke_width} makes strokes as wide as the image or wider "
                              f"(it is a share of the image side), so it must lie below 1.")
        if self.mask_size <= 0 or self.stroke_width <= 0 or self.strokes < 1:
            raise GankitError("mask_size and stroke_width must be positive and strokes at least 1.")

    def hole_side(self, side: int) -> int:
        """The side in pixels of a center or block hole in a side x side image."""
        hole = max(1, round(self.mask_size * side))
        if hole >= side:
            raise GankitError(f"mask_size {self.mask_size} makes the hole {hole} pixels wide in a {side}x{side} "
                              f"image, as large as the image; choose a smaller mask_size.")
        return hole

    def __call__(self, n: int, side: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` masks for side x side images: float (n, 1, side, side) on the CPU, 1 in the hole."""
        if self.kind == "strokes":
            return self._strokes(n, side, generator)
        hole = self.hole_side(side)
        if self.kind == "center":
            corners = torch.full((n, 2), (side - hole) // 2)
        else:
            corners = torch.randint(0, side - hole + 1, (n, 2), generator=generator)
        pixels = torch.arange(side)
        inside = (pixels >= corners[:, :, None]) & (pixels < corners[:, :, None] + hole)  # (n, 2, side)
        return (inside[:, 0, :, None] & inside[:, 1, None, :]).float().unsqueeze(1)

    def _strokes(self, n: int, side: int, generator: torch.Generator | None) -> Tensor:
        starts = torch.rand(n, self.strokes, 1, 2, generator=generator) * side
        angles = torch.rand(n, self.strokes, STROKE_SEGMENTS, generator=generator) * 2 * math.pi
        lengths = torch.rand(n, self.strokes, STROKE_SEGMENTS, generator=generator) * self.mask_size * side
        steps = torch.stack([angles.cos(), angles.sin()], -1) * lengths[..., None]
        vertices = torch.cat([starts, starts + steps.cumsum(2)], 2)  # (n, strokes, segments + 1, 2)
        heads, tails = vertices[:, :, :-1].flatten(1, 2), vertices[:, :, 1:].flatten(1, 2)  # (n, segments, 2)
        radius = max(0.5, self.stroke_width * side / 2)
        rows, cols = torch.meshgrid(torch.arange(side) + 0.5, torch.arange(side) + 0.5, indexing="ij")
        centres = torch.stack([cols, rows], -1).view(1, -1, 1, 2)  # every pixel's centre as (x, y)
        chunks = [_near_segments(centres, heads[i:i + RASTER_CHUNK], tails[i:i + RASTER_CHUNK], radius)
                  for i in range(0, n, RASTER_CHUNK)]
        return torch.cat(chunks).view(n, 1, side, side)


def _near_segments(points: Tensor, a: Tensor, b: Tensor, radius: float) -> Tensor:
    """For each image, whether each point (1, P, 1, 2) lies within ``radius`` of any of its segments
    a -> b (N, S, 2): float (N, P)."""
    a, b = a[:, None], b[:, None]  # (N, 1, S, 2)
    direction = b - a
    along = ((points - a) * direction).sum(-1) / direction.pow(2).sum(-1).clamp_min(1e-12)
    nearest = a + along.clamp(0, 1)[..., None] * direction
    return ((points - nearest).pow(2).sum(-1) <= radius ** 2).any(-1).float()
