"""Image metrics: formulas against independent NumPy/SciPy computations, and validity on real MNIST."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
import torchvision.transforms.v2.functional as TF

from gankit.classifier import load_classifier
from gankit.data import ImageDataset, load_dataset, uint8_to_float
from gankit.errors import GankitError
from gankit.metrics import evaluate
from gankit.metrics.features import INCEPTION_ENV, classify, inception_fid
from gankit.metrics.images import fid, inception_score, kid, manifold_metrics, stacked_modes

N = 2000  # images per set in the validity checks


# --- formulas against independent computations ------------------------------------

@pytest.fixture(scope="module")
def small_features():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(120, 6))
    fake = rng.normal(size=(100, 6)) * 1.3 + 0.4
    return real, fake


def test_fid_matches_scipy_sqrtm(small_features):
    real, fake = small_features
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    expected = ((mu_r - mu_f) ** 2).sum() + np.trace(cov_r + cov_f - 2 * scipy.linalg.sqrtm(cov_r @ cov_f).real)
    assert fid(torch.from_numpy(real), torch.from_numpy(fake)) == pytest.approx(expected, rel=1e-6)


def test_kid_matches_unbiased_polynomial_mmd(small_features):
    real, fake = small_features
    n = 100  # a subset as large as the smaller set: every subset of the fakes is all of them
    real = real[:n]
    d = real.shape[1]

    def k(a, b):
        return (a @ b.T / d + 1) ** 3

    def off_diagonal_mean(m):
        return (m.sum() - np.trace(m)) / (n * (n - 1))

    expected = off_diagonal_mean(k(real, real)) + off_diagonal_mean(k(fake, fake)) - 2 * k(real, fake).mean()
    mean, std = kid(torch.from_numpy(real), torch.from_numpy(fake), subsets=3, subset_size=n)
    assert mean == pytest.approx(expected, rel=1e-6)
    assert std == pytest.approx(0.0, abs=1e-9)


@pytest.mark.filterwarnings("ignore:std")  # one split has no standard deviation
def test_inception_score_matches_numpy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(50, 10)) * 3
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = np.exp((p * (np.log(p) - np.log(p.mean(0)))).sum(1).mean())
    mean, _ = inception_score(torch.from_numpy(logits), splits=1)
    assert mean == pytest.approx(expected, rel=1e-6)
    confident = torch.eye(10).repeat(5, 1) * 50  # every class equally often, with certainty
    assert inception_score(confident, splits=1)[0] == pytest.approx(10.0, rel=1e-4)


def brute_force_manifold(real, fake, k_pr=3, k_dc=5):
    def kth(points, k):
        radii = []
        for a in points:
            dists = sorted(np.sqrt(((points - a) ** 2).sum(1)))
            radii.append(dists[k])  # dists[0] is the point itself
        return np.array(radii)

    def dist(a, b):
        return np.sqrt(((a - b) ** 2).sum())

    r_pr, r_dc, f_pr = kth(real, k_pr), kth(real, k_dc), kth(fake, k_pr)
    precision = np.mean([any(dist(y, x) <= r for x, r in zip(real, r_pr)) for y in fake])
    recall = np.mean([any(dist(x, y) <= r for y, r in zip(fake, f_pr)) for x in real])
    density = sum(dist(y, x) <= r for y in fake for x, r in zip(real, r_dc)) / (k_dc * len(fake))
    coverage = np.mean([any(dist(y, x) <= r for y in fake) for x, r in zip(real, r_dc)])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def test_manifold_metrics_match_brute_force(small_features):
    real, fake = small_features
    got = manifold_metrics(torch.from_numpy(real), torch.from_numpy(fake))
    expected = brute_force_manifold(real, fake)
    assert 0 < expected["precision"] < 1 and 0 < expected["coverage"] < 1  # a non-trivial case
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_stacked_modes_counts_triples_and_kl():
    digits = torch.tensor([[1, 2, 3], [1, 2, 3], [0, 0, 0], [9, 9, 9]])
    got = stacked_modes(digits)
    p = np.array([0.5, 0.25, 0.25])
    assert got["modes_covered"] == 3 and got["modes_total"] == 1000
    assert got["kl_to_uniform"] == pytest.approx((p * np.log(p * 1000)).sum())
    all_modes = torch.cartesian_prod(*[torch.arange(10)] * 3)
    assert stacked_modes(all_modes) == {"modes_covered": 1000, "modes_total": 1000, "kl_to_uniform": 0.0}


# --- validity on real MNIST ---------------------------------------------------------

@pytest.fixture(scope="module")
def mnist(shared_data):
    train = load_dataset("mnist", str(shared_data), "train", download=False)
    test = load_dataset("mnist", str(shared_data), "test", download=False)
    return train, test


@pytest.fixture(scope="module")
def net():
    return load_classifier("mnist")


@pytest.fixture(scope="module")
def test_features(mnist, net):
    return classify(net, uint8_to_float(mnist[1].images[:N]))[0]


def features(net, images):
    return classify(net, images)[0]


def test_train_vs_test_split_is_near_zero(mnist, net, test_features):
    train_features = features(net, uint8_to_float(mnist[0].images[:N]))
    noisy = features(net, uint8_to_float(mnist[1].images[:N]) + 0.2 * torch.randn(N, 1, 28, 28))
    split_fid = fid(train_features, test_features)
    assert split_fid < 0.05 * fid(noisy, test_features)
    got = manifold_metrics(test_features, train_features)
    # k-NN manifolds of 2,000 points miss some of their own distribution: about 0.87 is "all of it"
    assert got["precision"] > 0.8 and got["recall"] > 0.8 and got["coverage"] > 0.85
    assert 0.8 < got["density"] < 1.2


def test_fid_rises_with_noise_and_blur(mnist, net, test_features):
    clean = uint8_to_float(mnist[0].images[:N])
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(clean.shape, generator=generator)
    noisy = [fid(test_features, features(net, clean + s * noise)) for s in (0.0, 0.1, 0.2, 0.4, 0.8)]
    blurred = [fid(test_features, features(net, TF.gaussian_blur(clean, [7, 7], [s, s])))
               for s in (0.3, 0.6, 1.0, 1.5, 2.5)]
    assert noisy == sorted(noisy) and len(set(noisy)) == len(noisy), noisy
    assert blurred == sorted(blurred) and len(set(blurred)) == len(blurred), blurred


def test_one_class_generator_has_high_precision_low_recall(mnist, net, test_features):
    train = mnist[0]
    ones = uint8_to_float(train.images[train.labels == 1][:N])
    got = manifold_metrics(test_features, features(net, ones))
    assert got["precision"] > 0.8  # as high as real training images get (see the test above)
    assert got["recall"] < 0.2 and got["coverage"] < 0.2
    assert inception_score(classify(net, ones)[1])[0] < 1.5


class ReplayModel(torch.nn.Module):
    """A fake generator that hands out given uint8 images in order.

    Given ``labels`` it is conditional: asked for class c it returns images
    labelled c when c is in ``honoured`` and images labelled 0 otherwise.
    """

    family = "unconditional"  # evaluate dispatches on the family: scored on samples

    def __init__(self, images, labels=None, honoured=range(10)):
        super().__init__()
        self.images, self.labels, self.honoured = images, labels, set(honoured)
        conditional = labels is not None  # the class-conditional contract of gankit.models.base.Model:
        self.sample_labels = "class" if conditional else None
        self.task_metrics = ("class_accuracy",) if conditional else ()
        self.num_labels = 10
        self.device = torch.device("cpu")
        self.position = 0

    def sample(self, n, labels=None):
        if labels is None:
            self.position += n
            return uint8_to_float(self.images[self.position - n:self.position])
        assert len(labels) == n and labels.dtype == torch.long and (labels == labels[0]).all()
        wanted = int(labels[0]) if int(labels[0]) in self.honoured else 0
        return uint8_to_float(self.images[self.labels == wanted][:n])


def test_evaluate_scores_resized_test_images_as_real(shared_data):
    data = load_dataset("mnist", str(shared_data), "test", image_size=32, download=False)
    model = ReplayModel(load_dataset("mnist", str(shared_data), "train", image_size=32,
                                     download=False).images[:1000])
    got = evaluate(model, data, 1000)
    assert got["real_images"] == 1000
    assert got["fid"] < 1.0 and got["kid"] < 0.01
    assert got["precision"] > 0.85 and got["recall"] > 0.85
    assert got["inception_score"] > 8.5
    assert "class_accuracy" not in got


def test_conditional_accuracy_per_class(mnist):
    test = mnist[1]
    model = ReplayModel(test.images, test.labels, honoured=range(5))
    got = evaluate(model, test, 500)
    per_class = got["class_accuracy_per_class"]
    assert len(per_class) == 10
    assert all(acc > 0.95 for acc in per_class[:5]) and all(acc < 0.05 for acc in per_class[5:])
    assert got["class_accuracy"] == pytest.approx(sum(per_class) / 10)
    assert got["class_accuracy_min"] == min(per_class)


def test_stacked_mnist_counts_modes_through_evaluate(mnist):
    test = mnist[1]
    gen = torch.Generator().manual_seed(0)
    stacked = torch.cat([test.images[torch.randint(len(test), (2000,), generator=gen)] for _ in range(3)], 1)
    data = ImageDataset("stacked-mnist", stacked, None, None)
    got = evaluate(ReplayModel(stacked), data, 2000)
    assert 800 < got["modes_covered"] <= 1000 and got["kl_to_uniform"] < 0.5
    assert got["fid"] < 1.0


def test_other_image_data_says_what_is_unavailable():
    data = ImageDataset("folder:/pictures", torch.zeros(20, 3, 8, 8, dtype=torch.uint8))
    got = evaluate(ReplayModel(data.images), data, 20)
    assert "fid" not in got and "unavailable" in got and "fid" in got["unavailable"]


def test_inception_fid_without_weights_is_one_clear_error(monkeypatch, tmp_path):
    images = torch.zeros(4, 1, 28, 28)
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    with pytest.raises(GankitError, match=INCEPTION_ENV):
        inception_fid(images, images)
    monkeypatch.setenv(INCEPTION_ENV, str(tmp_path / "absent.pth"))
    with pytest.raises(GankitError, match="does not exist"):
        inception_fid(images, images)
