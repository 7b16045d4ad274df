"""The 2-D mode-collapse metrics (VEEGAN / PacGAN protocol, see MODELS.md)."""
from __future__ import annotations

import torch
from torch import Tensor


def mode_metrics(samples: Tensor, modes: Tensor, std: float) -> dict[str, float]:
    """Modes covered, % high-quality samples and reverse KL to uniform over modes.

    A sample is high quality when it lies within 3 std of its nearest mode; a
    mode is covered when at least one high-quality sample is nearest to it; the
    reverse KL is KL(histogram of high-quality samples over modes || uniform),
    which is undefined (reported as None) when no sample is high quality.
    """
    samples, modes = samples.double().cpu(), modes.double().cpu()
    distance, nearest = torch.cdist(samples, modes).min(dim=1)
    high_quality = distance <= 3 * std
    counts = torch.bincount(nearest[high_quality], minlength=len(modes)).double()
    total = counts.sum().item()
    if total > 0:
        p = counts[counts > 0] / total
        reverse_kl = float((p * (p * len(modes)).log()).sum())
    else:
        reverse_kl = None
    return {
        "modes_covered": int((counts > 0).sum()),
        "modes_total": len(modes),
        "high_quality_pct": 100.0 * high_quality.double().mean().item(),
        "reverse_kl": reverse_kl,
    }

