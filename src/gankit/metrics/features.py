"""Feature extraction for the image metrics: gankit's own classifiers, or Inception when available."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor

from gankit.classifier import Classifier
from gankit.errors import GankitError

INCEPTION_ENV = "GANKIT_INCEPTION_WEIGHTS"


@torch.inference_mode()
def classify(net: Classifier, images: Tensor, batch_size: int = 256) -> tuple[Tensor, Tensor]:
    """(features, logits) of float images in [-1, 1], computed in batches on the CPU.

    Batches of a few hundred keep activations in cache: 30% faster than 1,000.
    """
    features = torch.cat([net.features(images[i:i + batch_size].float()) for i in range(0, len(images), batch_size)])
    return features, net.head(features)


def inception_weights(path: Optional[str] = None) -> Optional[str]:
    """The Inception weights to use: ``path``, else $GANKIT_INCEPTION_WEIGHTS; None if neither is set.

    The value ``download`` lets torch-fidelity fetch its weights (online use only).
    """
    return path or os.environ.get(INCEPTION_ENV) or None


@torch.no_grad()
def inception_fid(fake: Tensor, real: Tensor, weights: Optional[str] = None, batch_size: int = 200) -> float:
    """Standard FID on Inception-v3 pool features (2048-d), via torchmetrics and torch-fidelity.

    Images are float in [-1, 1]; grey ones are repeated to three channels. Never
    downloads unless ``weights`` (or $GANKIT_INCEPTION_WEIGHTS) is ``download``.
    """
    weights = inception_weights(weights)
    if weights is None:
        raise GankitError(f"Inception FID needs local Inception weights: set {INCEPTION_ENV} to torch-fidelity's "
                          f"weights file (pt_inception-2015-12-05), or to 'download' when online.")
    if weights != "download" and not Path(weights).is_file():
        raise GankitError(f"the Inception weights file {weights} ({INCEPTION_ENV}) does not exist.")
    from torchmetrics.image.fid import FrechetInceptionDistance

    try:
        metric = FrechetInceptionDistance(feature=2048, normalize=True,
                                          feature_extractor_weights_path=None if weights == "download" else weights)
    except ModuleNotFoundError:
        raise GankitError("Inception FID needs the torch-fidelity package; install it with "
                          "'pip install torch-fidelity'.") from None
    for images, is_real in ((real, True), (fake, False)):
        for i in range(0, len(images), batch_size):
            batch = images[i:i + batch_size].float().add(1).div(2).clamp(0, 1)
            metric.update(batch.expand(-1, 3, -1, -1), real=is_real)
    return float(metric.compute())


# torchvision networks whose ImageNet weights a user may hold as a file: the layer that gives features
FEATURE_NETS = ("resnet18", "resnet50", "vgg16")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class ImageNetFeatures(torch.nn.Module):
    """Penultimate-layer features of a torchvision ImageNet classifier loaded from a weights file
    (``weights_only``: no pickled code runs): the pooled 512 (resnet18) or 2048 (resnet50) numbers
    before the last linear layer, or VGG-16's 4096 fc7 activations.

    Images in [-1, 1] (grey ones repeated to three channels) are resized to 224x224 (bilinear,
    antialiased) and normalised with ImageNet's mean and std, as these networks were trained.
    """

    def __init__(self, name: str, path: str):
        import torchvision

        super().__init__()
        if name not in FEATURE_NETS:
            raise GankitError(f"unknown feature network '{name}'; choose one of {', '.join(FEATURE_NETS)}.")
        if not Path(path).is_file():
            raise GankitError(f"the {name} weights file {path} does not exist.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # unpickling refused, truncated or not a torch file
            raise GankitError(f"{path} is not a weights file torch.load can read without running code "
                              f"({type(error).__name__}).") from None
        net = getattr(torchvision.models, name)(weights=None)
        try:
            net.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError):
            raise GankitError(f"{path} does not hold torchvision {name} weights (a state_dict with its layer "
                              f"names and shapes).") from None
        if name.startswith("resnet"):
            net.fc = torch.nn.Identity()
        else:
            net.classifier = net.classifier[:-1]
        self.name, self.weights, self.net = name, str(path), net.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @torch.inference_mode()
    def forward(self, images: Tensor, batch_size: int = 64) -> Tensor:
        import torch.nn.functional as F

        features = []
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size].float().add(1).div(2).expand(-1, 3, -1, -1)
            x = F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True, align_corners=False)
            features.append(self.net((x - self.mean) / self.std))
        return torch.cat(features)
