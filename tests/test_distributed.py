"""Training on several processes: 2 CPU processes with gloo, started by torch.multiprocessing with the
environment torchrun gives its workers, so they take the same path as `torchrun -m gankit train`.

The processes are started once and run every scenario; the tests below check what they left behind. They
are forked from the test process after it has trained the one-process references: they inherit torch and
everything the trainer imports (seconds per process on a 2-core machine) instead of importing it again.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from gankit.cli import main
from gankit.config import resolve
from gankit.errors import GankitError
from gankit.machine import summary
from gankit.registry import get_model
from gankit.train.checkpoint import load_checkpoint
from gankit.train.distributed import session
from gankit.train.run import LATEST
from gankit.train.trainer import Trainer

WORLD = 2
SEED = 7  # the random state every process (and the one-process reference) starts the compared round from
TINY = ["--data", "ring8", "--set", "options.width=16", "--set", "options.z_dim=8", "--set", "train.log_every=5",
        "--set", "train.sample_every=1000", "--set", "train.eval_samples=0", "-q"]
DEADLINE_S = 240


def small_config(model: str, batch_size: int = 32, steps: int = 30):
    tree = {"model": model, "data": {"name": "ring8"}, "options": {"width": 16, "z_dim": 8},
            "train": {"steps": steps, "batch_size": batch_size, "log_every": 5, "sample_every": 1000,
                      "checkpoint_every": 1000, "eval_samples": 0}}
    return resolve(tree, get_model(model).Options)


class NullLogger:
    def accumulate(self, *args):
        pass


def drawn_for_the_whole_batch(draw, rank: int):
    """``draw`` (torch.randn or torch.rand) that draws the numbers of all WORLD processes' examples and keeps
    this rank's: with the same random state everywhere, the processes together use exactly the numbers one
    process draws for the whole batch (every draw from the global random state in a round of gan and wgan-gp
    is per example; the batch stream draws from its own generator and is left alone)."""
    def sharded(*size, **kwargs):
        if kwargs.get("generator") is not None:
            return draw(*size, **kwargs)
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        every = draw((shape[0] * WORLD, *shape[1:]), **kwargs)
        return every[rank * shape[0]:(rank + 1) * shape[0]]
    return sharded


def trained_state(trainer) -> dict:
    """The weights and optimizer slots, flat."""
    flat = {f"model.{k}": v.clone() for k, v in trainer.model.state_dict().items()}
    for name, optimizer in trainer.optimizers.items():
        for index, slots in optimizer.state_dict()["state"].items():
            flat.update({f"opt.{name}.{index}.{k}": v.clone() for k, v in slots.items()})
    return flat


def worker(rank: int, folder: Path, port: int) -> None:
    """One of the two processes: what torchrun's worker environment holds, then every scenario."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    os.chdir(folder)
    outcome = {}
    with session("cpu") as ranks:
        assert (ranks.rank, ranks.world_size) == (rank, WORLD)
        # one round, each process on its half of every batch
        for model in ("gan", "wgan-gp"):
            trainer = Trainer(small_config(model), folder / "unused")
            torch.manual_seed(SEED)
            patched = {name: getattr(torch, name) for name in ("randn", "rand")}
            for name, draw in patched.items():
                setattr(torch, name, drawn_for_the_whole_batch(draw, rank))
            try:
                trainer.train_round(NullLogger())
            finally:
                for name, draw in patched.items():
                    setattr(torch, name, draw)
            torch.save(trained_state(trainer), folder / f"{model}-rank{rank}.pt")
        try:
            Trainer(small_config("gan", batch_size=31), folder / "unused")
        except GankitError as error:
            outcome["odd_batch"] = str(error)
        # the command line: a run with the default folder name, resumed, and an uninterrupted twin
        outcome["train"] = main(["train", "gan", "--steps", "12", *TINY])
        run_dir = next((folder / "runs").iterdir())
        outcome["resume"] = main(["train", "--resume", str(run_dir), "--steps", "20", "-q"])
        outcome["straight"] = main(["train", "gan", "--steps", "20", "--out", "straight", *TINY])
        # Ctrl-C in rank 1 alone
        trainer = Trainer(small_config("gan"), folder / "interrupted")
        if rank == 1:
            original_round = trainer.train_round

            def round_then_interrupt(logger):
                original_round(logger)
                if trainer.step == 5:
                    os.kill(os.getpid(), signal.SIGINT)

            trainer.train_round = round_then_interrupt
        outcome["fit_completed"] = trainer.fit(progress=False)
        outcome["stopped_at"] = trainer.step
    (folder / f"outcome-rank{rank}.json").write_text(json.dumps(outcome))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_process_round(model: str, run_dir: Path) -> dict:
    trainer = Trainer(small_config(model), run_dir)
    torch.manual_seed(SEED)
    trainer.train_round(NullLogger())
    return trained_state(trainer)


@pytest.fixture(scope="module")
def one_process_rounds(tmp_path_factory) -> dict:
    return {model: one_process_round(model, tmp_path_factory.mktemp("one")) for model in ("gan", "wgan-gp")}


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, one_process_rounds) -> Path:
    folder = tmp_path_factory.mktemp("ddp")
    context = mp.start_processes(worker, args=(folder, free_port()), nprocs=WORLD, join=False, start_method="fork")
    deadline = time.monotonic() + DEADLINE_S
    while not context.join(timeout=2):  # a failing process raises here, and the other is ended
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the two processes did not finish in {DEADLINE_S} s")
    return folder


def outcomes(folder: Path) -> list[dict]:
    return [json.loads((folder / f"outcome-rank{rank}.json").read_text()) for rank in range(WORLD)]


@pytest.mark.parametrize("model", ["gan", "wgan-gp"])  # wgan-gp: a gradient penalty's double backward
def test_a_round_on_two_processes_equals_one_process_on_the_whole_batch(two_processes, one_process_rounds, model):
    expected = one_process_rounds[model]
    ranks = [torch.load(two_processes / f"{model}-rank{rank}.pt") for rank in range(WORLD)]
    for state in ranks:
        assert state.keys() == expected.keys()
        for key, value in expected.items():
            torch.testing.assert_close(state[key], value, rtol=0, atol=1e-6, msg=key)
    for key in expected:  # the processes hold the very same weights
        assert torch.equal(ranks[0][key], ranks[1][key]), key


def test_two_processes_write_one_run_that_eval_reads(two_processes, capsys):
    assert [o["train"] for o in outcomes(two_processes)] == [0, 0]
    (run_dir,) = (two_processes / "runs").iterdir()
    assert main(["eval", str(run_dir), "-n", "500"]) == 0
    result = json.loads((run_dir / "eval.json").read_text())
    assert result["step"] == 20 and "modes_covered" in result["metrics"]
    sessions = json.loads((run_dir / "machine.json").read_text())["sessions"]
    assert [(s["from_step"], s["processes"]) for s in sessions] == [(0, 2), (12, 2)]
    assert summary(sessions[0]).endswith(", 2 processes (torchrun)")
    logged = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert logged == [5, 10, 12, 15, 20]  # rank 0 alone writes


def test_resume_on_two_processes_continues_exactly(two_processes):
    assert [o["resume"] for o in outcomes(two_processes)] == [0, 0]
    assert [o["straight"] for o in outcomes(two_processes)] == [0, 0]
    (run_dir,) = (two_processes / "runs").iterdir()
    resumed = load_checkpoint(run_dir / LATEST)
    straight = load_checkpoint(two_processes / "straight" / LATEST)
    assert resumed["world_size"] == straight["world_size"] == 2 and len(resumed["rng"]) == 2
    for key, value in straight["model"].items():
        assert torch.equal(resumed["model"][key], value), key


def test_resume_with_another_number_of_processes_is_one_sentence(two_processes, capsys):
    (run_dir,) = (two_processes / "runs").iterdir()
    before = sorted(p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file())
    code = main(["train", "--resume", str(run_dir), "--steps", "30", "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "was trained on 2 processes and this is a single process" in err
    assert "torchrun --nproc_per_node=2 -m gankit train --resume" in err
    assert sorted(p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file()) == before


def test_ctrl_c_in_one_process_stops_both_with_a_checkpoint(two_processes):
    assert [(o["fit_completed"], o["stopped_at"]) for o in outcomes(two_processes)] == [(False, 5), (False, 5)]
    assert load_checkpoint(two_processes / "interrupted" / LATEST)["step"] == 5


def test_a_batch_that_does_not_split_is_refused(two_processes):
    for outcome in outcomes(two_processes):
        assert outcome["odd_batch"].startswith("train.batch_size=31 does not split evenly across 2 processes")


def test_sync_batchnorm_is_refused_with_the_reason(tmp_path):
    config = small_config("gan")
    config.train.sync_batchnorm = True
    with pytest.raises(GankitError, match="normalises each process's share of a batch"):
        Trainer(config, tmp_path / "run")


def test_a_single_process_session_is_rank_0_of_1(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with session("cpu") as ranks:
        assert (ranks.rank, ranks.world_size, ranks.distributed) == (0, 1, False)
