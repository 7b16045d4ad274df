"""train.compile: the players' losses under torch.compile give the eager run's numbers, and a loss
that cannot be compiled falls back to eager execution with one warning line."""
from __future__ import annotations

import pytest
import torch
from test_trainer import NullLogger, make_config

from gankit.errors import GankitError
from gankit.train.compile import CompiledLoss
from gankit.train.trainer import Trainer


@pytest.fixture(scope="module")
def broken_backend():
    """A torch.compile backend that cannot capture anything, as a compiler missing on a machine would."""
    from torch._dynamo import register_backend

    @register_backend(name="gankit_test_broken")
    def broken(graph, example_inputs):
        raise RuntimeError("this backend captures nothing")

    return "gankit_test_broken"


def trained(rounds=3, **train):
    notes = []
    trainer = Trainer(make_config("gan", "ring8", **train), run_dir=None, notify=notes.append)
    for _ in range(rounds):
        trainer.train_round(NullLogger())
    return trainer, notes


def assert_same_weights(a: Trainer, b: Trainer):
    for (name, x), (_, y) in zip(a.model.named_parameters(), b.model.named_parameters()):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6, msg=name)


def test_compiled_losses_train_as_the_eager_ones_do():
    eager, _ = trained()
    compiled, notes = trained(compile=True, compile_backend="aot_eager")
    assert notes == []
    assert all(isinstance(p.loss, CompiledLoss) and p.loss.is_compiled for p in compiled.players)
    assert_same_weights(compiled, eager)
    assert any(not torch.equal(p, q) for p, q in zip(compiled.model.parameters(),
                                                      trained(rounds=0)[0].model.parameters()))


def test_a_loss_that_cannot_be_compiled_runs_uncompiled_after_one_warning(broken_backend):
    eager, _ = trained()
    fallen_back, notes = trained(compile=True, compile_backend=broken_backend)
    assert [note.split(" could not")[0] for note in notes] == ["train.compile: gan's D loss",
                                                              "train.compile: gan's G loss"]
    assert all("this backend captures nothing" in note and note.endswith("it runs uncompiled.") for note in notes)
    assert not any(p.loss.is_compiled for p in fallen_back.players)
    assert_same_weights(fallen_back, eager)


def test_an_unknown_backend_is_refused():
    with pytest.raises(GankitError, match="train.compile_backend 'nope' is not a torch.compile backend"):
        Trainer(make_config("gan", "ring8", compile=True, compile_backend="nope"), run_dir=None)
