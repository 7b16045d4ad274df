"""Task metrics: the number each class-aware model's paper is about.

A model lists the ones that fit it in ``Model.task_metrics``; ``gankit eval``
adds them to the image metrics:

- ``class_accuracy`` (cgan, acgan): the shipped classifier's accuracy on samples
  of each requested class.
- ``clustering`` (infogan, clustergan): the model's cluster of each real test
  image (``model.classify``) against its label: accuracy under the best
  one-to-one matching of clusters to classes (Hungarian method), NMI and ARI.
- ``latent_kmeans`` (clustergan): the official ClusterGAN code's protocol: k-means (K
  clusters, scikit-learn, random_state 0, 10 initialisations) on E's whole code of the
  test images, [z_n^, softmax(c^)] (``model.latent``), scored by purity (each cluster
  counts its most frequent class as right; what the official code reports as ACC),
  NMI and ARI.
- ``code_purity`` (infogan, clustergan): samples drawn with each code value,
  labelled by the shipped classifier; the error is the share of samples that
  are not of their code's majority class.
- ``test_error`` (sgan): the error of D's classifier on the test set, beside the
  same network trained on the same labelled images alone, with no GAN.
- ``target_accuracy`` (pixelda, two-domain data): the accuracy of the model's
  task classifier on the target domain's test images, whose labels it never saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.data import ImageData, ImageDataset, uint8_to_float
from gankit.models.base import evaluating

BASELINE_STEPS = 3000  # the supervised-only baseline's Adam steps: enough to fit 100 labels many times over
BASELINE_BATCH = 100


@dataclass
class TaskData:
    """What the task metrics may read besides the model: the test split and, lazily, the training split."""

    test: ImageData  # one-domain, or two-domain for translation models
    train: Callable[[], ImageData]  # loaded only by the metrics that need it
    labels: Optional[int] = None  # the run's data.labels (semi-supervised models)
    seed: int = 0  # the run's seed, which chose its labelled subset


@torch.no_grad()
def outputs(fn: Callable[[Tensor], Tensor], images: Tensor, device: torch.device, batch_size: int = 500) -> Tensor:
    """``fn`` of uint8 images (as floats in [-1, 1], on ``device``), in batches, gathered on the CPU."""
    return torch.cat([fn(uint8_to_float(images[i:i + batch_size]).to(device)).float().cpu()
                      for i in range(0, len(images), batch_size)])


def predict(classify: Callable[[Tensor], Tensor], images: Tensor, device: torch.device) -> Tensor:
    """argmax of ``classify`` over uint8 images, in batches."""
    return outputs(classify, images, device).argmax(1)


def matched_accuracy(clusters: Tensor, labels: Tensor) -> float:
    """Accuracy of ``clusters`` as labels under the best one-to-one cluster -> class matching."""
    from scipy.optimize import linear_sum_assignment

    counts = torch.zeros(int(clusters.max()) + 1, int(labels.max()) + 1, dtype=torch.long)
    counts.index_put_((clusters, labels), torch.ones_like(labels), accumulate=True)
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    return counts[rows, cols].sum().item() / len(labels)


def clustering(model, data: TaskData, classifier, n: int) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    clusters, labels = predict(model.classify, data.test.images, model.device), data.test.labels
    return {"cluster_acc": matched_accuracy(clusters, labels),
            "cluster_nmi": float(normalized_mutual_info_score(labels, clusters)),
            "cluster_ari": float(adjusted_rand_score(labels, clusters))}


def purity(clusters, labels) -> float:
    """The share of items whose cluster's most frequent class is their own (array-likes of ints)."""
    from sklearn.metrics.cluster import contingency_matrix

    return float(contingency_matrix(labels, clusters).max(axis=0).sum() / len(labels))


def latent_kmeans(model, data: TaskData, classifier, n: int) -> dict:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = data.test.labels.numpy()
    codes = outputs(model.latent, data.test.images, model.device).numpy()
    clusters = KMeans(n_clusters=model.num_labels, random_state=0, n_init=10).fit_predict(codes)
    return {"kmeans_purity": purity(clusters, labels),
            "kmeans_nmi": float(normalized_mutual_info_score(labels, clusters)),
            "kmeans_ari": float(adjusted_rand_score(labels, clusters))}


def code_purity(model, data: TaskData, classifier, n: int) -> dict:
    from gankit.metrics import generate
    from gankit.metrics.features import classify

    per_code = max(1, n // model.num_labels)
    agree, majorities = 0, []
    for code in range(model.num_labels):
        classes = classify(classifier, generate(model, per_code, label=code))[1].argmax(1)
        counts = torch.bincount(classes, minlength=10)
        majorities.append(int(counts.argmax()))
        agree += int(counts.max())
    return {"code_sample_error": 1 - agree / (per_code * model.num_labels), "code_majority_class": majorities}


def class_accuracy(model, data: TaskData, classifier, n: int) -> dict:
    from gankit.metrics.images import class_accuracy as per_class

    return per_class(model, classifier, range(model.num_labels), max(1, n // model.num_labels))


def supervised_baseline(model, train: ImageDataset, subset: Tensor, seed: int) -> torch.nn.Module:
    """A fresh copy of the model's classifier trained on the labelled images alone (no GAN, no fakes)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = model.fresh_classifier().to(model.device).train()
        generator = torch.Generator().manual_seed(seed)
        optimizer = model.optim().build(net.parameters())
        k, batch = model.num_labels, min(BASELINE_BATCH, len(subset))
        images, labels = train.images[subset], train.labels[subset].to(model.device)
        for _ in range(BASELINE_STEPS):
            pick = torch.randperm(len(subset), generator=generator)[:batch]
            loss = F.cross_entropy(net(uint8_to_float(images[pick]).to(model.device))[:, :k], labels[pick])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval()


def test_error(model, data: TaskData, classifier, n: int) -> dict:
    from gankit.data.labels import labelled_subset

    test = data.test
    error = (predict(model.classify, test.images, model.device) != test.labels).float().mean().item()
    train = data.train()
    subset = (torch.arange(len(train)) if data.labels is None else
              labelled_subset(train.labels, data.labels, train.spec.num_classes, data.seed))
    baseline = supervised_baseline(model, train, subset, data.seed)
    k = model.num_labels
    baseline_error = (predict(lambda x: baseline(x)[:, :k], test.images, model.device)
                      != test.labels).float().mean().item()
    return {"test_error": error, "baseline_test_error": baseline_error, "labels": len(subset)}


def target_accuracy(model, data: TaskData, classifier, n: int) -> dict:
    target = data.test.b
    accuracy = (predict(model.classify, target.images, model.device) == target.labels).float().mean().item()
    return {"target_accuracy": accuracy, "target_images": len(target)}


TASK_METRICS = {"class_accuracy": class_accuracy, "clustering": clustering, "latent_kmeans": latent_kmeans,
                "code_purity": code_purity, "test_error": test_error, "target_accuracy": target_accuracy}


NEEDS_LABELS = ("clustering", "latent_kmeans", "test_error", "target_accuracy")  # compare with the test split's labels
NEEDS_CLASSIFIER = ("class_accuracy", "code_purity")  # label samples with the shipped classifier


def _test_labels(test) -> Optional[Tensor]:
    """The labels task metrics compare with: the test split's, or for two-domain data its target domain's."""
    return test.b.labels if test.spec.is_two_domain else test.labels


def task_metrics(model, data: TaskData, classifier, n: int) -> dict:
    """Every task metric ``model`` lists that the data allows, on ``n`` samples where samples are drawn.

    ``classifier`` is the shipped classifier for the data, or None where there is none.
    """
    metrics = {}
    with evaluating(model):
        for name in model.task_metrics:
            if (name in NEEDS_LABELS and _test_labels(data.test) is None) or \
                    (name in NEEDS_CLASSIFIER and classifier is None):
                continue
            metrics.update(TASK_METRICS[name](model, data, classifier, n))
    return metrics
