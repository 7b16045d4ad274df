"""Evaluation that fits the data: 2-D mode metrics, image metrics."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from gankit.data import Dataset, GaussianMixture2D
from gankit.metrics.images import image_metrics
from gankit.metrics.toy2d import mode_metrics

DEFAULT_EVAL_SAMPLES = {"toy2d": 2500, "image": 10000}  # 2,500 is the 2-D protocol's count


@torch.no_grad()
def generate(model, n: int, batch_size: int = 500, label: Optional[int] = None) -> torch.Tensor:
    """``n`` samples from ``model`` (in eval mode) on the CPU, drawn in batches; all of class ``label`` if given."""
    def draw(m: int) -> torch.Tensor:
        if label is None:
            return model.sample(m)
        return model.sample(m, torch.full((m,), label, dtype=torch.long, device=model.device))

    was_training = model.training
    model.eval()
    try:
        chunks = [draw(min(batch_size, n - start)).float().cpu() for start in range(0, n, batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks)


def evaluate(model, dataset: Dataset, n_samples: int, plot: Optional[Path] = None) -> dict:
    """The metrics that fit ``dataset`` on ``n_samples`` samples of ``model``.

    ``plot``, when given, receives a picture of the samples that were scored.
    """
    from gankit.visual import save_samples

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
    return image_metrics(model, samples, dataset)
