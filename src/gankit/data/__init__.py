"""Datasets by name: ``load_dataset("mnist", ...)``; ``DATASETS`` lists the names."""
from __future__ import annotations

from typing import Optional, Union

from gankit.data.base import Batch, DataSpec, ImageDataset, float_to_uint8, uint8_to_float
from gankit.data.images import data_root, digits, image_folder, resize, torchvision_set
from gankit.data.toy2d import GaussianMixture2D, grid25, ring8
from gankit.errors import GankitError

Dataset = Union[ImageDataset, GaussianMixture2D]

DATASETS = {
    "ring8": "8 Gaussians on the unit circle (2-D mode-collapse benchmark)",
    "grid25": "25 Gaussians on a 5x5 grid (2-D mode-collapse benchmark)",
    "digits": "scikit-learn's 1,797 8x8 handwritten digits (embedded, offline)",
    "mnist": "MNIST 28x28 (torchvision layout under --data-root; downloads when online)",
    "fashion-mnist": "Fashion-MNIST 28x28 (as mnist)",
    "folder:PATH": "every image under PATH, centre-cropped and resized (data.image_size, default 64)",
}
ROOTED = ("mnist", "fashion-mnist")  # read from a torchvision-layout folder (--data-root / $GANKIT_DATA)


def load_dataset(name: str, root: Optional[str] = None, split: str = "train",
                 image_size: Optional[int] = None, channels: Optional[int] = None,
                 download: bool = True) -> Dataset:
    """Load a dataset by name; images come back resized to ``image_size`` when given."""
    if name == "ring8":
        return ring8()
    if name == "grid25":
        return grid25()
    if name.startswith("folder:"):
        return image_folder(name.split(":", 1)[1], image_size, channels)
    if name == "digits":
        dataset = digits(split)
    elif name in ("mnist", "fashion-mnist"):
        dataset = torchvision_set(name, root, split, download)
    else:
        raise GankitError(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}.")
    return resized(dataset, image_size)


def resized(dataset: ImageDataset, size: Optional[int]) -> ImageDataset:
    """``dataset`` with its images resized to size x size (antialiased); None keeps it."""
    if size is None or dataset.spec.shape[-1] == size:
        return dataset
    return ImageDataset(dataset.spec.name, resize(dataset.images, size), dataset.labels, dataset.spec.num_classes)


__all__ = ["Batch", "DataSpec", "Dataset", "DATASETS", "GaussianMixture2D", "ImageDataset", "ROOTED",
           "data_root", "float_to_uint8", "load_dataset", "resized", "uint8_to_float"]
