"""Scores of the encoder family (aae, bigan, vaegan) on the test split.

- ``reconstruction_mse``, ``reconstruction_psnr``: G(encode(x)) against x for
  the first ``n`` test images, on images scaled to [0, 1]; the PSNR is
  10 log10(1 / MSE) with the squared error pooled over every pixel of every
  image (as the translation and inpainting scores pool it).
  ``mean_image_mse``, ``mean_image_psnr``: the same for predicting every test
  image by the mean of the probe's training images, the floor a model must beat.
- the image metrics of ``n`` prior samples G(z), z ~ p(z) (gankit.metrics.images:
  FID, KID, precision/recall, ... on the shipped classifier's features), with the
  task metrics the model lists (aae-supervised: ``class_accuracy``).
- ``probe_accuracy``: a linear probe of the codes: scikit-learn's
  LogisticRegression on the standardised codes of the first
  ``PROBE_TRAIN_IMAGES`` (5,000) training images, scored on the codes of the
  scored test images. ``pixel_probe_accuracy``: the same probe on the raw
  pixels of the same images, the baseline a code must beat. 5,000 training
  images (``probe_train_images``) keep the probe to seconds; it is not the
  all-60,000 protocol of the papers' tables.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gankit.data import ImageDataset, uint8_to_float
from gankit.metrics.images import image_metrics
from gankit.metrics.swd import SWDSettings
from gankit.models.base import evaluating

PROBE_TRAIN_IMAGES = 5000
PROBE_ITERATIONS = 2000
GRID_COLUMNS = 8
PRIOR_ROWS = 2  # rows of prior samples under the inputs and their reconstructions


@torch.no_grad()
def encode_all(model, images: Tensor, batch_size: int = 500) -> Tensor:
    """``model.encode`` (in eval mode) of float images in batches; the codes on the CPU in float32."""
    with evaluating(model):
        return torch.cat([model.encode(images[i:i + batch_size].to(model.device)).float().cpu()
                          for i in range(0, len(images), batch_size)])


@torch.no_grad()
def reconstruct_all(model, images: Tensor, batch_size: int = 500) -> Tensor:
    """``model.reconstruct`` (in eval mode) of float images in batches, on the CPU in float32."""
    with evaluating(model):
        return torch.cat([model.reconstruct(images[i:i + batch_size].to(model.device)).float().cpu()
                          for i in range(0, len(images), batch_size)])


def reconstruction_scores(reconstructed: Tensor, truth: Tensor) -> dict:
    """Mean squared error and PSNR of images in [-1, 1], measured on the [0, 1] scale."""
    mse = ((reconstructed.clamp(-1, 1) - truth) / 2).pow(2).mean()
    return {"mse": mse.item(), "psnr": (10 * torch.log10(1 / mse.clamp_min(1e-10))).item()}


def linear_probe(train_features: Tensor, train_labels: Tensor, test_features: Tensor, test_labels: Tensor) -> float:
    """Test accuracy of a logistic regression fitted on standardised ``train_features``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=PROBE_ITERATIONS))
    probe.fit(train_features.flatten(1).numpy(), train_labels.numpy())
    return float(probe.score(test_features.flatten(1).numpy(), test_labels.numpy()))


def encoder_metrics(model, test: ImageDataset, n: int, plot: Path | None = None, task_data=None,
                    nearest_plot: Path | None = None, swd_settings: SWDSettings | None = None,
                    feature_nets=()) -> dict:
    """Every score that fits ``model`` and ``test`` on up to ``n`` test images and ``n`` prior samples; the
    probe and the mean-image floor read the first 5,000 images of ``task_data.train()``. ``plot`` receives
    test images above their reconstructions, then prior samples."""
    from gankit.metrics import generate

    k = min(n, len(test))
    truth = uint8_to_float(test.images[:k])
    metrics = {"images": k, **{f"reconstruction_{key}": value
                               for key, value in reconstruction_scores(reconstruct_all(model, truth), truth).items()}}
    train = task_data.train().select(slice(0, PROBE_TRAIN_IMAGES)) if task_data is not None else None
    if train is None:
        metrics["probe_unavailable"] = "no training images were given, so the probe and the mean image are unavailable"
    else:
        train_images = uint8_to_float(train.images)
        mean_image = train_images.mean(0, keepdim=True).expand_as(truth)
        metrics.update({f"mean_image_{key}": value for key, value in reconstruction_scores(mean_image, truth).items()})
        if train.labels is None or test.labels is None:
            metrics["probe_unavailable"] = f"{test.spec.name} has no labels, so the linear probes are unavailable"
        else:
            labels = test.labels[:k]
            metrics.update({
                "probe_accuracy": linear_probe(encode_all(model, train_images), train.labels,
                                               encode_all(model, truth), labels),
                "pixel_probe_accuracy": linear_probe(train_images, train.labels, truth, labels),
                "probe_train_images": len(train)})
    samples = generate(model, n)
    metrics.update(image_metrics(model, samples, test, task_data, nearest_plot, swd_settings or SWDSettings(), feature_nets))
    if plot is not None:
        from gankit.visual import save_samples

        images, per_row = encoder_grid(model, test)
        save_samples(images, plot, nrow=per_row)
    return metrics


def encoder_grid(model, data: ImageDataset, columns: int = GRID_COLUMNS) -> tuple[Tensor, int]:
    """(images, per row) for a picture: the first ``columns`` images of ``data`` in a row, their
    reconstructions below, then ``PRIOR_ROWS`` rows of prior samples (drawn from the global random state)."""
    from gankit.metrics import generate

    truth = uint8_to_float(data.images[:columns])
    return torch.cat([truth, reconstruct_all(model, truth), generate(model, PRIOR_ROWS * len(truth))]), len(truth)
