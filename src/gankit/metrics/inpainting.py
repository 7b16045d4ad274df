"""Scores of the inpainting family, on the test split with holes from the model's own mask generator.

The first ``n`` test images get masks drawn by ``model.masks`` from a fixed
seed (``MASK_SEED``), so every run of one configuration is scored on the same
holes, of the kind and size it trained on. Hole scores compare the filled
images with the truth on the hole's pixels alone, on images scaled to [0, 1]:

- ``hole_l1``: the mean absolute error per hole element;
- ``hole_psnr``: 10 log10(1 / MSE) of the mean squared error per hole element,
  pooled over every image (the translation scores pool PSNR the same way);
- ``mean_fill_hole_l1``, ``mean_fill_hole_psnr``: the same for G's input, the
  hole filled with the data mean: the floor any model must beat.

Where gankit ships a classifier for the data, it reads the test images clean
(``clean_accuracy``), inpainted by the model (``inpainted_accuracy``) and with
the mean fill (``mean_fill_accuracy``): a fill that keeps the digit readable
brings the second close to the first.

A model's own task metrics (gankit.metrics.tasks; ccgan's ``test_error`` of
its D as a classifier, beside the supervised-only baseline) are added
unprefixed.

The classical baseline is scikit-image's biharmonic inpainting
(``skimage.restoration.inpaint_biharmonic``) on the same holes. It solves a
linear system per image, so it runs on the first ``BIHARMONIC_IMAGES`` (500) of
the scored images only: ``biharmonic_images`` says how many, ``biharmonic_*``
are its scores and ``subset_*`` the model's on those same images and holes.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gankit.classifier import fuse_batchnorm, load_classifier
from gankit.data import ImageDataset, uint8_to_float
from gankit.data.masks import composite
from gankit.metrics.features import classify
from gankit.metrics.images import CLASSIFIER_FOR
from gankit.models.base import evaluating

MASK_SEED = 0
BIHARMONIC_IMAGES = 500
GRID_COLUMNS = 8


def evaluation_masks(model, n: int, seed: int = MASK_SEED) -> Tensor:
    """``n`` masks (on the CPU) from the model's generator, drawn from ``seed``."""
    return model.masks(n, model.size, torch.Generator().manual_seed(seed))


@torch.no_grad()
def inpaint_all(model, images: Tensor, masks: Tensor, batch_size: int = 250) -> Tensor:
    """``model.inpaint`` (in eval mode) of float images in batches; the result on the CPU in float32."""
    with evaluating(model):
        return torch.cat([model.inpaint(images[i:i + batch_size].to(model.device),
                                        masks[i:i + batch_size].to(model.device)).float().cpu()
                          for i in range(0, len(images), batch_size)])


def mean_filled(model, images: Tensor, masks: Tensor) -> Tensor:
    """The images with their holes filled by the model's data mean: G's input."""
    return composite(images, model.mean.float().cpu().view(1, -1, 1, 1), masks)


def hole_scores(filled: Tensor, truth: Tensor, masks: Tensor) -> dict:
    """L1 and PSNR over the hole elements of images in [-1, 1], measured on the [0, 1] scale."""
    hole = masks.expand_as(truth)
    error = (filled.clamp(-1, 1) - truth) / 2
    elements = hole.sum().clamp_min(1)
    mse = (hole * error.pow(2)).sum() / elements
    return {"hole_l1": ((hole * error.abs()).sum() / elements).item(),
            "hole_psnr": (10 * torch.log10(1 / mse.clamp_min(1e-10))).item()}


def biharmonic(images: Tensor, masks: Tensor) -> Tensor:
    """scikit-image's biharmonic inpainting of each image's hole (the pixels under the hole are not read)."""
    from skimage.restoration import inpaint_biharmonic

    filled = []
    for image, mask in zip(images, masks):
        pixels = image.add(1).div(2).permute(1, 2, 0).double().numpy()  # H, W, C in [0, 1]
        result = inpaint_biharmonic(pixels, mask[0].bool().numpy(), channel_axis=-1)
        filled.append(torch.from_numpy(result).permute(2, 0, 1).float().mul(2).sub(1))
    return torch.stack(filled)


def inpainting_metrics(model, test: ImageDataset, n: int, plot: Path | None = None, task_data=None) -> dict:
    """Every score that fits ``model`` and ``test`` on up to ``n`` test images (the biharmonic baseline
    and ``subset_*`` on the first 500 of them), plus the task metrics ``model`` lists on ``task_data``
    (default: the test split alone); ``plot`` receives input / masked / filled rows."""
    from gankit.metrics.tasks import TaskData, task_metrics

    k = min(n, len(test))
    truth = uint8_to_float(test.images[:k])
    masks = evaluation_masks(model, k)
    filled = inpaint_all(model, truth, masks)
    baseline = mean_filled(model, truth, masks)
    metrics = {"images": k, **hole_scores(filled, truth, masks),
               **{f"mean_fill_{key}": value for key, value in hole_scores(baseline, truth, masks).items()}}
    s = min(BIHARMONIC_IMAGES, k)
    classical = biharmonic(truth[:s], masks[:s])
    metrics["biharmonic_images"] = s
    metrics.update({f"subset_{key}": value for key, value in hole_scores(filled[:s], truth[:s], masks[:s]).items()})
    metrics.update({f"biharmonic_{key}": value
                    for key, value in hole_scores(classical, truth[:s], masks[:s]).items()})
    name = test.spec.name
    if name in CLASSIFIER_FOR and test.labels is not None:
        net, labels = fuse_batchnorm(load_classifier(CLASSIFIER_FOR[name])), test.labels[:k]

        def accuracy(images: Tensor) -> float:
            return (classify(net, images)[1].argmax(1) == labels[:len(images)]).float().mean().item()

        metrics.update({"clean_accuracy": accuracy(truth), "inpainted_accuracy": accuracy(filled),
                        "mean_fill_accuracy": accuracy(baseline), "subset_inpainted_accuracy": accuracy(filled[:s]),
                        "biharmonic_accuracy": accuracy(classical)})
    else:
        metrics["unavailable"] = (f"gankit ships no classifier for {name} (or its images have no labels), so the "
                                  f"accuracies on clean and inpainted images are unavailable")
    if model.task_metrics:
        metrics.update(task_metrics(model, task_data or TaskData(test, train=lambda: test), None, n))
    if plot is not None:
        from gankit.visual import save_samples

        images, per_row = inpainting_grid(model, test)
        save_samples(images, plot, nrow=per_row)
    return metrics


def inpainting_grid(model, data: ImageDataset, columns: int = GRID_COLUMNS, seed: int = MASK_SEED
                    ) -> tuple[Tensor, int]:
    """(images, per row) for a picture: the first ``columns`` images of ``data`` in a row, their
    masked versions (G's input) below, and the model's fills below those."""
    truth = uint8_to_float(data.images[:columns])
    masks = evaluation_masks(model, len(truth), seed)
    return torch.cat([truth, mean_filled(model, truth, masks), inpaint_all(model, truth, masks)]), len(truth)
