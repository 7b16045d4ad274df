"""Image folders larger than memory: images decoded from disk when a batch (or an evaluation) needs them.

A folder whose decoded, resized images would take more than ``data.memory_budget`` is not read
into memory: training batches come from a torch DataLoader whose worker processes decode and
resize the files of each batch ahead of the trainer (into pinned memory on CUDA). The batches
follow exactly the order an in-memory folder's would (``ShuffledOrder`` with the same seed), so
streaming changes how a run reads its images, not what it trains on, and a resumed run sees the
batches an uninterrupted one would.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Collection
from pathlib import Path

import torch
from torch import Tensor

from gankit.data.base import Batch, DataSpec, ImageDataset, ShuffledOrder, check_batch_size, uint8_to_float
from gankit.data.images import UNREADABLE, read_image, readable
from gankit.errors import GankitError

PREFETCH = 2  # batches each worker decodes ahead
READ_CHUNK = 64  # images a worker decodes per task when many are read at once (evaluation)


def default_workers() -> int:
    """DataLoader worker processes for a streamed folder: half the cores (the rest train), 1 to 4."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class FileImages:
    """Image files read on demand as uint8 (C, size, size), indexed like the uint8 tensor an in-memory
    folder holds: ``images[rows]`` (a slice, list or index tensor) decodes those images, through
    ``workers`` processes when there are many."""

    def __init__(self, folder: Path, files: list[str], mode: str, size: int, workers: int):
        self.folder, self.files, self.mode, self.size, self.workers = folder, files, mode, size, workers
        self.shape = (len(files), len(mode), size, size)  # "L" -> 1 channel, "RGB" -> 3

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, rows) -> Tensor:
        index = torch.arange(len(self))[rows].tolist()
        chunks = [index[i:i + READ_CHUNK] for i in range(0, len(index), READ_CHUNK)]
        empty = torch.empty(0, *self.shape[1:], dtype=torch.uint8)
        return torch.cat([*self.read(chunks, self.workers if len(chunks) > 1 else 0), empty])

    def split(self, size: int):
        """The images in order, ``size`` at a time (as ``Tensor.split``), decoded ahead by the workers."""
        return self.read([list(range(i, min(i + size, len(self)))) for i in range(0, len(self), size)], self.workers)

    def read(self, chunks: list[list[int]], workers: int):
        """The images of each index list in ``chunks``, decoded by ``workers`` processes (0: this one)."""
        return (decoded(*batch) for batch in loader(self, chunks, workers, pin_memory=False))

    def subset(self, keep: list[int]) -> FileImages:
        return FileImages(self.folder, [self.files[i] for i in keep], self.mode, self.size, self.workers)

    def resized(self, size: int) -> FileImages:
        return FileImages(self.folder, self.files, self.mode, size, self.workers)


class BatchReader(torch.utils.data.Dataset):
    """What a DataLoader worker does: ``reader[indices]`` is (the images stacked, "") or, when a file will not
    decode, (an empty tensor, the reason). An error travels back as text because DataLoader re-raises a
    worker's exceptions with the worker's traceback folded into the message."""

    def __init__(self, images: FileImages):
        self.images = images

    def __getitem__(self, index: list[int]) -> tuple[Tensor, str]:
        images = self.images
        read = []
        for i in index:
            try:
                read.append(read_image(images.folder / images.files[i], images.mode, images.size))
            except UNREADABLE as error:
                return torch.empty(0), (f"{images.folder / images.files[i]} could not be decoded ({error}); remove "
                                        f"or repair it (a run can then continue with --resume).")
        return torch.stack(read), ""


def decoded(images: Tensor, problem: str) -> Tensor:
    if problem:
        raise GankitError(problem)
    return images


def loader(images: FileImages, batches, workers: int, pin_memory: bool):
    """A DataLoader whose ``workers`` processes (0: this one) decode the index lists ``batches`` yields, each
    into a (images, problem) pair. It seeds its workers from a generator of its own: drawing from torch's
    global one would change the noise a run draws after it, and make a streamed or resumed run differ
    from an in-memory one."""
    return torch.utils.data.DataLoader(BatchReader(images), batch_size=None, sampler=batches, num_workers=workers,
                                       pin_memory=pin_memory, prefetch_factor=PREFETCH if workers else None,
                                       generator=torch.Generator().manual_seed(0))


class StreamedFolder:
    """An image folder read from disk as needed, in place of ``FolderImages`` (same ``files``, ``part``,
    ``held_out``; ``images`` decodes what it is indexed with)."""

    labels = None
    attributes = None

    def __init__(self, name: str, images: FileImages, held_out: bool = False):
        self.images, self.held_out = images, held_out
        self.spec = DataSpec(name, "image", images.shape[1:])

    @property
    def files(self) -> list[str]:
        return self.images.files

    def __len__(self) -> int:
        return len(self.images)

    def part(self, held_out_files: Collection[str], held_out: bool) -> StreamedFolder:
        """The images named in ``held_out_files`` (``held_out=True``), or all the others."""
        names = set(held_out_files)
        keep = [i for i, file in enumerate(self.files) if (file in names) == held_out]
        return StreamedFolder(self.spec.name, self.images.subset(keep), held_out)

    def resized(self, size: int) -> StreamedFolder:
        return StreamedFolder(self.spec.name, self.images.resized(size), self.held_out)

    def select(self, rows) -> ImageDataset:
        """The images at ``rows`` (a slice or indices), decoded into memory (as ``ImageDataset.select``)."""
        return ImageDataset(self.spec.name, self.images[rows])

    def batches(self, batch_size: int, seed: int, device: torch.device) -> StreamedBatches:
        return StreamedBatches(self, batch_size, seed, device)


class EndlessBatches:
    """A DataLoader sampler whose items are whole batches' indices: ``order``'s for ever, each cut to one process's
    ``share`` (the sampler runs ahead of the trainer by the prefetched batches, so it takes its own copy of the
    order)."""

    def __init__(self, order: ShuffledOrder, share: tuple[int, int]):
        self.order, (self.rank, self.world_size) = order, share

    def __iter__(self):
        while True:
            index = self.order.take()
            size = len(index) // self.world_size
            yield index[self.rank * size:(self.rank + 1) * size].tolist()


class StreamedBatches:
    """Endless shuffled batches of a ``StreamedFolder``, in ``ImageBatches``' order, decoded by DataLoader workers.

    The state saved is that of the batches taken (not of those the workers prefetched), so it
    replays exactly. Under torchrun, ``keep_share`` makes each process decode only its slice.
    """

    def __init__(self, dataset: StreamedFolder, batch_size: int, seed: int, device: torch.device):
        check_batch_size(batch_size, dataset)
        self.images, self.device = dataset.images, device
        self.taken = ShuffledOrder(len(dataset), batch_size, seed)
        self.share = (0, 1)
        self.loader = None

    def keep_share(self, rank: int, world_size: int) -> None:
        """Decode only process ``rank``'s contiguous 1/world_size of every batch (what ``shard`` would keep)."""
        self.share, self.loader = (rank, world_size), None

    def next(self) -> Batch:
        if self.loader is None:
            sampler = EndlessBatches(copy.deepcopy(self.taken), self.share)
            pin = self.device.type == "cuda"
            self.loader = iter(loader(self.images, sampler, self.images.workers, pin_memory=pin))
        self.taken.take()
        return Batch(uint8_to_float(decoded(*next(self.loader)).to(self.device, non_blocking=True)))

    def state_dict(self) -> dict:
        return self.taken.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.taken.load_state_dict(state)
        self.loader = None  # restart the workers from the restored order


def scan_folder(folder: Path, files: list[Path], mode: str, size: int, workers: int | None) -> FileImages:
    """Those of ``files`` (under ``folder``) that PIL can identify (headers only: nothing is decoded), to stream."""
    from PIL import Image

    def identify(file: Path) -> None:
        with Image.open(file):
            pass

    found = readable(folder, files, identify)
    return FileImages(folder, [file.relative_to(folder).as_posix() for file, _ in found], mode, size,
                      default_workers() if workers is None else workers)
