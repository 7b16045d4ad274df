"""Data-parallel training on several processes, as ``torchrun`` starts them.

``torchrun --nproc_per_node=N -m gankit train ...`` starts N copies of gankit. They
join one process group (NCCL on GPUs, gloo on CPUs) and train one model:

- Every process draws the same global batch (``train.batch_size`` examples from
  identically seeded streams) and keeps its own contiguous 1/N of it, so a round
  sees the examples a single process with the same batch size would.
- After each player's backward pass, its gradients are averaged over the
  processes (one all-reduce of a flat buffer) before its optimizer steps. Every
  process then takes the same step from the same gradients, and the weights stay
  identical everywhere.
- Parameters and buffers start as rank 0's. After every step the model's buffers
  (BatchNorm running statistics, BEGAN's k) are copied from rank 0 again, as
  DistributedDataParallel does, so the checkpoint rank 0 writes is every
  process's model.
- Each process draws its own noise (its random state is seeded by its rank).
- Rank 0 alone logs (values averaged over the processes), draws pictures,
  evaluates and writes checkpoints, which keep every process's random state.

Why gradients are averaged by the trainer instead of by DistributedDataParallel:
gankit's models call their networks directly inside their losses (``self.D(fake)``),
and one network takes part in several players' losses (D is in G's loss without
being updated by it). DDP needs the calls to go through its wrapper, expects every
parameter it wraps to get a gradient in every backward pass (in G's step D's get
none), does not support ``torch.autograd.grad`` (gradient penalties) and needs
``find_unused_parameters`` / ``no_sync`` handling per player. Averaging after
backward is the same arithmetic (DDP averages too), asks nothing of the models,
and works with double backward. It gives up DDP's overlap of communication with
the backward pass: the all-reduce starts when the backward pass ends, which costs
little for GAN-sized networks (one message of a few MB per step).

BatchNorm normalises each process's slice with that slice's statistics, as under
DDP without SyncBatchNorm; ``train.sync_batchnorm`` is refused (see
``check_sync_batchnorm``).
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import Tensor

from gankit.data.base import Batch
from gankit.errors import GankitError
from gankit.train.run import pick_device

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    """This process's place among the processes that train one model; a plain run is rank 0 of 1.

    ``control`` is a gloo group for host-side flags and Python objects: through NCCL
    they would have to go to the GPU and back, which waits for the GPU's queue.
    """

    rank: int = 0
    world_size: int = 1
    control: object | None = None  # a torch.distributed ProcessGroup; None: the default group

    @classmethod
    def current(cls) -> Ranks:
        """The default process group as set up (a collective call: every process must make it)."""
        if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
            return cls()
        control = None if dist.get_backend() == "gloo" else dist.new_group(backend="gloo")
        return cls(dist.get_rank(), dist.get_world_size(), control)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def average_gradients(self, params: list[Tensor]) -> None:
        """Replace each parameter's gradient by its mean over the processes (a process that gave it none
        counts zero). A parameter that got no gradient anywhere keeps None, as in one process, so
        optimizers skip it."""
        if not self.distributed or not params:
            return
        given = torch.tensor([p.grad is not None for p in params], dtype=torch.int32)
        dist.all_reduce(given, group=self.control)
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
                          for p in params])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for param, count in zip(params, given.tolist()):
            mean = flat[offset:offset + param.numel()].view(param.shape)
            offset += param.numel()
            if count == 0:
                continue
            if param.grad is None:
                param.grad = torch.empty_like(param)  # the parameter's own layout (channels_last weights)
            param.grad.copy_(mean)

    @torch.no_grad()
    def copy_from_main(self, tensors: Iterable[Tensor]) -> None:
        """Overwrite ``tensors`` (parameters, buffers) with rank 0's values: one broadcast per dtype."""
        if not self.distributed:
            return
        by_dtype: dict[torch.dtype, list[Tensor]] = {}
        for tensor in tensors:
            by_dtype.setdefault(tensor.dtype, []).append(tensor)
        for group in by_dtype.values():
            flat = torch.cat([tensor.reshape(-1) for tensor in group])
            dist.broadcast(flat, src=0)
            offset = 0
            for tensor in group:
                tensor.copy_(flat[offset:offset + tensor.numel()].view(tensor.shape))
                offset += tensor.numel()

    def mean(self, values: Tensor) -> Tensor:
        """The element-wise mean over the processes of ``values``, a CPU tensor (logged numbers)."""
        if not self.distributed:
            return values
        total = values.clone()
        dist.all_reduce(total, group=self.control)
        return total / self.world_size

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true in any process."""
        if not self.distributed:
            return flag
        value = torch.tensor(int(flag))
        dist.all_reduce(value, op=dist.ReduceOp.MAX, group=self.control)
        return bool(value)

    def gather(self, value) -> list:
        """Every process's ``value`` (picklable), in rank order, in every process."""
        if not self.distributed:
            return [value]
        values = [None] * self.world_size
        dist.all_gather_object(values, value, group=self.control)
        return values

    def from_main(self, compute: Callable[[], T]) -> T:
        """``compute()`` run by rank 0 alone; every process gets its result, or raises the GankitError it raised."""
        if not self.distributed:
            return compute()
        answer = [None, None]
        if self.is_main:
            try:
                answer = [compute(), None]
            except GankitError as error:
                answer = [None, str(error)]
        dist.broadcast_object_list(answer, src=0, group=self.control)
        if answer[1] is not None:
            raise GankitError(answer[1])
        return answer[0]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier(group=self.control)

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block before the others, who then find what it downloaded or built."""
        if not self.is_main:
            self.barrier()
        try:
            yield
        finally:
            if self.is_main:
                self.barrier()  # also when rank 0 failed: the others then meet the same error themselves


ONE_PROCESS = Ranks()


def rank_seed(seed: int, ranks: Ranks) -> int:
    """The seed of a process's own random state (its noise): distinct for each rank of a run."""
    return seed * ranks.world_size + ranks.rank


def resume_command(run_dir, world_size: int) -> str:
    """The command that continues a run trained by ``world_size`` processes (one node's form)."""
    if world_size == 1:
        return f"gankit train --resume {run_dir}"
    return f"torchrun --nproc_per_node={world_size} -m gankit train --resume {run_dir}"


def check_sync_batchnorm(asked: bool) -> None:
    if asked:
        raise GankitError("train.sync_batchnorm is not offered: gankit averages gradients itself instead of "
                          "wrapping networks in DistributedDataParallel, which torch's SyncBatchNorm needs (with "
                          "CUDA), so BatchNorm normalises each process's share of a batch with that share's "
                          "statistics; leave it false.")


def shard(batch: Batch, ranks: Ranks) -> Batch:
    """Rank ``ranks.rank``'s contiguous 1/world_size of every tensor in ``batch`` (nested batches too)."""
    parts = {}
    for field in dataclasses.fields(batch):
        value = getattr(batch, field.name)
        if isinstance(value, Batch):
            value = shard(value, ranks)
        elif isinstance(value, Tensor):
            if len(value) % ranks.world_size:
                raise GankitError(f"a batch's {field.name} holds {len(value)} examples, which do not split evenly "
                                  f"across {ranks.world_size} processes; choose train.batch_size (and data.labels "
                                  f"for semi-supervised models) divisible by {ranks.world_size}.")
            size = len(value) // ranks.world_size
            value = value[ranks.rank * size:(ranks.rank + 1) * size]
        parts[field.name] = value
    return Batch(**parts)


class ShardedBatches:
    """This process's share of every batch of ``stream``.

    Every process keeps an identical copy of the stream (same seed, same state), so
    each draws the same global batch and keeps its slice; the state to save is the
    one stream's. Drawing the whole batch costs each process one uint8 -> float
    conversion of the global batch, small against a training step; a stream that
    decodes its images from disk (``keep_share``) decodes only this process's slice.
    """

    def __init__(self, stream, ranks: Ranks):
        self.stream, self.ranks = stream, ranks
        self.stream_shares = hasattr(stream, "keep_share")
        if self.stream_shares:
            stream.keep_share(ranks.rank, ranks.world_size)

    def next(self) -> Batch:
        batch = self.stream.next()
        return batch if self.stream_shares else shard(batch, self.ranks)

    def state_dict(self) -> dict:
        return self.stream.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.stream.load_state_dict(state)


@contextmanager
def session(device: str) -> Iterator[Ranks]:
    """The processes torchrun started (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT in the
    environment), joined in one group for the block: NCCL when ``device`` (train.device) picks CUDA, one GPU
    per process, else gloo. A process started otherwise is rank 0 of 1; one whose group is set up already
    keeps it."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1 or (dist.is_available() and dist.is_initialized()):
        yield Ranks.current()
        return
    if not dist.is_available():
        raise GankitError("this torch build has no torch.distributed, so it cannot train on several processes.")
    backend = "gloo"
    if pick_device(device).type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        backend = "nccl"
    dist.init_process_group(backend)
    try:
        yield Ranks.current()
    finally:
        dist.destroy_process_group()
