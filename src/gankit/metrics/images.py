"""Image metrics on the features and softmax of gankit's own classifiers, plus two that need no
network: sliced Wasserstein distance (gankit.metrics.swd, any image data of at least 16x16) and, for
an image folder's held-out images, the memorisation check (gankit.metrics.memorisation).

Features are computed once per image set and handed to torchmetrics' FID, KID
and Inception Score through an identity "feature extractor", so the three
library metrics and the k-NN metrics below all score the same features.
Precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et
al. 2020) are written here: no maintained library for them is installed.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from gankit.classifier import fuse_batchnorm, load_classifier
from gankit.data import ImageDataset, uint8_to_float
from gankit.metrics.features import classify, inception_fid, inception_weights
from gankit.metrics.memorisation import memorisation, save_nearest_picture
from gankit.metrics.swd import MIN_LEVEL, SWDSettings, swd

# Which shipped classifier scores which dataset; stacked-mnist classifies each channel as an MNIST digit.
CLASSIFIER_FOR = {"digits": "digits", "mnist": "mnist", "fashion-mnist": "fashion-mnist", "stacked-mnist": "mnist",
                  "mnist-m": "mnist-m", "mnist-colour": "mnist-colour", "mnist-edges": "mnist-edges"}
METRIC_SEED = 0  # KID subsets and IS splits are random; a fixed seed makes a score repeatable
PAIR_CHUNK = 1024  # rows of a distance matrix held at once (1024 x 10k floats = 40 MB)


class _Given(nn.Module):
    """Identity extractor: torchmetrics receives features we have already computed."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


@contextmanager
def _quiet_about_buffers():
    """torchmetrics warns that KID and IS keep every feature; ours are small."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features", category=UserWarning)
        yield


def fid(real: Tensor, fake: Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, d)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return float(metric.compute())


def kid(real: Tensor, fake: Tensor, subsets: int = 100, subset_size: int = 1000) -> tuple[float, float]:
    """Kernel Inception Distance (unbiased MMD^2, cubic polynomial kernel): mean and std over subsets."""
    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(subset_size, len(real), len(fake))
    with _quiet_about_buffers():
        metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=subsets, subset_size=size)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    with torch.random.fork_rng():
        torch.manual_seed(METRIC_SEED)
        mean, std = metric.compute()
    return float(mean), float(std)


def inception_score(logits: Tensor, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) from classifier logits: mean and std over ``splits`` groups.

    1 when every sample gets the same class distribution; at most the number of
    classes when predictions are confident and the classes equally frequent.
    """
    from torchmetrics.image.inception import InceptionScore

    with _quiet_about_buffers():
        metric = InceptionScore(feature=_Given(logits.shape[1]), splits=splits)
    metric.update(logits)
    with torch.random.fork_rng():
        torch.manual_seed(METRIC_SEED)
        mean, std = metric.compute()
    return float(mean), float(std)


def knn_radii(x: Tensor, *ks: int) -> list[Tensor]:
    """For each k, the distance from each row of ``x`` to its k-th nearest other row."""
    nearest = torch.cat([torch.cdist(x[i:i + PAIR_CHUNK], x).topk(max(ks) + 1, largest=False).values
                         for i in range(0, len(x), PAIR_CHUNK)])
    return [nearest[:, k] for k in ks]  # column 0 is each row itself


def manifold_metrics(real: Tensor, fake: Tensor, k_pr: int = 3, k_dc: int = 5) -> dict:
    """Precision and recall of k-NN manifolds (k=3), density and coverage (k=5), in one pass.

    A set's manifold is the union of balls around its points reaching each
    point's k-th nearest neighbour. Precision: share of fakes inside the real
    manifold; recall: share of reals inside the fake manifold. Density: mean
    number of real balls (k=5) a fake lies in, divided by k (1 for matching
    distributions, unbounded above); coverage: share of real balls holding a fake.
    """
    (real_pr, real_dc), (fake_pr,) = knn_radii(real, k_pr, k_dc), knn_radii(fake, k_pr)
    fake_in_real, balls_hit = 0, 0
    real_in_fake = torch.zeros(len(real), dtype=torch.bool)
    real_covered = torch.zeros(len(real), dtype=torch.bool)
    for i in range(0, len(fake), PAIR_CHUNK):
        dist = torch.cdist(fake[i:i + PAIR_CHUNK], real)  # (fakes, reals)
        fake_in_real += (dist <= real_pr).any(1).sum().item()
        real_in_fake |= (dist <= fake_pr[i:i + PAIR_CHUNK, None]).any(0)
        in_dc_ball = dist <= real_dc
        balls_hit += in_dc_ball.sum().item()
        real_covered |= in_dc_ball.any(0)
    return {"precision": fake_in_real / len(fake), "recall": real_in_fake.sum().item() / len(real),
            "density": balls_hit / (k_dc * len(fake)), "coverage": real_covered.sum().item() / len(real)}


def stacked_modes(digits: Tensor) -> dict:
    """Modes covered among the 1,000 digit triples and KL(sample triples || uniform), from (N, 3) digits."""
    triples = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    p = torch.bincount(triples, minlength=1000).double() / len(triples)
    seen = p > 0
    return {"modes_covered": int(seen.sum()), "modes_total": 1000,
            "kl_to_uniform": float((p[seen] * (p[seen] * 1000).log()).sum())}


def class_accuracy(model, net, classes: Sequence[int], n_per_class: int) -> dict:
    """Classifier accuracy on ``model.sample(n, labels)`` for each requested class: mean, worst, per class."""
    from gankit.metrics import generate

    per_class = [(classify(net, generate(model, n_per_class, label=c))[1].argmax(1) == c).float().mean().item()
                 for c in classes]
    return {"class_accuracy": sum(per_class) / len(per_class), "class_accuracy_min": min(per_class),
            "class_accuracy_per_class": per_class}


def _channel_outputs(net, images: Tensor) -> tuple[Tensor, Tensor]:
    """Features concatenated over channels and per-channel logits (N, C, classes): each channel is one image
    for a grey classifier (stacked-mnist); a colour classifier reads the whole image once."""
    if net.in_channels > 1:
        features, logits = classify(net, images)
        return features, logits.unsqueeze(1)
    outputs = [classify(net, images[:, c:c + 1]) for c in range(images.shape[1])]
    return torch.cat([f for f, _ in outputs], 1), torch.stack([logits for _, logits in outputs], 1)


def image_metrics(model, samples: Tensor, dataset: ImageDataset, task_data=None,
                  nearest_plot: Optional[Path] = None, swd_settings: SWDSettings = SWDSettings(),
                  feature_nets: Sequence = ()) -> dict:
    """Every metric that fits ``dataset``: samples (float, [-1, 1]) against as many of its images,
    plus the task metrics ``model`` lists (gankit.metrics.tasks), on ``task_data`` (default: the
    test split ``dataset`` alone). Images of at least 16x16 add the sliced Wasserstein distance
    (``swd_images`` a side).

    An image folder's held-out images (``dataset.held_out``) add the memorisation check against
    ``task_data.train()``, the run's training images, when ``task_data`` is given (the bench's
    reference row scores training images themselves: nothing to check), pictured in ``nearest_plot``.
    Each of ``feature_nets`` (gankit.metrics.features.ImageNetFeatures, the user's own weights) adds
    FID and KID on its features, ``fid_<net>`` and ``kid_<net>``, with the weights file named.
    """
    from gankit.metrics.tasks import TaskData, task_metrics

    name = dataset.spec.name
    with torch.random.fork_rng():
        torch.manual_seed(METRIC_SEED)
        pick = torch.randperm(len(dataset))[:len(samples)]
    real = uint8_to_float(dataset.images[pick])
    metrics = {"real_images": len(real)}
    if inception_weights() is not None:
        metrics["inception_fid"] = inception_fid(samples, real)
    net = None
    if name not in CLASSIFIER_FOR:
        metrics["unavailable"] = (f"gankit ships no classifier for {name}, so fid, kid, inception_score, "
                                  f"precision, recall, density, coverage and class_accuracy are unavailable")
    else:
        if samples.shape[1] != dataset.spec.shape[0]:
            raise ValueError(f"samples have {samples.shape[1]} channels; {name} images have {dataset.spec.shape[0]}")
        net = fuse_batchnorm(load_classifier(CLASSIFIER_FOR[name]))
        real_features, _ = _channel_outputs(net, real)
        fake_features, fake_logits = _channel_outputs(net, samples)
        metrics["fid"] = fid(real_features, fake_features)
        metrics["kid"], metrics["kid_std"] = kid(real_features, fake_features)
        metrics.update(manifold_metrics(real_features, fake_features))
        if name == "stacked-mnist":
            metrics.update(stacked_modes(fake_logits.argmax(2)))
        else:
            metrics["inception_score"], metrics["inception_score_std"] = inception_score(fake_logits[:, 0])
    for features in feature_nets:
        real_features, fake_features = features(real), features(samples)
        metrics[f"fid_{features.name}"] = fid(real_features, fake_features)
        metrics[f"kid_{features.name}"], metrics[f"kid_{features.name}_std"] = kid(real_features, fake_features)
        metrics[f"{features.name}_weights"] = features.weights
    if min(dataset.spec.shape[1:]) >= MIN_LEVEL:
        metrics["swd_images"] = min(len(real), swd_settings.max_images)
        metrics.update(swd(real, samples, swd_settings, seed=METRIC_SEED))
    if task_data is not None and getattr(dataset, "held_out", False):
        train = task_data.train().images
        found, distance, nearest = memorisation(samples, real, train)
        metrics.update(found)
        if nearest_plot is not None:
            save_nearest_picture(samples, train, distance, nearest, nearest_plot)
    if getattr(model, "task_metrics", ()):
        task_data = task_data or TaskData(dataset, train=lambda: dataset)
        metrics.update(task_metrics(model, task_data, net, len(samples)))
    return metrics
