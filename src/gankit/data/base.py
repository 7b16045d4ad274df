"""What every dataset hands the trainer: a spec, and batches drawn on the device."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from gankit.errors import GankitError


@dataclass(frozen=True)
class DataSpec:
    """What a model needs to know about its data to build its networks."""

    name: str
    kind: str  # "toy2d" or "image"
    shape: tuple[int, ...]  # (2,) for toy2d, (C, H, W) for images
    num_classes: Optional[int] = None
    # Two-domain (translation) data: the B images' (C, H, W), and whether x and x_b come as aligned pairs.
    shape_b: Optional[tuple[int, ...]] = None
    paired: Optional[bool] = None
    # Named attributes each image has, as (name, its values) pairs, e.g. (("colour", ("red", ...)), ...).
    attributes: Optional[tuple[tuple[str, tuple[str, ...]], ...]] = None

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def is_two_domain(self) -> bool:
        return self.shape_b is not None


@dataclass
class Batch:
    """One training batch: ``x`` real samples (images in [-1, 1]), ``y`` labels or None, and for
    semi-supervised models ``labelled``, a second batch drawn from the labelled subset. Data with
    named attributes gives the models that ask for them ``attributes``, (N, A) value indices.

    Two-domain data adds ``x_b``, images of domain B: the partners of ``x`` for paired data,
    an independent draw for unpaired data and for models that must not see the pairing (cogan),
    with their labels ``y_b`` when labels were asked for.
    """

    x: Tensor
    y: Optional[Tensor] = None
    labelled: Optional["Batch"] = None
    x_b: Optional[Tensor] = None
    y_b: Optional[Tensor] = None
    attributes: Optional[Tensor] = None

    def __len__(self) -> int:
        return self.x.shape[0]


def uint8_to_float(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def float_to_uint8(images: Tensor) -> Tensor:
    """float [-1, 1] -> uint8 [0, 255] (clamped and rounded)."""
    return images.detach().float().add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


class ImageDataset:
    """Images held in memory as uint8 (N, C, H, W) with optional int64 labels, and optionally named
    attributes: ``attributes`` (N, A) int64, the index of each image's value of each attribute that
    ``attribute_names`` lists as (name, values) pairs."""

    def __init__(self, name: str, images: Tensor, labels: Optional[Tensor] = None,
                 num_classes: Optional[int] = None, attributes: Optional[Tensor] = None,
                 attribute_names: Optional[tuple[tuple[str, tuple[str, ...]], ...]] = None):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("images must be a uint8 tensor of shape (N, C, H, W)")
        if (attributes is None) != (attribute_names is None) or \
                (attributes is not None and attributes.shape != (len(images), len(attribute_names))):
            raise ValueError("attributes must be an (N, A) tensor given with the names of its A attributes")
        self.images = images
        self.labels = labels
        self.attributes = attributes
        self.spec = DataSpec(name, "image", tuple(images.shape[1:]), num_classes, attributes=attribute_names)

    def __len__(self) -> int:
        return self.images.shape[0]

    def with_images(self, images: Tensor) -> "ImageDataset":
        """The same dataset (name, labels, attributes) with other images of the same count, e.g. resized."""
        return ImageDataset(self.spec.name, images, self.labels, self.spec.num_classes, self.attributes,
                            self.spec.attributes)

    def select(self, rows) -> "ImageDataset":
        """The images (with their labels and attributes) at ``rows``: a slice or indices."""
        pick = (lambda t: None if t is None else t[rows])
        return ImageDataset(self.spec.name, self.images[rows], pick(self.labels), self.spec.num_classes,
                            pick(self.attributes), self.spec.attributes)

    def batches(self, batch_size: int, seed: int, device: torch.device, with_labels: bool = True,
                with_attributes: bool = False) -> "ImageBatches":
        return ImageBatches(self, batch_size, seed, device, with_labels, with_attributes)


class ShuffledOrder:
    """Indices 0..n-1, ``size`` at a time, from a fresh permutation each epoch drawn from a private generator;
    the incomplete last batch of an epoch is dropped. Its state (generator, order, position) replays exactly."""

    def __init__(self, n: int, size: int, seed: int):
        self.n, self.size = n, size
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.empty(0, dtype=torch.long)
        self.position = 0

    def take(self) -> Tensor:
        if self.position + self.size > len(self.order):
            self.order = torch.randperm(self.n, generator=self.generator)
            self.position = 0
        self.position += self.size
        return self.order[self.position - self.size:self.position]

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order = state["order"]
        self.position = int(state["position"])


class ImageBatches:
    """Endless shuffled batches (``ShuffledOrder``), drawn by indexing a device-resident uint8 tensor.

    The whole order is part of the state, so a resumed run sees exactly the batches an
    uninterrupted run would. ``with_labels=False`` leaves the labels out of the batches,
    ``with_attributes=True`` adds the images' attributes.
    """

    def __init__(self, dataset: ImageDataset, batch_size: int, seed: int, device: torch.device,
                 with_labels: bool = True, with_attributes: bool = False):
        check_batch_size(batch_size, dataset)
        self.images = dataset.images.to(device)
        self.labels = dataset.labels.to(device) if with_labels and dataset.labels is not None else None
        self.attributes = dataset.attributes.to(device) if with_attributes else None
        self.order = ShuffledOrder(len(dataset), batch_size, seed)

    def next(self) -> Batch:
        index = self.order.take().to(self.images.device)
        pick = (lambda rows: None if rows is None else rows[index])
        return Batch(uint8_to_float(self.images[index]), pick(self.labels), attributes=pick(self.attributes))

    def state_dict(self) -> dict:
        return self.order.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.order.load_state_dict(state)


def check_batch_size(batch_size: int, dataset) -> None:
    if batch_size > len(dataset):
        raise GankitError(f"the batch size {batch_size} exceeds the {len(dataset)} images of {dataset.spec.name}.")
