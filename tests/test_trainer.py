"""The trainer: rounds, resume, checkpoints, EMA, precision."""
from __future__ import annotations

import json
import os
import signal

import pytest
import torch

from gankit.config import resolve
from gankit.errors import GankitError
from gankit.registry import get_model
from gankit.train.checkpoint import load_checkpoint, save_checkpoint
from gankit.train.run import LATEST
from gankit.train.trainer import Trainer


def make_config(model="gan", data="ring8", steps=30, **train):
    options = {"width": 16, "z_dim": 8} if model in ("gan", "dcgan") else {}
    tree = {"model": model, "data": {"name": data},
            "train": {"steps": steps, "batch_size": 32, "log_every": 5, "sample_every": 1000,
                      "checkpoint_every": 1000, "eval_samples": 0, **train},
            "options": options}
    return resolve(tree, get_model(model).Options)


class NullLogger:
    def accumulate(self, *args):
        pass


def weights(trainer):
    state = trainer.state_dict()
    flat = {f"model.{k}": v for k, v in state["model"].items()}
    for name, ema in state["ema"].items():
        flat.update({f"ema.{name}.{k}": v for k, v in ema.items()})
    for name, opt in state["optimizers"].items():
        for pid, slots in opt["state"].items():
            flat.update({f"opt.{name}.{pid}.{k}": v for k, v in slots.items()})
    return flat


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs"


@pytest.mark.parametrize("model,data", [("gan", "ring8"), ("dcgan", "digits")])
def test_resume_is_bit_identical(tmp_path, model, data):
    config = make_config(model, data, steps=40, ema_decay=0.9)
    straight = Trainer(config, tmp_path / "straight")
    straight.fit(progress=False)

    first = Trainer(make_config(model, data, steps=40, ema_decay=0.9), tmp_path / "split")
    first.fit(total_steps=17, progress=False)
    resumed = Trainer(make_config(model, data, steps=40, ema_decay=0.9), tmp_path / "split")
    resumed.load_state_dict(load_checkpoint(tmp_path / "split" / LATEST, model))
    assert resumed.step == 17
    resumed.fit(progress=False)
    assert resumed.step == straight.step == 40
    assert_identical(weights(straight), weights(resumed))
    # the metrics log has each logged step once
    steps = [json.loads(line)["step"] for line in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 40


def test_ctrl_c_saves_and_resume_matches(tmp_path, monkeypatch):
    straight = Trainer(make_config(steps=30), tmp_path / "straight")
    straight.fit(progress=False)

    interrupted = Trainer(make_config(steps=30), tmp_path / "run")
    original_round = interrupted.train_round

    def round_then_interrupt(logger):
        original_round(logger)
        if interrupted.step == 12:
            os.kill(os.getpid(), signal.SIGINT)  # handled: finish the round, save, stop

    monkeypatch.setattr(interrupted, "train_round", round_then_interrupt)
    assert interrupted.fit(progress=False) is False
    state = load_checkpoint(tmp_path / "run" / LATEST, "gan")
    assert state["step"] == 12

    resumed = Trainer(make_config(steps=30), tmp_path / "run")
    resumed.load_state_dict(state)
    assert resumed.fit(progress=False) is True
    assert_identical(weights(straight), weights(resumed))


def test_n_critic_draws_fresh_batches_and_steps_each_player(tmp_path):
    trainer = Trainer(make_config(), tmp_path / "run")
    trainer.players[0].steps = 3  # D
    drawn = []
    original_next = trainer.batches.next
    trainer.batches.next = lambda: drawn.append(original_next()) or drawn[-1]
    counts = {"D": 0, "G": 0}
    trainer.model.after_step = lambda name: counts.__setitem__(name, counts[name] + 1)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    trainer.train_round(NullLogger())
    assert counts == {"D": 3, "G": 1}
    assert len(drawn) == 4
    assert not any(torch.equal(drawn[0].x, other.x) for other in drawn[1:])
    assert all(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items() if "weight" in k)


def test_generator_step_leaves_discriminator_gradients_alone(tmp_path):
    trainer = Trainer(make_config(), tmp_path / "run")
    g_player = trainer.players[1]
    d_before = [p.clone() for p in trainer.model.D.parameters()]
    batch = trainer.batches.next()
    loss, _ = g_player.loss(batch)
    trainer.optimizers["G"].zero_grad()
    loss.backward(inputs=g_player.parameters())
    assert all(p.grad is None for p in trainer.model.D.parameters())
    trainer.optimizers["G"].step()
    assert all(torch.equal(a, b) for a, b in zip(d_before, trainer.model.D.parameters()))


def test_linear_lr_decay_runs(tmp_path):
    trainer = Trainer(make_config(steps=10, lr_decay="linear", lr_decay_start=0.6), tmp_path / "run")
    seen = []
    for _ in range(10):
        trainer.train_round(NullLogger())
        seen.append(trainer.optimizers["G"].param_groups[0]["lr"] / 2e-4)
    # rounds 0-5 at full rate, then (10 - step) / 4 for steps 6..9
    assert seen == pytest.approx([1, 1, 1, 1, 1, 1, 1.0, 0.75, 0.5, 0.25])
    assert trainer.optimizers["D"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.25)


def test_step_lr_decay_runs(tmp_path):
    trainer = Trainer(make_config(steps=7, lr_decay="step", lr_step_every=3, lr_step_factor=0.5), tmp_path / "run")
    seen = []
    for _ in range(7):
        trainer.train_round(NullLogger())
        seen.append(trainer.optimizers["D"].param_groups[0]["lr"] / 2e-4)
    assert seen == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25])


def test_resume_is_bit_identical_with_lr_decay(tmp_path):
    straight = Trainer(make_config(steps=20, lr_decay="linear"), tmp_path / "a")
    straight.fit(progress=False)
    first = Trainer(make_config(steps=20, lr_decay="linear"), tmp_path / "b")
    first.fit(total_steps=13, progress=False)
    resumed = Trainer(make_config(steps=20, lr_decay="linear"), tmp_path / "b")
    resumed.load_state_dict(load_checkpoint(tmp_path / "b" / LATEST, "gan"))
    resumed.fit(progress=False)
    assert_identical(weights(straight), weights(resumed))


def test_ema_tracks_generator(tmp_path):
    trainer = Trainer(make_config(steps=5, ema_decay=0.5), tmp_path / "run")
    g0 = [p.detach().clone() for p in trainer.model.G.parameters()]
    trainer.fit(progress=False)
    ema = trainer.emas["G"].module
    live = list(trainer.model.G.parameters())
    # EMA lies strictly between the start and the live weights for at least some parameters
    moved = [not torch.equal(e, l) for e, l in zip(ema.parameters(), live)]
    assert any(moved)
    for e, l, s in zip(ema.parameters(), live, g0):
        assert (e - l).abs().max() <= (s - l).abs().max() + 1e-6


def test_epochs_convert_to_rounds(tmp_path):
    config = make_config("dcgan", "digits", steps=None, epochs=2.0)
    trainer = Trainer(config, tmp_path / "run")
    # 1797 digits // 32 = 56 batches per epoch; each round draws 2 (D, G)
    assert trainer.total_steps() == 56


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_image_round_runs_in_each_precision(tmp_path, precision):
    trainer = Trainer(make_config("dcgan", "digits", steps=2, precision=precision), tmp_path / "run")
    trainer.fit(progress=False)
    assert trainer.model.G.net[1].weight.is_contiguous(memory_format=torch.channels_last)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert (tmp_path / "run" / "samples" / "latest.png").is_file()


def test_atomic_save_keeps_old_checkpoint_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    save_checkpoint({"model_name": "gan", "step": 1}, path)
    before = path.read_bytes()

    def explode(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", explode)
    with pytest.raises(OSError):
        save_checkpoint({"model_name": "gan", "step": 2}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def test_load_checkpoint_rejects_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "gankit-checkpoint-1", "payload": Evil()}, path)
    with pytest.raises(GankitError, match="damaged or not a gankit checkpoint"):
        load_checkpoint(path)


def test_ema_batchnorm_statistics_are_re_estimated_for_the_averaged_weights():
    from gankit.data import DataSpec
    from gankit.train.ema import recalibrate_batchnorm

    cls = get_model("dcgan")
    model = cls(cls.Options(width=8, z_dim=8), DataSpec("digits", "image", (1, 8, 8), 10))
    norms = [m for m in model.G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:  # statistics that belong to some other network
        norm.running_mean.fill_(3.0)
        norm.running_var.fill_(0.01)
    z = torch.randn(4096, 8)
    model.G.train()
    with torch.no_grad():
        batch_stats = model.G(z)  # normalised with this batch's own statistics
    model.G.eval()
    with torch.no_grad():
        stale = (model.G(z) - batch_stats).abs().mean().item()
    recalibrate_batchnorm(model, [model.G])
    assert not model.G.training and all(norm.momentum == 0.1 for norm in norms)
    with torch.no_grad():
        recalibrated = (model.G(z) - batch_stats).abs().mean().item()
    assert stale > 0.03 and recalibrated < stale / 20, (stale, recalibrated)
    rng = torch.get_rng_state()
    recalibrate_batchnorm(model, [model.G])
    assert torch.equal(rng, torch.get_rng_state())  # the caller's random stream is untouched


def test_wgan_warm_up_schedule_gives_100_critic_steps_where_the_paper_does(tmp_path):
    trainer = Trainer(resolve({"model": "wgan", "data": {"name": "ring8"}, "train": {"steps": 30, "batch_size": 16},
                               "options": {"width": 8, "z_dim": 4}}, get_model("wgan").Options), tmp_path / "run")
    critic = trainer.players[0]
    expected = {0: 100, 24: 100, 25: 5, 26: 5, 499: 5, 500: 100, 501: 5, 1000: 100, 1001: 5}
    assert {r: critic.steps_at(r) for r in expected} == expected
    counts = {"D": 0, "G": 0}
    after_step = trainer.model.after_step
    trainer.model.after_step = lambda name: (counts.__setitem__(name, counts[name] + 1), after_step(name))
    trainer.train_round(NullLogger())
    assert counts == {"D": 100, "G": 1}  # round 0 is a warm-up round
    trainer.step = 25
    trainer.train_round(NullLogger())
    assert counts == {"D": 105, "G": 2}
    off = resolve({"model": "wgan", "options": {"warmup_critic_steps": 0}}, get_model("wgan").Options)
    plain = get_model("wgan")(off.options, trainer.dataset.spec).players()[0]
    assert [plain.steps_at(r) for r in (0, 500)] == [5, 5]


def test_began_halves_its_rates_when_m_stalls(tmp_path):
    config = resolve({"model": "began", "data": {"name": "ring8"}, "train": {"steps": 5, "batch_size": 16},
                      "options": {"width": 8, "stall_rounds": 5}}, get_model("began").Options)
    trainer = Trainer(config, tmp_path / "run")
    model = trainer.model
    model.observe_convergence(1.0)  # the first M sets the running mean and the best
    for _ in range(4):
        model.observe_convergence(1.0)  # four rounds without a new minimum
    assert model.lr_scale() == 1.0
    model.observe_convergence(1.0)  # the fifth: stalled
    assert model.lr_scale() == 0.5 and int(model.rounds_since_best) == 0
    for _ in range(5):
        model.observe_convergence(1.0)
    assert model.lr_scale() == 0.25
    for m in (0.9, 0.8, 0.7, 0.6, 0.5, 0.4):  # falling M: the running mean keeps setting new minima
        model.observe_convergence(m)
    assert model.lr_scale() == 0.25 and int(model.rounds_since_best) == 0
    assert model.m_mean.item() < 1.0
    # the trainer applies the model's scale on top of its own schedule
    trainer.train_round(NullLogger())
    assert trainer.optimizers["D"].param_groups[0]["lr"] == pytest.approx(1e-4 * 0.25)
    assert {"m_mean", "m_best", "rounds_since_best", "rate"} <= set(model.state_dict())  # checkpointed


def test_a_trainer_without_a_run_folder_trains_rounds(shared_data):
    """benchmarks/throughput.py and trainer_overhead.py time rounds without writing a run."""
    config = make_config("dcgan", "mnist")
    config.data.root, config.data.image_size = str(shared_data), 32
    trainer = Trainer(config, run_dir=None)
    before = [p.clone() for p in trainer.model.G.parameters()]
    trainer.train_round(NullLogger())
    assert trainer.step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.G.parameters()))
