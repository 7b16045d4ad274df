"""Pictures of samples: image grids and 2-D scatter plots over the true modes."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
from torch import Tensor


MIN_CELL = 32  # smaller images are enlarged (nearest neighbour) so a grid stays legible


def save_image_grid(images: Tensor, path: Path, nrow: Optional[int] = None) -> None:
    from torchvision.utils import save_image

    nrow = nrow or max(1, int(len(images) ** 0.5))
    scale = -(-MIN_CELL // images.shape[-1])
    if scale > 1:
        images = torch.nn.functional.interpolate(images.float(), scale_factor=scale, mode="nearest")
    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1, 1), padding=1)


def save_scatter(points: Tensor, path: Path, modes: Optional[Tensor] = None, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    pts = points.float().cpu().numpy()
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, color="tab:blue", label="samples")
    if modes is not None:
        m = modes.cpu().numpy()
        ax.scatter(m[:, 0], m[:, 1], s=40, marker="x", color="tab:red", label="modes")
        span = float(abs(m).max()) * 1.5 + 0.5
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_samples(samples: Tensor, path: Path, modes: Optional[Tensor] = None, title: str = "",
                 nrow: Optional[int] = None) -> None:
    """A grid PNG for images (N, C, H, W; ``nrow`` per row, default square), a scatter PNG for 2-D points (N, 2)."""
    if samples.dim() == 4:
        save_image_grid(samples, path, nrow)
    else:
        save_scatter(samples, path, modes, title)
