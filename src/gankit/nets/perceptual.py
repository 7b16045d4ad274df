"""The feature network of the perceptual losses: torchvision's VGG19 with the user's ImageNet weights.

No weights can be downloaded here, so they come from a file the user names
(``options.vgg_weights``) or, when none is named, from torch's hub cache, where
torchvision keeps the file it downloads (``$TORCH_HOME/hub/checkpoints/vgg19-dcbbe544.pth``,
by default under ~/.cache/torch). Files are read with ``weights_only=True``, so no
pickled code runs; a file that is not a VGG19 state dict is one clear error.
Only the convolutional part (``features``) is used, so a state dict of that part
alone is enough.

Images come in gankit's range, [-1, 1]; the network is fed what it was trained
on, (x + 1) / 2 normalised with ImageNet's per-channel mean and std, inside the
forward pass.
"""
from __future__ import annotations

import pickle
from functools import lru_cache
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.metrics.features import IMAGENET_MEAN, IMAGENET_STD

VGG19_FILE = "vgg19-dcbbe544.pth"  # the name torchvision gives its ImageNet weights file
VGGLayer = Literal["relu2_2", "conv5_4", "relu5_4"]
# How many modules of torchvision's vgg19().features each layer's output takes: SRGAN's VGG54 is the 4th
# convolution before the 5th pooling, after its ReLU; ESRGAN takes the same convolution before the ReLU.
VGG19_CUTS = {"relu2_2": 9, "conv5_4": 35, "relu5_4": 36}


def hub_cache_file() -> Path:
    """Where torchvision keeps its downloaded VGG19 weights (respects $TORCH_HOME)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def find_vgg19_weights(path: str) -> Path | None:
    """The VGG19 weights file to use: ``path`` when given (it must exist), else torch's hub cache file
    when it is there; None when neither is."""
    if path:
        given = Path(path).expanduser()
        if not given.is_file():
            raise GankitError(f"the VGG19 weights file {given} (options.vgg_weights) does not exist.")
        return given.resolve()
    cached = hub_cache_file()
    return cached if cached.is_file() else None


class VGG19Features(nn.Module):
    """VGG19's activations at ``layer`` for images in [-1, 1], from the weights file at ``path``;
    frozen, in eval mode."""

    def __init__(self, path: str | Path, layer: VGGLayer):
        from torchvision.models.vgg import cfgs, make_layers

        super().__init__()
        if not Path(path).is_file():
            raise GankitError(f"the VGG19 weights file {path} (options.vgg_weights) does not exist.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as error:  # not torch's, or cut
            raise GankitError(f"{path} is not a weights file torch.load can read without running code "
                              f"({type(error).__name__}).") from None
        features = make_layers(cfgs["E"])  # VGG19's convolutional part, as torchvision builds it
        try:
            features.load_state_dict({key[len("features."):]: value for key, value in state.items()
                                      if key.startswith("features.")})
        except (RuntimeError, AttributeError, TypeError):
            raise GankitError(f"{path} does not hold torchvision VGG19 weights (a state dict with its "
                              f"features.N.weight and features.N.bias layers and their shapes).") from None
        self.path, self.layer = str(path), layer
        self.net = features[:VGG19_CUTS[layer]].eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: Tensor) -> Tensor:
        return self.net((images.add(1).div(2) - self.mean) / self.std)

    def describe(self) -> str:
        return f"vgg19 {self.layer} ({self.path})"


@lru_cache(maxsize=2)
def vgg19_features(path: str, layer: VGGLayer) -> VGG19Features:
    """VGG19Features, loaded once per process and file: a model holds no copy of its own, so the feature
    network stays out of its state_dict and checkpoints."""
    return VGG19Features(path, layer)
