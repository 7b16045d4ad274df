"""The class-aware family (cgan, acgan, infogan, sgan, clustergan): loss terms against NumPy,
network shapes, one CPU training step per model, the labelled batch streams, and bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit.config import resolve
from gankit.data import Batch, DataSpec, load_dataset
from gankit.data.labels import batch_stream, labelled_subset
from gankit.errors import GankitError
from gankit.losses import (auxiliary_class_loss, cluster_code_loss, feature_matching, info_loss, realness,
                           semi_supervised_d_loss)
from gankit.registry import all_models, get_model
from gankit.train.trainer import Trainer

MODELS = ["acgan", "cgan", "clustergan", "infogan", "sgan"]
TINY = {"cgan": {"width": 8}, "acgan": {"width": 8}, "infogan": {"width": 8, "z_dim": 8},
        "sgan": {"width": 16, "z_dim": 8}, "clustergan": {"width": 8, "z_dim": 4, "n_critic": 2}}
MNIST32 = DataSpec("mnist", "image", (1, 32, 32), 10)


def logsumexp(a, axis=1):
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def cross_entropy(logits, labels):
    return float(np.mean(logsumexp(logits) - logits[np.arange(len(labels)), labels]))


def softplus(a):
    return np.log1p(np.exp(a))


LOGITS = np.array([[1.0, -0.5, 0.25], [0.3, 2.0, -1.0]])
OTHER = np.array([[-0.2, 0.4, 1.5], [0.0, 0.0, 0.7]])
t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731


# --- loss terms against NumPy ---------------------------------------------------------------

def test_auxiliary_class_loss_is_both_cross_entropies():
    y, y_fake = np.array([0, 1]), np.array([2, 2])
    expected = cross_entropy(LOGITS, y) + cross_entropy(OTHER, y_fake)
    assert auxiliary_class_loss(t(LOGITS), torch.tensor(y), t(OTHER), torch.tensor(y_fake)).item() == \
        pytest.approx(expected)
    # the NumPy helper against a hand computation: -log(e^1 / (e^1 + e^-0.5 + e^0.25)) = -log(2.71828 / 4.60884)
    assert cross_entropy(LOGITS[:1], np.array([0])) == pytest.approx(0.52798, abs=1e-5)


def test_info_loss_adds_categorical_ce_and_gaussian_nll():
    q = np.array([[2.0, 0.0, -1.0, 0.5, -0.3], [0.1, 0.2, 0.3, -0.9, 0.8]])  # 3 logits, 2 means
    categorical, continuous = np.array([0, 2]), np.array([[0.7, -0.1], [-1.0, 0.2]])
    nll = 0.5 * ((continuous - q[:, 3:]) ** 2).sum(1).mean()
    for weight in (1.0, 0.1):
        expected = cross_entropy(q[:, :3], categorical) + weight * nll
        got = info_loss(t(q), torch.tensor(categorical), t(continuous), weight).item()
        assert got == pytest.approx(expected)
    assert nll == pytest.approx(0.5 * ((0.2 ** 2 + 0.2 ** 2) + (0.1 ** 2 + 0.6 ** 2)) / 2)


def test_realness_is_logsumexp_minus_the_fake_logit():
    assert realness(t(LOGITS), 3).numpy() == pytest.approx(logsumexp(LOGITS))
    with_fake = np.concatenate([LOGITS, [[0.5], [-1.0]]], 1)
    assert realness(t(with_fake), 3).numpy() == pytest.approx(logsumexp(LOGITS) - np.array([0.5, -1.0]))


@pytest.mark.parametrize("fake_column", [False, True])
def test_semi_supervised_terms(fake_column):
    labelled, unlabelled, fake = LOGITS, OTHER, LOGITS[::-1] * 0.5
    if fake_column:  # K + 1 logits: a learned fake logit in the last column
        labelled, unlabelled, fake = (np.concatenate([a, [[0.3], [-0.2]]], 1) for a in (labelled, unlabelled, fake))
    y = np.array([1, 0])
    supervised, unsupervised = semi_supervised_d_loss(t(labelled), torch.tensor(y), t(unlabelled), t(fake), 3)
    assert supervised.item() == pytest.approx(cross_entropy(labelled[:, :3], y))

    def p_real(a):  # Z / (Z + exp(l_fake)), written out
        z = np.exp(a[:, :3]).sum(1)
        return z / (z + (np.exp(a[:, 3]) if fake_column else 1.0))
    expected = -np.log(p_real(unlabelled)).mean() - np.log(1 - p_real(fake)).mean()
    assert unsupervised.item() == pytest.approx(expected)
    assert expected == pytest.approx(softplus(-logsumexp(unlabelled[:, :3]) + (unlabelled[:, 3] if fake_column else 0)
                                              ).mean() + softplus(logsumexp(fake[:, :3]) - (
                                                  fake[:, 3] if fake_column else 0)).mean())


def test_feature_matching_is_the_squared_gap_of_means():
    real, fake = np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 1.0], [2.0, -2.0]])
    # means (2, 1) and (1, 0): gaps 1 and 1
    assert feature_matching(t(real), t(fake)).item() == pytest.approx(1.0)


def test_cluster_code_loss_weights_mse_and_ce():
    z_hat, z = np.array([[0.1, -0.2], [0.0, 0.3]]), np.array([[0.0, 0.0], [0.1, 0.1]])
    c = np.array([2, 0])
    mse = ((z_hat - z) ** 2).mean()
    assert mse == pytest.approx((0.01 + 0.04 + 0.01 + 0.04) / 4)
    expected = 10 * mse + 10 * cross_entropy(LOGITS, c)
    assert cluster_code_loss(t(z_hat), t(z), t(LOGITS), torch.tensor(c)).item() == pytest.approx(expected)
    assert cluster_code_loss(t(z_hat), t(z), t(LOGITS), torch.tensor(c), 2.0, 0.5).item() == pytest.approx(
        2 * mse + 0.5 * cross_entropy(LOGITS, c))


# --- the models -----------------------------------------------------------------------------

def test_the_five_models_are_registered_with_papers():
    models = all_models()
    for name in MODELS:
        cls = models[name]
        assert cls.paper and cls.summary and "reference" in __import__(cls.__module__, fromlist=["x"]).__doc__
    assert {models[n].label_use for n in MODELS} == {"all", "none", "some"}


def build(name, spec=MNIST32, **options):
    cls = get_model(name)
    return cls(resolve({"model": name, "options": {**TINY[name], **options}}, cls.Options).options, spec)


def batch_for(model, n=6, size=32):
    x = torch.rand(n, 1, size, size) * 2 - 1
    y = torch.randint(10, (n,))
    if model.label_use == "all":
        return Batch(x, y)
    if model.label_use == "some":
        return Batch(x, None, labelled=Batch(torch.rand(n, 1, size, size) * 2 - 1, y))
    return Batch(x)


@pytest.mark.parametrize("name", MODELS)
def test_shapes(name):
    model = build(name)
    assert model.sample(5).shape == (5, 1, 32, 32)
    if model.sample_labels:
        assert model.num_labels == 10
        assert model.sample(3, torch.tensor([0, 4, 9])).shape == (3, 1, 32, 32)
    if hasattr(model, "classify"):
        assert model.classify(torch.zeros(4, 1, 32, 32)).shape == (4, 10)
    for player in model.players():
        loss, logs = player.loss(batch_for(model))
        assert loss.dim() == 0 and torch.isfinite(loss) and "loss" in logs


def test_acgan_and_sgan_heads():
    assert build("acgan").D(torch.zeros(2, 1, 32, 32)).shape == (2, 11)  # source + 10 classes
    assert build("sgan", MNIST32, nets="dcgan").D(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    assert build("sgan", MNIST32, nets="dcgan", head="k+1").D(torch.zeros(2, 1, 32, 32)).shape == (2, 11)


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_cgan_discriminator_depends_on_the_label(conditioning):
    model = build("cgan", conditioning=conditioning).eval()
    x = torch.rand(3, 1, 32, 32)
    if conditioning == "projection":  # its class embedding starts near 0: give it some weight
        torch.nn.init.normal_(model.D.embed.weight, 0.0, 1.0)
    a, b = model.D(x, torch.tensor([0, 1, 2])), model.D(x, torch.tensor([3, 4, 5]))
    assert not torch.allclose(a, b)
    mlp = build("cgan", DataSpec("mnist", "image", (1, 28, 28), 10), nets="mlp", conditioning=conditioning)
    assert mlp.D(torch.rand(3, 1, 28, 28), torch.tensor([0, 1, 2])).shape == (3,)


def test_infogan_codes_reach_the_generator_and_q_shares_d_trunk():
    model = build("infogan").eval()
    noise = torch.randn(1, model.options.z_dim).expand(2, -1)
    cont = torch.zeros(2, 2)
    a = model.generate(torch.tensor([0, 1]), cont, noise)
    assert not torch.allclose(a[0], a[1])  # the categorical code changes the image
    shifted = model.generate(torch.tensor([0, 0]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]), noise)
    assert not torch.allclose(shifted[0], shifted[1])  # and so does c2
    players = {p.name: p for p in model.players()}
    assert {id(p) for p in players["D"].parameters()} >= {id(p) for p in model.Q.parameters()}
    assert not {id(p) for p in players["G"].parameters()} & {id(p) for p in model.Q.parameters()}
    assert players["G"].optim.lr == 1e-3 and players["D"].optim.lr == 2e-4
    grid = model.traverse("c2", torch.linspace(-2, 2, 5))
    assert grid.shape == (50, 1, 32, 32)


def test_clustergan_trains_g_and_e_together():
    model = build("clustergan")
    players = {p.name: p for p in model.players()}
    ids = {id(p) for p in players["G"].parameters()}
    assert {id(p) for p in model.E.parameters()} <= ids and {id(p) for p in model.G.parameters()} <= ids
    assert players["D"].steps == 2 and players["D"].optim.betas == (0.5, 0.9)
    assert model.noise(10000).std().item() == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("name", MODELS)
def test_one_training_step_on_digits(tmp_path, name):
    tree = {"model": name, "data": {"name": "digits", **({"labels": 20} if name == "sgan" else {})},
            "train": {"steps": 2, "batch_size": 16, "eval_samples": 0, "sample_every": 1000,
                      "checkpoint_every": 1000}, "options": TINY[name]}
    trainer = Trainer(resolve(tree, get_model(name).Options), tmp_path / "run")
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert trainer.fit(progress=False)
    after = trainer.model.state_dict()
    changed = [k for k in before if before[k].is_floating_point() and not torch.equal(before[k], after[k])]
    assert any(k.startswith("G.") for k in changed) and any(k.startswith("D.") for k in changed)
    assert all(torch.isfinite(v).all() for v in after.values() if v.is_floating_point())
    assert (tmp_path / "run" / "samples" / "latest.png").is_file()


# --- labelled data --------------------------------------------------------------------------

def test_labelled_subset_is_balanced_exact_and_seeded():
    labels = load_dataset("digits").labels
    subset = labelled_subset(labels, 100, 10, seed=3)
    assert len(subset) == 100 and len(set(subset.tolist())) == 100
    assert torch.bincount(labels[subset], minlength=10).tolist() == [10] * 10
    assert torch.equal(subset, labelled_subset(labels, 100, 10, seed=3))
    assert not torch.equal(subset, labelled_subset(labels, 100, 10, seed=4))
    uneven = labelled_subset(labels, 23, 10, seed=0)
    assert torch.bincount(labels[uneven], minlength=10).tolist() == [3, 3, 3] + [2] * 7


@pytest.mark.parametrize("n,fragment", [(5, "fewer than the 10 classes"), (5000, "exceeds the 1797")])
def test_labelled_subset_refuses_impossible_sizes(n, fragment):
    with pytest.raises(GankitError, match=fragment):
        labelled_subset(load_dataset("digits").labels, n, 10, seed=0)


def test_semi_supervised_stream_hides_labels_and_draws_labelled_images_from_the_subset():
    data = load_dataset("digits")
    stream = batch_stream(data, 32, seed=1, device=torch.device("cpu"), label_use="some", n_labels=20)
    subset = labelled_subset(data.labels, 20, 10, seed=1)
    allowed = {bytes(img.numpy()) : int(y) for img, y in zip(data.images[subset], data.labels[subset])}
    seen = set()
    for _ in range(10):
        batch = stream.next()
        assert batch.y is None  # no label leaks into the unlabelled stream
        assert len(batch.labelled) == 20 and batch.labelled.y is not None
        for img, y in zip(batch.labelled.x, batch.labelled.y):
            key = bytes(((img + 1) * 127.5).round().to(torch.uint8).numpy())
            assert allowed[key] == int(y)  # a subset image, with its own label
            seen.add(key)
    assert len(seen) == 20
    plain = batch_stream(data, 32, 0, torch.device("cpu"), "none", None).next()
    assert plain.y is None  # unsupervised models never see labels
    assert batch_stream(data, 32, 0, torch.device("cpu"), "all", None).next().y is not None


def test_semi_supervised_stream_resumes_exactly():
    data = load_dataset("digits")
    a = batch_stream(data, 16, 0, torch.device("cpu"), "some", 30)
    for _ in range(5):
        a.next()
    b = batch_stream(data, 16, 0, torch.device("cpu"), "some", 30)
    b.load_state_dict(a.state_dict())
    x, y = a.next(), b.next()
    assert torch.equal(x.x, y.x) and torch.equal(x.labelled.x, y.labelled.x)


@pytest.mark.parametrize("name,data,labels,fragment", [
    ("cgan", "ring8", None, "cgan trains on class labels, and ring8 has none"),
    ("sgan", "ring8", None, "sgan trains on class labels, and ring8 has none"),
    ("cgan", "digits", 100, "data.labels keeps a labelled subset for semi-supervised models; cgan uses every"),
    ("infogan", "digits", 100, "infogan uses no labels"),
    ("sgan", "digits", 5, "data.labels=5 is fewer than the 10 classes"),
    ("sgan", "digits", 1798, "data.labels=1798 exceeds the 1797 training images"),
])
def test_label_requirements_are_checked_before_training(tmp_path, name, data, labels, fragment):
    tree = {"model": name, "data": {"name": data, "labels": labels}, "train": {"steps": 1}, "options": TINY[name]}
    with pytest.raises(GankitError, match=fragment):
        Trainer(resolve(tree, get_model(name).Options), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_class_aware_models_need_images():
    with pytest.raises(ValueError, match="infogan needs image data"):
        build("infogan", DataSpec("ring8", "toy2d", (2,)))


# --- the command line -------------------------------------------------------------------------

from test_cli import TINY as CLI_TINY  # noqa: E402
from test_cli import _write_pngs, assert_one_sentence_error, run, snapshot  # noqa: E402


def _cli_options(name):
    return [arg for key, value in TINY[name].items() for arg in ("--set", f"options.{key}={value}")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 4-step run of every model on digits (sgan with 20 labels)."""
    from gankit.cli import main

    folder = tmp_path_factory.mktemp("runs")
    for name in MODELS:
        labels = ["--set", "data.labels=20"] if name == "sgan" else []
        argv = ["train", name, "--data", "digits", "--steps", "4", "--batch-size", "16", "--out",
                str(folder / name), *CLI_TINY, *_cli_options(name), *labels]
        assert main(argv) == 0
    assert main(["train", "gan", "--data", "digits", "--steps", "2", "--out", str(folder / "gan"), *CLI_TINY]) == 0
    return folder


def test_sample_draws_one_row_per_class_by_default(capsys, runs, tmp_path):
    from PIL import Image

    for name, rows in (("cgan", 10), ("infogan", 10)):
        code, out, err = run(capsys, "sample", runs / name, "--out", tmp_path / f"{name}.png")
        assert code == 0, err
        assert "wrote 100 samples" in out
        with Image.open(tmp_path / f"{name}.png") as image:
            assert image.size == (10 * 33 + 1, rows * 33 + 1)  # 8x8 digits shown at 32x32


def test_sample_one_class_and_a_traversal(capsys, runs, tmp_path):
    from PIL import Image

    code, out, err = run(capsys, "sample", runs / "acgan", "--class", 3, "-n", 8, "--out", tmp_path / "three.png")
    assert code == 0 and "wrote 8 samples" in out, err
    code, out, err = run(capsys, "sample", runs / "infogan", "--traverse", "c2", "--out", tmp_path / "c2.png")
    assert code == 0 and "wrote 90 samples" in out, err
    with Image.open(tmp_path / "c2.png") as image:
        assert image.size == (9 * 33 + 1, 10 * 33 + 1)  # columns: c2 from -2 to 2; rows: the categorical code


@pytest.mark.parametrize("run_name,argv,fragment", [
    ("cgan", ["--class", 12], "--class 12 is out of range: cgan on digits takes classes 0 to 9"),
    ("infogan", ["--class", -1], "takes code values 0 to 9"),
    ("gan", ["--class", 3], "--class needs a model that samples by class or code; gan takes no labels"),
    ("cgan", ["--traverse", "c2"], "cgan has none (infogan has c2 and c3)"),
    ("infogan", ["--traverse", "c7"], "infogan has c2, c3"),
])
def test_sample_requests_that_do_not_fit_the_model(capsys, runs, run_name, argv, fragment):
    before = snapshot(runs / run_name)
    assert_one_sentence_error(*run(capsys, "sample", runs / run_name, *argv)[::2], fragment)
    assert snapshot(runs / run_name) == before


def test_eval_adds_each_models_task_metrics(capsys, runs):
    expected = {"cgan": {"class_accuracy", "class_accuracy_min"}, "acgan": {"class_accuracy"},
                "infogan": {"cluster_acc", "cluster_nmi", "cluster_ari", "code_sample_error"},
                "clustergan": {"cluster_acc", "cluster_nmi", "cluster_ari", "code_sample_error", "kmeans_purity",
                               "kmeans_nmi", "kmeans_ari"},
                "sgan": {"test_error", "baseline_test_error"}}
    for name, keys in expected.items():
        code, out, err = run(capsys, "eval", runs / name, "-n", 200, "--json")
        assert code == 0, err
        metrics = json.loads(out)["metrics"]
        assert keys <= set(metrics), (name, metrics)
        for key in keys:
            assert 0.0 <= metrics[key] <= 1.0 or key.endswith("_ari")
    assert metrics["labels"] == 20


def test_conditional_model_on_a_folder_without_labels(capsys, tmp_path):
    _write_pngs(tmp_path / "imgs", 12)
    code, _, err = run(capsys, "train", "cgan", "--data", f"folder:{tmp_path / 'imgs'}", "--set",
                       "data.image_size=8", "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, "cgan trains on class labels, and folder:")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name,key,fragment", [
    ("cgan", "pack", "options.pack does not apply here: PacGAN packing judges several samples at once"),
    ("infogan", "pack", "a pack has no single label or code"),
    ("sgan", "loss", "options.loss does not apply here: sgan's D loss is the semi-supervised one"),
    ("clustergan", "loss", "clustergan's critic is a Wasserstein one"),
])
def test_options_that_do_not_apply_are_refused_with_the_reason(capsys, tmp_path, name, key, fragment):
    code, _, err = run(capsys, "train", name, "--set", f"options.{key}=2", "--out", tmp_path / "r")
    assert_one_sentence_error(code, err, fragment)
    assert not (tmp_path / "r").exists()


def test_purity_by_hand():
    from gankit.metrics.tasks import purity

    # cluster 0 holds classes 0, 0, 1 (2 right), cluster 1 holds 1, 1 (2 right)
    assert purity([0, 0, 0, 1, 1], [0, 0, 1, 1, 1]) == pytest.approx(4 / 5)
    assert purity([2, 2, 0, 0, 1], [0, 0, 1, 1, 2]) == 1.0  # any naming of the clusters


def test_latent_kmeans_recovers_classes_that_the_latent_separates():
    from types import SimpleNamespace

    from gankit.metrics.tasks import TaskData, latent_kmeans

    labels = torch.arange(3).repeat_interleave(20)
    images = (labels * 100).to(torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).contiguous()

    class Stub:  # its code of an image is the image's brightness: three tight groups
        num_labels, device = 3, torch.device("cpu")

        def latent(self, x):
            return x.mean((1, 2, 3)).unsqueeze(1)

    scores = latent_kmeans(Stub(), TaskData(SimpleNamespace(images=images, labels=labels), train=None), None, 0)
    assert scores == {"kmeans_purity": 1.0, "kmeans_nmi": pytest.approx(1.0), "kmeans_ari": pytest.approx(1.0)}
