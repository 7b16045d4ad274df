"""The inpainting family's reconstruction term, as a pure function of tensors."""
from __future__ import annotations

from torch import Tensor


def masked_l2(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """sum m (G - x)^2 / sum m over every channel: the mean squared error over the hole's elements alone,
    pooled over the batch (Pathak et al.'s L_rec = ||m * (x - G(context))||^2 per hole element). ``mask``
    (N, 1, H, W) is 1 in the hole; a batch without a hole costs 0."""
    hole = mask.expand_as(prediction)
    return (hole * (prediction - target).pow(2)).sum() / hole.sum().clamp_min(1)
