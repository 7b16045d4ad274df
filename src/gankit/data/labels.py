"""Which labels a model's batches carry: none, all, or a small labelled subset (semi-supervised).

A model states its need in ``Model.label_use`` and the trainer builds the batch
stream with ``batch_stream``; models never see labels they did not ask for:

- ``"none"``: batches carry no labels, even when the dataset has them
  (unconditional and unsupervised models cannot peek).
- ``"all"``: every batch carries its labels (class-conditional models).
- ``"source"``: two-domain data only: domain A's labels, never domain B's
  (unsupervised domain adaptation, where the target's labels are unknown).
- ``"attributes"``: the images' named attributes (``batch.attributes``) and no
  class labels (stargan translates colour and background, and never sees the digit).
- ``"some"``: semi-supervised. Batches carry no labels; each carries
  ``batch.labelled``, a batch of the same size drawn from the labelled subset:
  ``data.labels`` images, balanced per class and chosen by the run's seed (all
  images when ``data.labels`` is unset). Every image, labelled or not, still
  appears unlabelled in the main stream.
"""
from __future__ import annotations

from typing import Literal, Optional

import torch
from torch import Tensor

from gankit.data.base import Batch, ImageBatches, ImageDataset
from gankit.data.translation import TwoDomainDataset
from gankit.errors import GankitError

LabelUse = Literal["none", "all", "some", "source", "attributes"]


def labelled_subset(labels: Tensor, n: int, num_classes: int, seed: int) -> Tensor:
    """Indices of ``n`` examples, n // K of each class (the first n % K classes get one more), by ``seed``."""
    if n < num_classes:
        raise GankitError(f"data.labels={n} is fewer than the {num_classes} classes; semi-supervised training "
                          f"needs at least one label per class.")
    if n > len(labels):
        raise GankitError(f"data.labels={n} exceeds the {len(labels)} training images.")
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in range(num_classes):
        members = (labels == label).nonzero().squeeze(1)
        want = n // num_classes + (label < n % num_classes)
        if want > len(members):
            raise GankitError(f"data.labels={n} asks for {want} labels of class {label}, which has only "
                              f"{len(members)} training images.")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:want]])
    return torch.cat(chosen).sort().values


class SemiSupervisedBatches:
    """Unlabelled batches of every image, each with a labelled batch from the subset attached."""

    def __init__(self, dataset: ImageDataset, subset: Tensor, batch_size: int, seed: int, device: torch.device):
        self.unlabelled = ImageBatches(dataset, batch_size, seed, device, with_labels=False)
        labelled = dataset.select(subset)
        # Small subsets are cycled: the labelled stream may use batches up to the subset's size.
        self.labelled = ImageBatches(labelled, min(batch_size, len(subset)), seed + 1, device)
        self.subset = subset

    def next(self) -> Batch:
        batch = self.unlabelled.next()
        batch.labelled = self.labelled.next()
        return batch

    def state_dict(self) -> dict:
        return {"unlabelled": self.unlabelled.state_dict(), "labelled": self.labelled.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.unlabelled.load_state_dict(state["unlabelled"])
        self.labelled.load_state_dict(state["labelled"])


def batch_stream(dataset, batch_size: int, seed: int, device: torch.device, label_use: LabelUse,
                 n_labels: Optional[int], aligned: bool = True):
    """The endless batch stream of ``dataset`` carrying the labels ``label_use`` asks for; paired two-domain
    data keeps its pairs aligned in each batch unless ``aligned`` is False."""
    if isinstance(dataset, TwoDomainDataset):
        if label_use == "some":
            raise GankitError(f"semi-supervised models train on one domain, and {dataset.spec.name} has two; "
                              f"choose a one-domain dataset such as mnist.")
        return dataset.batches(batch_size, seed, device, with_labels=label_use in ("all", "source"),
                               with_labels_b=label_use == "all", aligned=aligned)
    if label_use == "source":
        raise GankitError(f"this model adapts a labelled source domain to a target domain, and "
                          f"{dataset.spec.name} is one domain; name two, e.g. unpaired:mnist>mnist-m.")
    if label_use == "attributes":
        return ImageBatches(dataset, batch_size, seed, device, with_labels=False, with_attributes=True)
    if label_use == "some":
        subset = (torch.arange(len(dataset)) if n_labels is None else
                  labelled_subset(dataset.labels, n_labels, dataset.spec.num_classes, seed))
        return SemiSupervisedBatches(dataset, subset, batch_size, seed, device)
    if isinstance(dataset, ImageDataset):
        return ImageBatches(dataset, batch_size, seed, device, with_labels=label_use == "all")
    return dataset.batches(batch_size, seed, device)
