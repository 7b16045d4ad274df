"""cogan (the coupled family): which layers the two GANs share (G's first, D's last), that one optimizer step
moves the shared weights once for both, that batches never come as pairs, one CPU training step, the pair
scores against hand-made pairs, and a tiny learning test.

The learning test trains tiny nets (width 8, z of 16 numbers) for 300 rounds of batch 32 on 4,000 MNIST
digits and their negatives at 16x16 (drawn independently). Over 1,000 pairs from one z each, the shipped
MNIST classifier read the same digit in both images (the negative turned back) for 71-82% of pairs on
seeds 0-2 (2-core AMD EPYC, one thread, about 7 s each), where the label frequencies alone give 17-20%.
"""
from __future__ import annotations

import pytest
import torch

from gankit.config import resolve
from gankit.data import DataSpec, ImageDataset, load_dataset, resized, uint8_to_float
from gankit.data.translation import TwoDomainDataset
from gankit.metrics import evaluate
from gankit.metrics.coupled import coupled_grid, coupled_metrics, reader
from gankit.registry import all_models, get_model
from gankit.train.trainer import Trainer

TINY = {"width": 4, "z_dim": 8}
QUIET = {"eval_samples": 0, "sample_every": 100000, "checkpoint_every": 100000, "log_every": 100000,
         "precision": "fp32"}
DIGITS_AND_COLOUR = DataSpec("pairs:mnist>mnist-m", "image", (1, 32, 32), 10, shape_b=(3, 32, 32), paired=True)


def build(spec=DIGITS_AND_COLOUR, **options):
    cls = get_model("cogan")
    return cls(resolve({"model": "cogan", "options": {**TINY, **options}}, cls.Options).options, spec)


def digits_and_negatives(size=16) -> TwoDomainDataset:
    """Paired two-domain data from scikit-learn's digits: each digit and its negative."""
    digits = resized(load_dataset("digits"), size)
    negatives = ImageDataset("digits-negative", 255 - digits.images, digits.labels, 10)
    return TwoDomainDataset("digits>digits-negative", digits, negatives, paired=True)


def trainer(tmp_path, data, steps=1, batch_size=8, options=None, **train):
    tree = {"model": "cogan", "data": {"name": data.spec.name},
            "train": {"steps": steps, "batch_size": batch_size, **QUIET, **train}, "options": options or TINY}
    return Trainer(resolve(tree, get_model("cogan").Options), tmp_path / "run", dataset=data,
                   notify=lambda message: None)


def ids(*modules) -> set[int]:
    return {id(p) for module in modules for p in module.parameters()}


# --- weight sharing --------------------------------------------------------------------------------

def test_generators_share_their_first_layers_and_discriminators_their_last():
    model = build()
    assert model.family == "coupled" and all_models()["cogan"].paper.startswith("Liu & Tuzel")
    generator_a, generator_b = (torch.nn.Sequential(model.G_shared, head) for head in (model.G_a, model.G_b))
    shared = list(model.G_shared.parameters())
    assert shared and [p for p in generator_a[0].parameters()] == shared  # the same Parameter objects ...
    assert all(a is b for a, b in zip(generator_a[0].parameters(), generator_b[0].parameters()))
    assert not ids(model.G_a) & ids(model.G_b)  # ... and private last layers, one per domain's channels
    assert model.G_a[0].out_channels == 1 and model.G_b[0].out_channels == 3
    # D: private FIRST layers (the reference shares these), shared last layers up to the logit
    assert model.D_a[0].in_channels == 1 and model.D_b[0].in_channels == 3 and not ids(model.D_a) & ids(model.D_b)
    assert isinstance(model.D_shared[-2], torch.nn.Conv2d) and model.D_shared[-2].out_channels == 1
    z = torch.randn(5, 8)
    a, b = model.pair(z)
    assert a.shape == (5, 1, 32, 32) and b.shape == (5, 3, 32, 32)
    assert model.judge(a, "a").shape == model.judge(b, "b").shape == (5,)
    players = {p.name: set(map(id, p.parameters())) for p in model.players()}
    assert players["G"] == ids(model.G_shared, model.G_a, model.G_b) and len(players["G"]) == len(
        list(model.G_shared.parameters()) + list(model.G_a.parameters()) + list(model.G_b.parameters()))
    assert players["D"] == ids(model.D_a, model.D_b, model.D_shared)


def test_one_optimizer_step_moves_the_shared_weights_once_for_both_generators():
    model = build()
    optimizer = torch.optim.SGD([p for p in model.players()[1].parameters()], lr=0.1)
    z = torch.randn(4, 8)
    a, b = model.pair(z)
    # each domain's loss alone reaches the shared layers and its own head, never the other head
    grads = [torch.autograd.grad(out.sum(), list(model.G_shared.parameters()) + list(model.G_a.parameters())
                                 + list(model.G_b.parameters()), allow_unused=True, retain_graph=True)
             for out in (a, b)]
    shared_count, head_count = len(list(model.G_shared.parameters())), len(list(model.G_a.parameters()))
    assert all(g is not None for g in grads[0][:shared_count + head_count])
    assert all(g is None for g in grads[0][shared_count + head_count:])
    assert all(g is None for g in grads[1][shared_count:shared_count + head_count])
    before = [p.detach().clone() for p in model.G_shared.parameters()]
    loss = model.judge(a, "a").sum() + model.judge(b, "b").sum()
    optimizer.zero_grad()
    loss.backward()
    expected = [w - 0.1 * p.grad for w, p in zip(before, model.G_shared.parameters())]  # both domains' gradients
    optimizer.step()
    generator_a, generator_b = (torch.nn.Sequential(model.G_shared, head) for head in (model.G_a, model.G_b))
    for through_a, through_b, old, new in zip(generator_a[0].parameters(), generator_b[0].parameters(), before,
                                              expected):
        assert through_a is through_b and torch.allclose(through_a, new) and not torch.equal(through_a, old)


def test_refuses_one_domain_data_and_sharing_nothing():
    with pytest.raises(ValueError, match="couples two image domains"):
        build(DataSpec("mnist", "image", (1, 32, 32), 10))
    with pytest.raises(ValueError, match="g_private must lie below 4"):
        build(g_private=4)
    with pytest.raises(ValueError, match="share at least one layer"):
        build(d_private=4)
    assert len(list(build(g_private=3, d_private=3).D_shared.parameters())) == 2  # the logit layer alone


# --- training --------------------------------------------------------------------------------------

def test_training_never_pairs_the_domains_and_one_step_updates_every_player(tmp_path):
    run = trainer(tmp_path, digits_and_negatives())
    batch = run.batches.next()
    partners = ((batch.x_b[:, None] + batch.x[None]).abs() < 1e-6).flatten(2).all(2)  # B image i is A image j's negative
    assert not partners.diagonal().all() and partners.sum() <= 2
    before = {p.name: [w.detach().clone() for w in p.parameters()] for p in run.players}
    run.fit(progress=False)
    for player in run.players:
        assert all(not torch.equal(old, new) for old, new in zip(before[player.name], player.parameters()))
    from PIL import Image

    with Image.open(tmp_path / "run" / "samples" / "latest.png") as picture:  # 4 x (an A row above a B row) of 8
        assert picture.size == (8 * 33 + 1, 8 * 33 + 1)


# --- the pair scores -------------------------------------------------------------------------------

class Replay(torch.nn.Module):
    """A stand-in coupled model that 'samples' given pairs in order."""

    family = "coupled"

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b, self.position = a, b, 0
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    @property
    def device(self):
        return self.anchor.device

    def sample(self, n, labels=None):
        rows = slice(self.position, self.position + n)
        self.position += n
        return self.a[rows], self.b[rows]


def test_pair_scores_read_the_negative_back_into_digits(shared_data):
    test = load_dataset("pairs:mnist>mnist-negative", str(shared_data), "test", download=False)
    digits = uint8_to_float(test.a.images[:500])
    paired = coupled_metrics(Replay(digits, -digits), test, 500)
    assert paired["pairs"] == 500 and paired["pair_consistency"] > 0.98 and "unavailable" not in paired
    assert paired["a_fid"] < 1 and paired["b_fid"] < 1
    assert 0.09 < paired["chance_consistency"] < 0.12
    shuffled = evaluate(Replay(digits, -digits.roll(1, 0)), test, 500)  # through the family's dispatch
    assert shuffled["pair_consistency"] < 0.2
    negative_reader, mnist_reader = reader("mnist-negative"), reader("mnist")
    assert torch.allclose(negative_reader(-digits[:8])[1], mnist_reader(digits[:8])[1], atol=1e-5)
    assert reader("folder:/pictures (B)") is None


def test_a_domain_without_a_classifier_has_no_pair_score():
    images = torch.zeros(12, 1, 16, 16, dtype=torch.uint8)
    test = TwoDomainDataset("pairs:folder:x", ImageDataset("mnist", images), ImageDataset("folder:x (B)", images),
                            paired=True)
    metrics = coupled_metrics(Replay(uint8_to_float(images), uint8_to_float(images)), test, 12)
    assert "a_fid" in metrics and "b_fid" not in metrics and "pair_consistency" not in metrics
    assert "folder:x (B)" in metrics["unavailable"]


def test_the_picture_puts_each_domain_row_above_the_other_for_the_same_z():
    model = build(DataSpec("pairs:mnist>mnist-m", "image", (1, 8, 8), 10, shape_b=(3, 8, 8), paired=True))
    torch.manual_seed(0)
    images, per_row = coupled_grid(model, columns=3, rows=2)
    torch.manual_seed(0)
    a, b = model.eval().sample(6)
    assert per_row == 3 and images.shape == (12, 3, 8, 8)  # grey shown as RGB beside colour
    assert torch.equal(images[:3], a[:3].expand(-1, 3, -1, -1)) and torch.equal(images[3:6], b[:3])
    assert torch.equal(images[6:9], a[3:].expand(-1, 3, -1, -1)) and torch.equal(images[9:], b[3:])


def test_cogan_learns_pairs_of_one_digit_from_unpaired_batches(tmp_path, shared_data):
    name = "pairs:mnist>mnist-negative"
    full = load_dataset(name, str(shared_data), "train", download=False)
    train = resized(TwoDomainDataset(name, full.a.select(slice(0, 4000)), full.b.select(slice(0, 4000)), True), 16)
    test = resized(load_dataset(name, str(shared_data), "test", download=False), 16)
    run = trainer(tmp_path, train, steps=300, batch_size=32, options={"width": 8, "z_dim": 16, "lr": 1e-3})
    run.fit(progress=False)
    metrics = coupled_metrics(run.model, test, 1000)
    assert metrics["pair_consistency"] > 0.5, metrics
    assert metrics["pair_consistency"] > 2.5 * metrics["chance_consistency"], metrics
