"""Super-resolution data: high-resolution photos, random square crops of them, and the one degradation
that makes each crop's low-resolution partner.

A dataset here holds whole photos of any size (uint8 (C, H, W) each). Training
batches are random ``crop`` x ``crop`` patches, ``Batch(x=HR crops)``: each crop's
photo is drawn in proportion to the crop positions it offers (so every position
of every photo is equally likely), its position uniformly, then one of the 8
flips and quarter turns. The model makes the low-resolution input itself, with
``downscale`` (bicubic, antialiased, rounded to 8 bits), so the scale factor
lives in one place (the model's options, which also shape its upsampling
layers) and training, evaluation, the bicubic baseline and ``gankit upscale``
all see the same degradation.

- ``photos``: colour photos that ship with scikit-image and scikit-learn. Train and
  test use different photos, so a model is scored on whole photos it never saw.
- ``photos:folder:PATH``: every image under PATH at full resolution; a run keeps
  a seeded share of whole images out of training (``data.holdout``), listed in
  RUN/holdout.txt, as ``folder:PATH`` runs do.

``data.image_size`` is the crop side (default 96, SRGAN's). A photo smaller than a
crop is refused with one sentence naming it.
"""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.data.base import Batch, DataSpec, uint8_to_float
from gankit.data.images import load_photos, read_images
from gankit.errors import DataNotFound, GankitError

# Disjoint photo lists: no test photo, nor any crop of it, is seen in training. (The Hubble deep field and
# the retina, mostly black, would fill half the training crops with flat dark sky.)
SR_PHOTOS = {
    "train": ("astronaut", "coffee", "rocket", "immunohistochemistry"),
    "test": ("chelsea", "china", "flower"),
}
DEFAULT_CROP = 96  # SRGAN's high-resolution crop side; a multiple of 16, so every model's networks take it
PICTURE_SEED = 2024  # the fixed training crops of the progress pictures


def is_photo_data(name: str) -> bool:
    """Whether dataset ``name`` is super-resolution photos (``photos`` or ``photos:folder:PATH``)."""
    return name == "photos" or name.startswith("photos:folder:")


def downscale(hr: Tensor, scale: int) -> Tensor:
    """The low-resolution partners of float images in [-1, 1] whose sides are multiples of ``scale``:
    bicubic downsampling with antialiasing (as MATLAB's imresize, the SR literature's degradation),
    rounded to the 8-bit levels an image file holds."""
    height, width = hr.shape[-2:]
    lr = F.interpolate(hr.float(), size=(height // scale, width // scale), mode="bicubic", antialias=True,
                       align_corners=False)
    return lr.clamp(-1, 1).add(1).mul(127.5).round().div(127.5).sub(1)


def bicubic_upscale(lr: Tensor, scale: int) -> Tensor:
    """Bicubic upsampling by ``scale``, clamped to [-1, 1]: the baseline every SR model must beat."""
    return F.interpolate(lr.float(), scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


def modcrop(hr: Tensor, scale: int) -> Tensor:
    """``hr`` (..., H, W) cut at its bottom and right to sides that are multiples of ``scale``."""
    height, width = hr.shape[-2:]
    return hr[..., :height - height % scale, :width - width % scale]


def random_crops(photos: list[Tensor], n: int, crop: int, generator: torch.Generator,
                 augment: bool = True) -> Tensor:
    """``n`` crop x crop patches (uint8 (n, C, crop, crop), on the photos' device) of uint8 (C, H, W)
    ``photos``, every position of every photo equally likely; ``augment`` adds a random flip and quarter
    turn. All random numbers come from ``generator`` (on the CPU)."""
    positions = torch.tensor([(p.shape[-2] - crop + 1) * (p.shape[-1] - crop + 1) for p in photos],
                             dtype=torch.float64)
    which = torch.multinomial(positions, n, replacement=True, generator=generator).tolist()
    corners = torch.rand(n, 2, generator=generator)
    poses = torch.randint(8, (n,), generator=generator).tolist()
    crops = []
    for index, (top, left), pose in zip(which, corners.tolist(), poses):
        photo = photos[index]
        top, left = int(top * (photo.shape[-2] - crop + 1)), int(left * (photo.shape[-1] - crop + 1))
        patch = photo[:, top:top + crop, left:left + crop]
        if augment:
            patch = patch.rot90(pose % 4, (1, 2))
            patch = patch.flip(2) if pose >= 4 else patch
        crops.append(patch)
    return torch.stack(crops)


class Photos:
    """High-resolution photos of any sizes, uint8 (C, H, W) each, named by ``names``; training draws
    random ``crop`` x ``crop`` patches from them. ``spec.shape`` is a crop's (C, crop, crop)."""

    def __init__(self, name: str, photos: list[Tensor], names: list[str], crop: int):
        for photo, photo_name in zip(photos, names):
            if min(photo.shape[-2:]) < crop:
                width, height = photo.shape[-1], photo.shape[-2]
                raise GankitError(f"{photo_name} in {name} is {width}x{height} pixels, smaller than the "
                                  f"{crop}x{crop} crops a super-resolution model trains on (data.image_size); "
                                  f"remove it or choose smaller crops.")
        self.photos, self.names, self.crop = photos, names, crop
        self.spec = DataSpec(name, "image", (photos[0].shape[0], crop, crop))

    def __len__(self) -> int:
        return len(self.photos)

    def batches(self, batch_size: int, seed: int, device: torch.device) -> PhotoCrops:
        return PhotoCrops(self, batch_size, seed, device)

    def picture_crops(self, n: int) -> Tensor:
        """``n`` fixed crops (float in [-1, 1], unturned), the same at every call: progress pictures."""
        return uint8_to_float(random_crops(self.photos, n, self.crop, torch.Generator().manual_seed(PICTURE_SEED),
                                           augment=False))


class PhotoCrops:
    """Endless batches of random crops, ``Batch(x=HR crops in [-1, 1])``; the generator's state is
    the whole state, so a resumed run draws exactly the crops an uninterrupted one would."""

    def __init__(self, dataset: Photos, batch_size: int, seed: int, device: torch.device):
        self.photos = [photo.to(device) for photo in dataset.photos]
        self.batch_size, self.crop = batch_size, dataset.crop
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> Batch:
        return Batch(uint8_to_float(random_crops(self.photos, self.batch_size, self.crop, self.generator)))

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class FolderPhotos(Photos):
    """A folder's photos with each one's path relative to the folder (``files``); ``held_out`` marks the
    share a run keeps out of training (RUN/holdout.txt), as ``FolderImages`` does for ``folder:PATH``."""

    def __init__(self, name: str, photos: list[Tensor], files: list[str], crop: int, held_out: bool = False):
        super().__init__(name, photos, files, crop)
        self.files, self.held_out = files, held_out

    def part(self, held_out_files: Collection[str], held_out: bool) -> FolderPhotos:
        """The photos named in ``held_out_files`` (``held_out=True``), or all the others."""
        names = set(held_out_files)
        keep = [i for i, file in enumerate(self.files) if (file in names) == held_out]
        return FolderPhotos(self.spec.name, [self.photos[i] for i in keep], [self.files[i] for i in keep],
                            self.crop, held_out)


def shipped_photos(split: str, crop: int | None) -> Photos:
    """``photos``: the scikit-image / scikit-learn colour photos of ``split``."""
    names = SR_PHOTOS["test" if split == "test" else "train"]
    photos = [photo.permute(2, 0, 1).contiguous() for photo in load_photos(names, "the super-resolution photos")]
    return Photos("photos", photos, list(names), crop or DEFAULT_CROP)


def photo_folder(path: str, crop: int | None) -> FolderPhotos:
    """``photos:folder:PATH``: every readable image under PATH (recursively), at full resolution, as RGB."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataNotFound(f"image folder {folder} does not exist.")
    found = read_images(folder, "RGB")
    return FolderPhotos(f"photos:folder:{folder}", [image for _, image in found],
                        [file.relative_to(folder).as_posix() for file, _ in found], crop or DEFAULT_CROP)
