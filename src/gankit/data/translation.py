"""Two-domain data for image-to-image translation: domain A in ``batch.x``, domain B in ``batch.x_b``.

Offline domains derived from MNIST (same digits, same labels, same index order):

- ``mnist-edges``: each digit's outline, deterministic and cheap, so never cached.
- ``mnist-negative``: each digit's negative, 255 - x (CoGAN's second domain of digits), never cached.
- ``mnist-colour``: each digit inked in one of 5 colours on a black or white background,
  drawn per image from a seed; the two choices are the images' named attributes (StarGAN's
  domains). Cheap, never cached.
- ``mnist-m``: the MNIST-M recipe (Ganin & Lempitsky 2015), |photo crop - digit| per channel.
  The photos ship with scikit-image and scikit-learn; train and test crops come from
  different photos. The built images are cached as safetensors.

Folder layouts: pix2pix's side-by-side A|B images (paired) and CycleGAN's
trainA/trainB/testA/testB (unpaired).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from gankit.data.base import Batch, DataSpec, ImageBatches, ImageDataset
from gankit.data.images import load_photos, pil_mode, read_images, square, torchvision_set
from gankit.errors import DataNotFound, GankitError

# mnist first, then those derived from it
MNIST_DOMAINS = ("mnist", "mnist-edges", "mnist-m", "mnist-colour", "mnist-negative")

# mnist-colour: each digit inked in one of these colours on one of these backgrounds (RGB), both drawn
# per image from the split's seed, so the ten colour x background combinations are ten domains.
INKS = {"red": (230, 40, 40), "green": (40, 190, 60), "blue": (40, 90, 235), "yellow": (235, 200, 30),
        "magenta": (200, 50, 200)}
PAPERS = {"black": (0, 0, 0), "white": (255, 255, 255)}
COLOUR_ATTRIBUTES = (("colour", tuple(INKS)), ("background", tuple(PAPERS)))
COLOUR_SEEDS = {"train": 2, "test": 3}

# MNIST-M backgrounds: disjoint photo sets, so no test crop comes from a photo seen in training.
MNIST_M_PHOTOS = {
    "train": ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry"),
    "test": ("china", "flower", "retina"),
}
MNIST_M_SEEDS = {"train": 0, "test": 1}
MNIST_M_VERSION = 1  # part of the cache file name: bump it whenever the recipe changes


class TwoDomainDataset:
    """Images of domain A and domain B, either aligned by index (``paired``) or two independent sets."""

    def __init__(self, name: str, a: ImageDataset, b: ImageDataset, paired: bool):
        if paired and len(a) != len(b):
            raise GankitError(f"{name} has {len(a)} A images but {len(b)} B images; paired data needs one B per A.")
        self.a, self.b = a, b
        self.spec = DataSpec(name, "image", a.spec.shape, a.spec.num_classes, shape_b=b.spec.shape, paired=paired)

    def __len__(self) -> int:
        return len(self.a)

    def batches(self, batch_size: int, seed: int, device: torch.device, with_labels: bool = True,
                with_labels_b: Optional[bool] = None, aligned: bool = True) -> "TwoDomainBatches":
        return TwoDomainBatches(self, batch_size, seed, device, with_labels, with_labels_b, aligned)


class TwoDomainBatches:
    """Endless batches of both domains, as ``Batch(x=A, y=A labels, x_b=B, y_b=B labels)``.

    Paired data draws both domains with the same seed from sets of the same length, so
    both follow one permutation and every pair stays aligned; unpaired data, and paired
    data with ``aligned=False`` (for a model that must not see the pairing), draws B
    with ``seed + 1``, an independent order. ``with_labels_b`` (default: as
    ``with_labels``) leaves B's labels out on its own.
    """

    def __init__(self, dataset: TwoDomainDataset, batch_size: int, seed: int, device: torch.device,
                 with_labels: bool = True, with_labels_b: Optional[bool] = None, aligned: bool = True):
        with_labels_b = with_labels if with_labels_b is None else with_labels_b
        seed_b = seed if dataset.spec.paired and aligned else seed + 1
        self.a = ImageBatches(dataset.a, batch_size, seed, device, with_labels)
        self.b = ImageBatches(dataset.b, batch_size, seed_b, device, with_labels_b)

    def next(self) -> Batch:
        a, b = self.a.next(), self.b.next()
        return Batch(a.x, a.y, x_b=b.x, y_b=b.y)

    def state_dict(self) -> dict:
        return {"a": self.a.state_dict(), "b": self.b.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.a.load_state_dict(state["a"])
        self.b.load_state_dict(state["b"])


# --- domains derived from MNIST ----------------------------------------------------------------


def edge_maps(images: Tensor) -> Tensor:
    """Outlines of uint8 grey (N, 1, H, W) images: 255 where the 3x3 dilation of the binarised
    (>= 128) image differs from its 3x3 erosion, 0 elsewhere.

    Both come from one 3x3 mean over the pixels inside the image: the dilation is set where the
    mean is above 0, the erosion where it is 1 (a third of the time two max-pools take).
    """
    outlines = []
    for chunk in images.split(10_000):  # bounds the float copies' memory
        mean = F.avg_pool2d((chunk >= 128).float(), 3, stride=1, padding=1, count_include_pad=False)
        outlines.append(((mean > 0) & (mean < 1)).to(torch.uint8).mul_(255))
    return torch.cat(outlines)


def colour_digits(digits: Tensor, seed: int) -> tuple[Tensor, Tensor]:
    """uint8 grey (N, 1, S, S) digits painted: (images (N, 3, S, S), attributes (N, 2)). Each image draws an
    ink (index into INKS) and a paper (into PAPERS) from ``seed``; a pixel of grey level g becomes
    paper + (ink - paper) g / 255, so the digit's antialiased edges blend the two."""
    generator = torch.Generator().manual_seed(seed)
    ink = torch.randint(len(INKS), (len(digits),), generator=generator)
    paper = torch.randint(len(PAPERS), (len(digits),), generator=generator)
    inks, papers = (torch.tensor(list(colours.values()), dtype=torch.float32)[:, :, None, None]
                    for colours in (INKS, PAPERS))
    images = []
    for rows in torch.arange(len(digits)).split(10_000):  # bounds the float copies' memory
        level = digits[rows].float() / 255
        images.append((papers[paper[rows]] + (inks[ink[rows]] - papers[paper[rows]]) * level).round_().to(torch.uint8))
    return torch.cat(images), torch.stack([ink, paper], 1)


def attribute_combinations(attributes: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """(N, A) value indices -> (N,) the index of each combination among all prod(sizes), the first attribute
    the most significant (mnist-colour: colour x 2 + background)."""
    index = torch.zeros(len(attributes), dtype=torch.long, device=attributes.device)
    for i, size in enumerate(sizes):
        index = index * size + attributes[:, i]
    return index


def combination_attributes(index: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """The inverse of attribute_combinations: (N,) combination indices -> (N, A) value indices."""
    return torch.stack(torch.unravel_index(index, sizes), 1)


def blend(digits: Tensor, photos: list[Tensor], seed: int) -> tuple[Tensor, Tensor]:
    """MNIST-M images of uint8 (N, 1, S, S) ``digits``: |crop - digit| per channel for a random
    S x S crop of one of ``photos`` (uint8 (H, W, 3)), and where each crop came from as (N, 3)
    rows of (photo, top, left). Photo and position are drawn from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    n, size = len(digits), digits.shape[-1]
    which = torch.randint(len(photos), (n,), generator=generator)
    position = torch.rand(n, 2, generator=generator)  # top and left, as fractions of the room a crop has
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    placements = torch.empty(n, 3, dtype=torch.long)
    offsets = torch.arange(size)
    for index, photo in enumerate(photos):
        rows = (which == index).nonzero().squeeze(1)
        top = (position[rows, 0] * (photo.shape[0] - size + 1)).long()
        left = (position[rows, 1] * (photo.shape[1] - size + 1)).long()
        crops = photo[(top[:, None] + offsets)[:, :, None], (left[:, None] + offsets)[:, None, :]]  # (k, S, S, 3)
        images[rows] = (crops.permute(0, 3, 1, 2).short() - digits[rows].short()).abs().to(torch.uint8)
        placements[rows] = torch.stack([torch.full_like(top, index), top, left], dim=1)
    return images, placements


def cache_dir() -> Path:
    """Where derived sets are kept once built: $GANKIT_CACHE/derived, else ~/.cache/gankit/derived."""
    return Path(os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit").expanduser() / "derived"


def mnist_m_images(mnist: ImageDataset, split: str) -> Tensor:
    """The MNIST-M images of ``mnist``'s digits: from the cache when it holds them, else built and cached."""
    path = cache_dir() / f"mnist-m-{split}-v{MNIST_M_VERSION}.safetensors"
    images = _read_cache(path, mnist)
    if images is None:
        photos = load_photos(MNIST_M_PHOTOS[split], "the MNIST-M background photos")
        images, _ = blend(mnist.images, photos, MNIST_M_SEEDS[split])
        _write_cache(path, {"images": images, "labels": mnist.labels})
    return images


def _read_cache(path: Path, mnist: ImageDataset) -> Optional[Tensor]:
    """The images cached at ``path``; None when there are none, or (with a warning) when the file is
    damaged or was built from other digits."""
    if not path.exists():
        return None
    try:
        cached = load_file(path)
        images, labels = cached["images"], cached["labels"]
    except (OSError, KeyError, SafetensorError) as error:
        warnings.warn(f"rebuilding the unreadable cache file {path} ({error})", stacklevel=3)
        return None
    if (images.dtype != torch.uint8 or images.shape != (len(mnist), 3, *mnist.images.shape[-2:])
            or labels.dtype != mnist.labels.dtype or not torch.equal(labels, mnist.labels)):
        warnings.warn(f"rebuilding the cache file {path}, which does not hold these MNIST digits", stacklevel=3)
        return None
    return images


def _write_cache(path: Path, tensors: dict[str, Tensor]) -> None:
    """Save ``tensors`` at ``path`` (whole or not at all); a cache that cannot be written is skipped."""
    with contextlib.suppress(OSError, SafetensorError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        save_file(tensors, str(partial))
        partial.replace(path)


def mnist_domain(name: str, mnist: ImageDataset, split: str) -> ImageDataset:
    """The MNIST-derived domain ``name`` (one of MNIST_DOMAINS) of the loaded ``mnist`` split."""
    if name == "mnist":
        return mnist
    if name == "mnist-colour":
        images, attributes = colour_digits(mnist.images, COLOUR_SEEDS[split])
        return ImageDataset(name, images, mnist.labels, mnist.spec.num_classes, attributes, COLOUR_ATTRIBUTES)
    if name == "mnist-edges":
        images = edge_maps(mnist.images)
    elif name == "mnist-negative":
        images = 255 - mnist.images
    else:
        images = mnist_m_images(mnist, split)
    return ImageDataset(name, images, mnist.labels, mnist.spec.num_classes)


def mnist_translation(name: str, root: Optional[str], split: str, download: bool) -> TwoDomainDataset:
    """``pairs:A>B`` (aligned by index) or ``unpaired:A>B`` (A from the even indices, B from the odd
    ones, so no digit appears in both), with A and B from MNIST_DOMAINS."""
    kind, domains = name.split(":", 1)
    choices = ", ".join(MNIST_DOMAINS)
    if ">" not in domains:
        raise GankitError(f"'{name}' is not a translation dataset; write {kind}:A>B with A and B from {choices} "
                          f"(e.g. {kind}:mnist-edges>mnist), or {kind}:folder:PATH.")
    a_name, b_name = domains.split(">", 1)
    for domain in (a_name, b_name):
        if domain not in MNIST_DOMAINS:
            raise GankitError(f"unknown domain '{domain}' in '{name}'; choose A and B from {choices}, "
                              f"or use {kind}:folder:PATH.")
    if a_name == b_name:
        raise GankitError(f"'{name}' translates {a_name} into itself; choose two different domains from {choices}.")
    mnist = torchvision_set("mnist", root, split, download)
    a, b = mnist_domain(a_name, mnist, split), mnist_domain(b_name, mnist, split)
    if kind == "unpaired":
        a, b = a.select(slice(0, None, 2)), b.select(slice(1, None, 2))
    return TwoDomainDataset(name, a, b, paired=kind == "pairs")


# --- folders -------------------------------------------------------------------------------------

PIX2PIX_LAYOUT = "pix2pix's layout: PATH/train/ and PATH/test/ (or PATH/val/) of side-by-side A|B images"
CYCLEGAN_LAYOUT = "CycleGAN's layout: PATH/trainA/, PATH/trainB/, PATH/testA/, PATH/testB/"


def translation_folder(path: str, paired: bool, split: str, image_size: Optional[int],
                       channels: Optional[int]) -> TwoDomainDataset:
    """One split of a pix2pix (paired) or CycleGAN (unpaired) folder, every image centre-cropped and resized.

    Size: ``image_size``, else the native size when every image is the same square, else the largest
    power of two within the smallest side. Channels: ``channels`` for both domains, else per domain
    1 when all its images are grey, else 3. Both are decided over train and test together, so the
    two splits always agree.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataNotFound(f"image folder {folder} does not exist.")
    mode = pil_mode(channels)
    splits = (_pix2pix_splits if paired else _cyclegan_splits)(folder, mode, split)
    every_a = [image for a, _ in splits.values() for image in a]
    every_b = [image for _, b in splits.values() for image in b]
    size = image_size or _native_size(every_a + every_b)
    name = f"{'pairs' if paired else 'unpaired'}:folder:{folder}"
    a, b = splits[split]
    return TwoDomainDataset(name, _stack(f"{name} (A)", a, size, channels or _channels(every_a)),
                            _stack(f"{name} (B)", b, size, channels or _channels(every_b)), paired)


def _pix2pix_splits(folder: Path, mode: Optional[str], split: str) -> dict[str, tuple[list[Tensor], list[Tensor]]]:
    """The A and B halves of every image, by split: train from PATH/train, test from PATH/test or PATH/val."""
    if not (folder / "train").is_dir():
        raise GankitError(f"{folder} has no train/ folder; a paired folder needs {PIX2PIX_LAYOUT}.")
    test = next((folder / name for name in ("test", "val") if (folder / name).is_dir()), None)
    if test is None and split == "test":
        raise GankitError(f"{folder} has no test/ or val/ folder to evaluate on; "
                          f"a paired folder needs {PIX2PIX_LAYOUT}.")
    splits = {"train": _halves(folder / "train", mode)}
    if test is not None:
        splits["test"] = _halves(test, mode)
    return splits


def _halves(folder: Path, mode: Optional[str]) -> tuple[list[Tensor], list[Tensor]]:
    """The left (A) and right (B) halves of the side-by-side images in ``folder``, which share one size."""
    images = read_images(folder, mode)
    first, (height, width) = images[0][0], images[0][1].shape[-2:]
    a, b = [], []
    for file, image in images:
        if image.shape[-1] % 2:
            raise GankitError(f"{file} has odd width {image.shape[-1]}; side-by-side AB images need an even width.")
        if image.shape[-2:] != (height, width):
            raise GankitError(f"{file} is {image.shape[-1]}x{image.shape[-2]} but {first} is {width}x{height}; "
                              f"the images of a paired folder must all have one size.")
        a.append(image[..., :width // 2])
        b.append(image[..., width // 2:])
    return a, b


def _cyclegan_splits(folder: Path, mode: Optional[str], split: str) -> dict[str, tuple[list[Tensor], list[Tensor]]]:
    """The A and B images by split, from PATH/trainA and trainB, and PATH/testA and testB."""
    splits = {}
    for name in ("train", "test"):
        a, b = folder / f"{name}A", folder / f"{name}B"
        if a.is_dir() != b.is_dir():
            have, lack = (a, b) if a.is_dir() else (b, a)
            raise GankitError(f"{folder} has {have.name}/ but no {lack.name}/; "
                              f"an unpaired folder needs {CYCLEGAN_LAYOUT}.")
        if a.is_dir():
            splits[name] = tuple([image for _, image in read_images(domain, mode)] for domain in (a, b))
        elif name == "train" or split == "test":
            raise GankitError(f"{folder} has no {name}A/ and {name}B/ folders; "
                              f"an unpaired folder needs {CYCLEGAN_LAYOUT}.")
    return splits


def _native_size(images: list[Tensor]) -> int:
    """The images' size when all are the same square, else the largest power of two within the smallest side."""
    sizes = {tuple(image.shape[-2:]) for image in images}
    if len(sizes) == 1 and len(set(*sizes)) == 1:
        return next(iter(sizes))[0]
    return 1 << (min(min(size) for size in sizes).bit_length() - 1)


def _channels(images: list[Tensor]) -> int:
    """1 when every image is grey (one channel, or three equal ones), else 3."""
    return 1 if all(image.shape[0] == 1 or bool((image == image[:1]).all()) for image in images) else 3


def _stack(name: str, images: list[Tensor], size: int, channels: int) -> ImageDataset:
    """``images`` centre-cropped and resized to size x size with ``channels`` channels, as one set."""
    fitted = [image[:1] if channels == 1 else image.expand(3, -1, -1) for image in images]
    return ImageDataset(name, torch.cat([square(image, size) for image in fitted]))
