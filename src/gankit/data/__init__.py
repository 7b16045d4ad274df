"""Datasets by name: ``load_dataset("mnist", ...)``; ``DATASETS`` lists the names."""
from __future__ import annotations

from typing import Optional, Union

from gankit.catalogue import DATASETS
from gankit.data.base import Batch, DataSpec, ImageDataset, float_to_uint8, uint8_to_float
from gankit.data.images import FolderImages, data_root, digits, draw_holdout, image_folder, resize, torchvision_set
from gankit.data.stream import StreamedFolder
from gankit.data.superres import FolderPhotos, Photos, is_photo_data, photo_folder, shipped_photos
from gankit.data.toy2d import GaussianMixture2D, grid25, ring8
from gankit.data.translation import MNIST_DOMAINS, TwoDomainDataset, mnist_domain, mnist_translation, translation_folder
from gankit.errors import GankitError

ImageData = Union[ImageDataset, StreamedFolder, TwoDomainDataset]
Dataset = Union[ImageData, Photos, GaussianMixture2D]

DERIVED_FROM_MNIST = MNIST_DOMAINS[1:]  # mnist-edges, mnist-m, mnist-colour, mnist-negative
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
                 download: bool = True, memory_budget: Optional[float] = None,
                 workers: Optional[int] = None) -> Dataset:
    """Load a dataset by name; images come back resized to ``image_size`` when given (super-resolution
    photos stay whole: ``image_size`` is the side of their training crops). An image folder (folder:PATH)
    larger than ``memory_budget`` GiB streams from disk through ``workers`` DataLoader processes."""
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
            return image_folder(path, image_size, channels, memory_budget, workers)
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
    """``dataset`` with its images (both domains' for two-domain data) resized to size x size (antialiased;
    a streamed folder decodes them at that size); None keeps it."""
    if isinstance(dataset, StreamedFolder):
        return dataset if size is None or dataset.spec.shape[-1] == size else dataset.resized(size)
    if isinstance(dataset, TwoDomainDataset):
        return TwoDomainDataset(dataset.spec.name, resized(dataset.a, size), resized(dataset.b, size),
                                dataset.spec.paired)
    if size is None or dataset.spec.shape[-1] == size:
        return dataset
    return dataset.with_images(resize(dataset.images, size))


__all__ = ["Batch", "DataSpec", "Dataset", "DATASETS", "FolderImages", "FolderPhotos", "GaussianMixture2D",
           "ImageDataset", "Photos", "ROOTED", "StreamedFolder",
           "TwoDomainDataset", "data_root", "draw_holdout", "float_to_uint8", "is_rooted", "load_dataset", "resized",
           "split_folder", "uint8_to_float"]
