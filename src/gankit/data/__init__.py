"""Datasets by name: ``load_dataset("mnist", ...)``; ``DATASETS`` lists the names."""
from __future__ import annotations

from typing import Optional, Union

from gankit.data.base import Batch, DataSpec, ImageDataset, float_to_uint8, uint8_to_float
from gankit.data.images import FolderImages, data_root, digits, draw_holdout, image_folder, resize, torchvision_set
from gankit.data.superres import FolderPhotos, Photos, is_photo_data, photo_folder, shipped_photos
from gankit.data.toy2d import GaussianMixture2D, grid25, ring8
from gankit.data.translation import MNIST_DOMAINS, TwoDomainDataset, mnist_domain, mnist_translation, translation_folder
from gankit.errors import GankitError

ImageData = Union[ImageDataset, TwoDomainDataset]
Dataset = Union[ImageData, Photos, GaussianMixture2D]

DATASETS = {
    "ring8": "8 Gaussians on the unit circle (2-D mode-collapse benchmark)",
    "grid25": "25 Gaussians on a 5x5 grid (2-D mode-collapse benchmark)",
    "digits": "scikit-learn's 1,797 8x8 handwritten digits (embedded, offline)",
    "mnist": "MNIST 28x28 (torchvision layout under --data-root; downloads when online)",
    "fashion-mnist": "Fashion-MNIST 28x28 (as mnist)",
    "mnist-edges": "MNIST's digits as outline drawings (same labels; derived from mnist)",
    "mnist-m": "MNIST digits blended onto colour photo crops (MNIST-M recipe; derived from mnist, cached)",
    "mnist-colour": "MNIST digits inked in 5 colours on black or white (attributes colour, background; from mnist)",
    "folder:PATH": "every image under PATH, centre-cropped and resized (data.image_size, default 64); "
                   "a seeded share (data.holdout, default 0.1) is kept out of training for evaluation",
    "pairs:A>B": "translation pairs, the same digit in A and B (A, B: mnist, mnist-edges, mnist-m, mnist-colour)",
    "unpaired:A>B": "unpaired translation: A from the even-indexed digits, B from the odd ones",
    "pairs:folder:PATH": "pix2pix layout: side-by-side A|B images in PATH/train/ and PATH/test/ (or val/)",
    "unpaired:folder:PATH": "CycleGAN layout: PATH/trainA/, trainB/, testA/, testB/",
    "photos": "super-resolution: random crops (data.image_size, default 96) of 4 colour photos shipped with "
              "scikit-image; 3 other photos (scikit-image, scikit-learn) held out whole for testing",
    "photos:folder:PATH": "super-resolution: random crops of every image under PATH at full resolution; "
                          "a seeded share of whole images (data.holdout) is kept out of training",
}
DERIVED_FROM_MNIST = MNIST_DOMAINS[1:]  # mnist-edges, mnist-m, mnist-colour
# read from a torchvision-layout folder (--data-root / $GANKIT_DATA), as are pairs:A>B and unpaired:A>B
ROOTED = ("mnist", "fashion-mnist", *DERIVED_FROM_MNIST)
FOLDER_PREFIXES = ("folder:", "pairs:folder:", "unpaired:folder:", "photos:folder:")


def split_folder(name: str) -> Optional[tuple[str, str]]:
    """(prefix, PATH) of an image-folder dataset name (folder:PATH, pairs:folder:PATH, unpaired:folder:PATH,
    photos:folder:PATH)."""
    prefix = next((prefix for prefix in FOLDER_PREFIXES if name.startswith(prefix)), None)
    return None if prefix is None else (prefix, name[len(prefix):])


def is_rooted(name: str) -> bool:
    """Whether dataset ``name`` is read from a torchvision-layout folder (data.root)."""
    return name in ROOTED or (name.startswith(("pairs:", "unpaired:")) and split_folder(name) is None)


def load_dataset(name: str, root: Optional[str] = None, split: str = "train",
                 image_size: Optional[int] = None, channels: Optional[int] = None,
                 download: bool = True) -> Dataset:
    """Load a dataset by name; images come back resized to ``image_size`` when given (super-resolution
    photos stay whole: ``image_size`` is the side of their training crops)."""
    if is_photo_data(name):
        if channels not in (None, 3):
            raise GankitError(f"super-resolution photos are colour images; data.channels must be 3 (or unset), "
                              f"not {channels}.")
        if name == "photos":
            return shipped_photos(split, image_size)
        return photo_folder(split_folder(name)[1], image_size)
    if name == "ring8":
        return ring8()
    if name == "grid25":
        return grid25()
    folder = split_folder(name)
    if folder is not None:
        prefix, path = folder
        if prefix == "folder:":
            return image_folder(path, image_size, channels)
        return translation_folder(path, prefix == "pairs:folder:", split, image_size, channels)
    if name == "digits":
        dataset = digits(split)
    elif name in ("mnist", "fashion-mnist"):
        dataset = torchvision_set(name, root, split, download)
    elif name in DERIVED_FROM_MNIST:
        dataset = mnist_domain(name, torchvision_set("mnist", root, split, download), split)
    elif name.startswith(("pairs:", "unpaired:")):
        dataset = mnist_translation(name, root, split, download)
    else:
        raise GankitError(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}.")
    return resized(dataset, image_size)


def resized(dataset: ImageData, size: Optional[int]) -> ImageData:
    """``dataset`` with its images (both domains' for two-domain data) resized to size x size (antialiased);
    None keeps it."""
    if isinstance(dataset, TwoDomainDataset):
        return TwoDomainDataset(dataset.spec.name, resized(dataset.a, size), resized(dataset.b, size),
                                dataset.spec.paired)
    if size is None or dataset.spec.shape[-1] == size:
        return dataset
    return dataset.with_images(resize(dataset.images, size))


__all__ = ["Batch", "DataSpec", "Dataset", "DATASETS", "FolderImages", "FolderPhotos", "GaussianMixture2D",
           "ImageDataset", "Photos", "ROOTED",
           "TwoDomainDataset", "data_root", "draw_holdout", "float_to_uint8", "is_rooted", "load_dataset", "resized",
           "split_folder", "uint8_to_float"]
