"""Evaluation that fits the data and the model: 2-D mode metrics, image metrics, translation, inpainting,
encoder, coupled pair and super-resolution scores."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import torch

from gankit.data import Dataset, GaussianMixture2D
from gankit.metrics.images import image_metrics
from gankit.metrics.swd import SWDSettings
from gankit.metrics.toy2d import mode_metrics
from gankit.models.base import evaluating

DEFAULT_EVAL_SAMPLES = {"toy2d": 2500, "image": 10000}  # 2,500 is the 2-D protocol's count


@torch.no_grad()
def generate(model, n: int, batch_size: int = 500, label: Union[int, torch.Tensor, None] = None) -> torch.Tensor:
    """``n`` samples from ``model`` (in eval mode) on the CPU, drawn in batches.

    ``label`` (an int, or one label per sample) is passed to ``model.sample`` for
    models that take labels: a class, or a code value.
    """
    if isinstance(label, int):
        label = torch.full((n,), label, dtype=torch.long)

    def draw(start: int, stop: int) -> torch.Tensor:
        if label is None:
            return model.sample(stop - start)
        return model.sample(stop - start, label[start:stop].to(model.device))

    with evaluating(model):
        return torch.cat([draw(start, min(start + batch_size, n)).float().cpu() for start in range(0, n, batch_size)])


def sample_grid(model, n: int) -> tuple[torch.Tensor, Optional[int]]:
    """(samples, images per row) for a picture: one row per label value for models that take
    labels (classes or codes), else ``n`` samples in a square grid (``None``)."""
    if model.sample_labels is None:
        return generate(model, n), None
    columns = max(1, n // model.num_labels)
    labels = torch.arange(model.num_labels).repeat_interleave(columns)
    return generate(model, len(labels), label=labels), columns


def evaluate(model, dataset: Dataset, n_samples: int, plot: Optional[Path] = None, task_data=None,
             nearest_plot: Optional[Path] = None, swd_settings: SWDSettings = SWDSettings(),
             feature_nets=()) -> dict:
    """The metrics that fit ``dataset`` (the test split) on ``n_samples`` samples of ``model``.

    Translation models are scored on translations of two-domain ``dataset``, inpainting models on its
    images with holes, coupled models on pairs drawn from one z, super-resolution models on its whole
    photos, downscaled and upscaled (gankit.metrics.translation, .inpainting, .coupled, .superres), encoder
    models on their reconstructions and codes as well as their samples (gankit.metrics.encoders), the others
    on samples.
    ``plot``, when given, receives a picture of the samples (or inputs and outputs) that were scored;
    ``task_data`` (gankit.metrics.tasks.TaskData) is what the model's task metrics, and an image
    folder's memorisation check, may read; ``nearest_plot`` receives that check's picture;
    ``swd_settings`` sizes the sliced Wasserstein distance of image data; ``feature_nets``
    (gankit.metrics.features.ImageNetFeatures) add FID and KID on their features.
    """
    from gankit.visual import save_samples

    if model.family == "translation":
        from gankit.metrics.translation import translation_metrics

        return translation_metrics(model, dataset, n_samples, plot, task_data)
    if model.family == "inpainting":
        from gankit.metrics.inpainting import inpainting_metrics

        return inpainting_metrics(model, dataset, n_samples, plot, task_data)
    if model.family == "coupled":
        from gankit.metrics.coupled import coupled_metrics

        return coupled_metrics(model, dataset, n_samples, plot)
    if model.family == "encoder":
        from gankit.metrics.encoders import encoder_metrics

        return encoder_metrics(model, dataset, n_samples, plot, task_data, nearest_plot, swd_settings, feature_nets)
    if model.family == "superres":
        from gankit.metrics.superres import superres_metrics

        return superres_metrics(model, dataset, n_samples, plot)
    samples = generate(model, n_samples)
    if isinstance(dataset, GaussianMixture2D):
        metrics = mode_metrics(samples, dataset.modes, dataset.std)
        if plot is not None:
            save_samples(samples, plot, dataset.modes,
                         f"{metrics['modes_covered']}/{metrics['modes_total']} modes, "
                         f"{metrics['high_quality_pct']:.1f}% high quality")
        return metrics
    if plot is not None:
        save_samples(samples[:64], plot)
    return image_metrics(model, samples, dataset, task_data, nearest_plot, swd_settings, feature_nets)
