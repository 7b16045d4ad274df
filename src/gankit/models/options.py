"""Options every adversarial model of the zoo offers: networks, optimiser recipe and the D-side extras."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from gankit.augment import parse_policy
from gankit.errors import GankitError

Norm = Literal["batch", "layer", "instance", "none"]
# auto: MLP for 2-D points, the model's image nets (DCGAN unless it says otherwise) for images
Nets = Literal["auto", "mlp", "dcgan", "fc-conv", "sngan", "began"]
LossName = Literal["ns", "minimax", "lsgan", "wasserstein", "hinge"]  # losses.ADVERSARIAL_LOSSES keys
Optimizer = Literal["adam", "rmsprop", "sgd"]


@dataclass
class BaseOptions:
    z_dim: int = 64
    nets: Nets = "auto"
    # hidden units (MLP, default 256) or base channels (DCGAN, default 64; fc-conv: 64 is the InfoGAN paper's)
    width: Optional[int] = None
    g_norm: Norm = "batch"  # G's normalisation (convolutional / image G only)
    d_norm: Norm = "batch"  # D's normalisation (DCGAN D; the MLP D has none unless 'layer')
    optimizer: Optimizer = "adam"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1  # D steps (each on a fresh batch) per G step
    spectral_norm: bool = False  # spectral normalisation on every layer of D (Miyato et al. 2018)
    r1_gamma: float = 0.0  # > 0 adds gamma/2 * E||grad D(x)||^2 at real data (Mescheder et al. 2018)
    diffaugment: str = ""  # DiffAugment policy for image data, e.g. "color,translation,cutout"

    def validate(self) -> None:
        for key in ("z_dim", "n_critic"):
            if getattr(self, key) < 1:
                raise GankitError(f"options.{key} must be at least 1, not {getattr(self, key)}.")
        if self.width is not None and self.width < 1:
            raise GankitError(f"options.width must be at least 1, not {self.width}.")
        if self.lr <= 0 or self.r1_gamma < 0:
            raise GankitError("options.lr must be positive and options.r1_gamma non-negative.")
        parse_policy(self.diffaugment)
