"""Image datasets, loaded once into memory as uint8 tensors."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable, Collection, Optional

import torch
from torch import Tensor

from gankit.data.base import ImageDataset
from gankit.errors import DataNotFound, GankitError

DEFAULT_DATA_ROOT = Path.home() / ".cache" / "gankit" / "data"


def data_root(root: Optional[str]) -> Path:
    """--data-root, else $GANKIT_DATA, else ~/.cache/gankit/data."""
    return Path(root or os.environ.get("GANKIT_DATA") or DEFAULT_DATA_ROOT).expanduser()


def resize(images: Tensor, size: Optional[int]) -> Tensor:
    """Resize a uint8 (N, C, H, W) batch to size x size (antialiased); None keeps it."""
    if size is None or tuple(images.shape[-2:]) == (size, size):
        return images
    import torchvision.transforms.v2.functional as TF

    return TF.resize(images, [size, size], antialias=True)


def digits(split: str = "train") -> ImageDataset:
    """scikit-learn's 1,797 8x8 handwritten digits, grey levels 0..16 scaled to 0..255.

    The set is too small to split usefully, so train and test are the same images.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images).mul(255.0 / 16.0).round().to(torch.uint8).unsqueeze(1)
    labels = torch.from_numpy(bunch.target).long()
    return ImageDataset("digits", images, labels, num_classes=10)


_TORCHVISION_SETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def torchvision_set(name: str, root: Optional[str], split: str, download: bool) -> ImageDataset:
    """MNIST or Fashion-MNIST from ROOT/<Class>/raw, downloading it when allowed and online."""
    import torchvision.datasets

    folder = data_root(root)
    cls = getattr(torchvision.datasets, _TORCHVISION_SETS[name])
    train = split == "train"
    try:
        dataset = cls(str(folder), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DataNotFound(
                f"{name} was not found under {folder}; pass --data-root (or set GANKIT_DATA) to a "
                f"folder holding {cls.__name__}/raw/, or allow downloading.") from None
        try:
            dataset = cls(str(folder), train=train, download=True)
        except Exception as error:  # any network or file error means the same thing to the user
            raise DataNotFound(
                f"{name} was not found under {folder} and could not be downloaded ({type(error).__name__}); "
                f"pass --data-root (or set GANKIT_DATA) to a folder holding {cls.__name__}/raw/.") from None
    except Exception as error:
        raise GankitError(f"{name} under {folder} could not be read ({error}); "
                          f"delete the damaged files or point --data-root elsewhere.") from None
    return ImageDataset(name, dataset.data.unsqueeze(1).contiguous(), dataset.targets.long(), num_classes=10)


def load_photos(names: tuple[str, ...], what: str) -> list[Tensor]:
    """The named colour photos as uint8 (H, W, 3): scikit-learn's sample images (china, flower),
    else scikit-image's bundled ``skimage.data`` images. ``what`` names them in the error message."""
    import numpy as np
    import skimage.data
    from sklearn.datasets import load_sample_image

    def photo(name: str) -> np.ndarray:
        return load_sample_image(f"{name}.jpg") if name in ("china", "flower") else getattr(skimage.data, name)()

    try:
        return [torch.from_numpy(np.array(photo(name))) for name in names]  # a writable copy
    except Exception as error:  # an old scikit-image may fetch some photos over the network
        raise DataNotFound(f"{what} could not be loaded from scikit-image and scikit-learn "
                           f"({type(error).__name__}: {str(error)[:100]}); scikit-image 0.26 and scikit-learn ship "
                           f"all of them ({', '.join(names)}).") from None


GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")  # PIL modes that hold one grey channel


def pil_mode(channels: Optional[int]) -> Optional[str]:
    """PIL's mode for data.channels: "L" for 1, "RGB" for 3, None (each image keeps its own) when unset."""
    if channels not in (None, 1, 3):
        raise GankitError(f"data.channels must be 1 or 3 for an image folder, not {channels}.")
    return {1: "L", 3: "RGB", None: None}[channels]


def image_files(folder: Path) -> list[Path]:
    """The files under ``folder`` (recursively, sorted by path) whose extensions name images."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMG_EXTENSIONS and p.is_file())


def read_image(file: Path, mode: Optional[str], size: Optional[int] = None) -> Tensor:
    """One image file as uint8 (C, H, W): converted to ``mode`` ("L" or "RGB"; None reads a greyscale image as
    one channel and any other as RGB), and when ``size`` is given centre-cropped and resized to size x size."""
    import torchvision.transforms.v2.functional as TF
    from PIL import Image

    with Image.open(file) as img:
        image = TF.pil_to_tensor(img.convert(mode or ("L" if img.mode in GREY_MODES else "RGB")))
    return image if size is None else square(image, size)[0]


UNREADABLE = (OSError, ValueError)  # what PIL raises for a damaged or foreign file (UnidentifiedImageError is an OSError)


def readable(folder: Path, files: list[Path], read: Callable[[Path], object]) -> list[tuple[Path, object]]:
    """(file, read(file)) for each of ``files`` that ``read`` manages; the rest are skipped with one warning
    line that counts them, and finding none is an error."""
    found, skipped = [], []
    for file in files:
        try:
            found.append((file, read(file)))
        except UNREADABLE as error:
            skipped.append(f"{file.relative_to(folder)}: {error}")
    if skipped:  # one line for the lot, however many there are
        warnings.warn(f"skipping {len(skipped)} unreadable image file(s) in {folder} (the first, "
                      f"{skipped[0]})", stacklevel=3)
    if not found:
        detail = f" ({len(skipped)} unreadable)" if skipped else ""
        raise GankitError(f"no readable images found in {folder}{detail}.")
    return found


def read_images(folder: Path, mode: Optional[str], size: Optional[int] = None) -> list[tuple[Path, Tensor]]:
    """(file, uint8 (C, H, W)) for every readable image under ``folder`` (recursively, sorted by path), each
    read by ``read_image`` (so resized to ``size`` as it is read, when given). Unreadable files are skipped
    with a warning; finding none is an error."""
    return readable(folder, image_files(folder), lambda file: read_image(file, mode, size))


def square(image: Tensor, size: int) -> Tensor:
    """A (C, H, W) image centre-cropped to a square and resized to size x size, as a batch of one."""
    import torchvision.transforms.v2.functional as TF

    side = min(image.shape[-2:])
    return resize(TF.center_crop(image, [side, side]).unsqueeze(0), size)


class FolderImages(ImageDataset):
    """An image folder's images with each one's path relative to the folder (``files``), so that a run
    can record which images it kept out of training; ``held_out`` marks a set of such images."""

    def __init__(self, name: str, images: Tensor, files: list[str], held_out: bool = False):
        super().__init__(name, images)
        self.files = files
        self.held_out = held_out

    def part(self, held_out_files: Collection[str], held_out: bool) -> "FolderImages":
        """The images named in ``held_out_files`` (``held_out=True``), or all the others."""
        names = set(held_out_files)
        keep = [i for i, file in enumerate(self.files) if (file in names) == held_out]
        return FolderImages(self.spec.name, self.images[keep], [self.files[i] for i in keep], held_out)


MIN_FOLDER_IMAGES = 20  # below this a held-out split leaves too little on one side to train or to score


def draw_holdout(dataset: FolderImages, fraction: float, seed: int) -> list[str]:
    """The files (sorted) of a seeded random ``fraction`` of ``dataset``, at least one, to keep out of training."""
    if len(dataset) < MIN_FOLDER_IMAGES:
        raise GankitError(f"{dataset.spec.name} holds {len(dataset)} readable images; a run keeps a held-out "
                          f"share (data.holdout) for evaluation, so it needs at least {MIN_FOLDER_IMAGES}.")
    count = max(1, round(fraction * len(dataset)))
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    return sorted(dataset.files[i] for i in order[:count].tolist())


def memory_budget_bytes(gib: Optional[float]) -> int:
    """data.memory_budget in bytes; None: a quarter of this machine's RAM (1 GiB where it cannot be read)."""
    if gib is not None:
        return int(gib * 2**30)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        return 2**30


def image_folder(path: str, image_size: Optional[int], channels: Optional[int], memory_budget: Optional[float] = None,
                 workers: Optional[int] = None):
    """Every readable image under PATH (recursively), centre-cropped and resized (default 64, RGB).

    A folder whose decoded images fit ``memory_budget`` GiB (default a quarter of RAM) is read into memory
    (``FolderImages``); a larger one streams from disk through ``workers`` DataLoader processes
    (``gankit.data.stream``). Unreadable files are skipped with a warning; an empty result is an error.
    """
    from gankit.data.stream import StreamedFolder, scan_folder

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataNotFound(f"image folder {folder} does not exist.")
    mode = pil_mode(channels) or "RGB"
    size = image_size or 64
    files = image_files(folder)
    needed, budget = len(files) * len(mode) * size * size, memory_budget_bytes(memory_budget)
    if needed > budget:
        return StreamedFolder(f"folder:{folder}", scan_folder(folder, files, mode, size, workers))
    found = readable(folder, files, lambda file: read_image(file, mode, size))
    return FolderImages(f"folder:{folder}", torch.stack([image for _, image in found]),
                        [file.relative_to(folder).as_posix() for file, _ in found])
