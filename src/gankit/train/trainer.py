"""The one training loop every model runs through.

Per round, each player in turn takes ``player.steps_at(round)`` optimizer steps, each
on a fresh batch: forward and loss under the chosen precision, backward into
that player's parameters only, step, then the model's ``after_step`` hook.
After the round come EMA, logging, sample pictures and checkpoints.

Under torchrun the same loop runs in every process, each on its share of every
batch, with each player's gradients averaged over the processes before its step
(gankit.train.distributed says how and why).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional

import torch
from tqdm import tqdm

from gankit.config import DEFAULT_STEPS, DataConfig, RunConfig
from gankit.data import Dataset, Photos, StreamedFolder, load_dataset, resized
from gankit.data.images import memory_budget_bytes
from gankit.data.labels import batch_stream
from gankit.errors import GankitError
from gankit.metrics import evaluate, sample_grid
from gankit.metrics.coupled import coupled_grid
from gankit.metrics.encoders import encoder_grid
from gankit.metrics.inpainting import inpainting_grid
from gankit.metrics.superres import GRID_COLUMNS, superres_grid
from gankit.metrics.tasks import TaskData
from gankit.metrics.translation import translation_grid
from gankit.registry import get_model
from gankit.train.checkpoint import save_checkpoint
from gankit.train.compile import CompiledLoss, check_backend
from gankit.train.distributed import Ranks, ShardedBatches, check_sync_batchnorm, rank_seed, resume_command
from gankit.train.ema import make_ema, recalibrate_batchnorm
from gankit.train.logger import MetricsLogger
from gankit.machine import bf16_native
from gankit.train.run import (CONFIG_FILE, HOLDOUT_FILE, LATEST, NEAREST_PICTURE, folder_part, pick_device, pin_data,
                              record_machine, training_part)
from gankit.visual import save_samples

GRID_SAMPLES = 64
SCATTER_SAMPLES = 2500
SAMPLE_SEED = 1234  # fixed noise, so successive sample pictures are comparable
TORCHRUN_ECHO_S = 1.0  # seconds within which a Ctrl-C forwarded by torchrun follows the terminal's own


def load_data(data: DataConfig, split: str = "train") -> Dataset:
    """The dataset a ``data`` config section describes, in the given split."""
    return load_dataset(data.name, data.root, split, data.image_size, data.channels, data.download,
                        data.memory_budget, data.workers)


def say(message: str) -> None:
    """A note or warning for the person at the terminal (progress output is on stderr too)."""
    print(f"gankit: {message}", file=sys.stderr, flush=True)


class Trainer:
    """Trains ``config`` into ``run_dir``.

    Settings left to the trainer are decided here and written into the config
    (so config.yaml records them): the absolute data location, an image size the
    model's networks support (``data.image_size``) and the precision
    (``train.precision: auto``).

    ``ranks`` places this process among several that train the model together
    (default: the torch.distributed group when one is set up, else a plain run).
    """

    def __init__(self, config: RunConfig, run_dir: Path, dataset: Optional[Dataset] = None,
                 notify: Callable[[str], None] = say, ranks: Ranks | None = None):
        self.ranks = ranks or Ranks.current()
        self.config, self.run_dir = config, run_dir
        self.notify = notify if self.ranks.is_main else (lambda message: None)  # one copy of each note
        train = config.train
        if train.batch_size % self.ranks.world_size:
            raise GankitError(f"train.batch_size={train.batch_size} does not split evenly across "
                              f"{self.ranks.world_size} processes; choose a multiple of {self.ranks.world_size} "
                              f"(each process takes an equal share of every batch).")
        check_sync_batchnorm(train.sync_batchnorm)
        self.device = pick_device(train.device)
        pin_data(config.data)
        model_cls = get_model(config.model)
        self.dataset = dataset
        if dataset is None:
            # Rank 0 alone may download; the others then read what it fetched.
            data = config.data if self.ranks.is_main else dataclasses.replace(config.data, download=False)
            with self.ranks.main_first():
                self.dataset = load_data(data)
        if isinstance(self.dataset, Photos) and model_cls.family != "superres":
            raise GankitError(f"{self.dataset.spec.name} holds whole photos of many sizes, for super-resolution "
                              f"models; {config.model} trains on images of one size, such as folder:PATH gives.")
        self._check_labels(model_cls)
        self.held_out = None  # a new image-folder run's held-out files, written to RUN/holdout.txt by fit()
        if dataset is None:
            self.dataset, self.held_out = training_part(self.dataset, run_dir, config.data.holdout, train.seed)
        self.dataset, resize_note = self._fit_image_size(model_cls, self.dataset)
        if train.ema_decay > 0 and model_cls.family in ("translation", "inpainting", "encoder", "superres"):
            # Averaged weights need their BatchNorm statistics re-estimated, which takes samples from noise
            # (and, for an encoder, real images).
            raise GankitError(f"train.ema_decay is not offered for {model_cls.family} models such as "
                              f"{config.model}; leave it at 0.")
        if train.epochs is not None and isinstance(self.dataset, Photos):
            raise GankitError(f"{self.dataset.spec.name} gives endless random crops rather than a set of images to "
                              f"pass over, so train.epochs has no meaning for it; give train.steps.")
        train.precision = self._choose_precision(train.precision)
        torch.manual_seed(train.seed)
        try:
            self.model = model_cls(config.options, self.dataset.spec).to(self.device)
        except ValueError as error:  # networks that cannot be built for this data
            raise GankitError(f"{config.model} cannot be built for {self.dataset.spec.name}: {error}.") from None
        self.channels_last = train.channels_last and self.dataset.spec.is_image
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.ranks.copy_from_main([*self.model.parameters(), *self.model.buffers()])
        if self.ranks.distributed:
            torch.manual_seed(rank_seed(train.seed, self.ranks))  # each process its own noise
        self.players = self.model.players()
        if train.compile:
            check_backend(train.compile_backend)
            for player in self.players:
                player.loss = CompiledLoss(player.loss, f"{config.model}'s {player.name} loss",
                                           train.compile_backend, self.device, self.notify)
        self.player_params = {p.name: p.parameters() for p in self.players}
        self.optimizers = {p.name: p.optim.build(self.player_params[p.name]) for p in self.players}
        self.base_lrs = {name: [group["lr"] for group in opt.param_groups] for name, opt in self.optimizers.items()}
        self.emas = {}
        if train.ema_decay > 0:
            self.emas = {name: make_ema(getattr(self.model, name), train.ema_decay) for name in self.model.ema_modules}
        self.batches = batch_stream(self.dataset, train.batch_size, train.seed, self.device, model_cls.label_use,
                                    config.data.labels, aligned=not model_cls.blind_to_pairs)
        if self.ranks.distributed:
            self.batches = ShardedBatches(self.batches, self.ranks)
        self.step = 0
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=train.precision == "bf16")
        self._stop_requested = False
        for note in (resize_note, self._streaming_note()):  # said once the run can go ahead, so a refused run
            if note:                                              # says one thing: why
                self.notify(note)

    def _streaming_note(self) -> str | None:
        if not isinstance(self.dataset, StreamedFolder):
            return None
        images, data = self.dataset.images, self.config.data
        size = len(images) * images.shape[1] * images.shape[2] * images.shape[3]
        return (f"note: the {len(images):,} training images take {size / 2**30:.1f} GiB at {images.size}x{images.size}, "
                f"more than data.memory_budget ({memory_budget_bytes(data.memory_budget) / 2**30:.1f} GiB), so they "
                f"stream from disk through {images.workers} DataLoader worker process(es) (data.workers).")

    def _fit_image_size(self, model_cls, dataset: Dataset) -> tuple[Dataset, str | None]:
        """Resize images the model's networks cannot take to the nearest larger size they can; with a note
        saying so when it does."""
        sizes = model_cls.image_sizes(self.config.options)
        if sizes is None or not dataset.spec.is_image or sizes.accepts(dataset.spec.shape[-1]):
            return dataset, None
        size, data, model = dataset.spec.shape[-1], self.config.data, self.config.model
        if data.image_size is not None:
            raise GankitError(f"data.image_size={size} does not fit {model}'s networks, which need {sizes}; "
                              f"the nearest sizes that do are {' and '.join(map(str, sizes.nearest(size)))}.")
        data.image_size = sizes.fit(size)
        note = (f"note: {model}'s networks need {sizes}, so {data.name} ({size}x{size}) is resized to "
                f"{data.image_size}x{data.image_size} (recorded as data.image_size in config.yaml).")
        return resized(dataset, data.image_size), note

    def _check_labels(self, model_cls) -> None:
        use, model, spec, n_labels = model_cls.label_use, self.config.model, self.dataset.spec, self.config.data.labels
        if use == "attributes" and not spec.attributes:
            raise GankitError(f"{model} translates images between the values of their named attributes, and "
                              f"{spec.name} has none; use mnist-colour (digit colour x background).")
        if use not in ("none", "attributes") and not spec.num_classes:
            raise GankitError(f"{model} trains on class labels, and {spec.name} has none; "
                              f"use a labelled dataset (digits, mnist, fashion-mnist).")
        if n_labels is not None and use != "some":
            uses = {"all": "every label", "source": "every label of its source domain", "none": "no labels",
                    "attributes": "the images' attributes and no labels"}[use]
            raise GankitError(f"data.labels keeps a labelled subset for semi-supervised models; {model} uses {uses}.")

    def _choose_precision(self, asked: str) -> str:
        """'auto': bf16 autocast for images where the hardware computes bf16 natively, else fp32.

        2-D points stay fp32: bf16 resolves steps of 1/128 near 1, coarser than ring8's modes (std 0.01).
        """
        native = bf16_native(self.device)
        if asked == "auto":
            return "bf16" if native and self.dataset.spec.is_image else "fp32"
        if asked == "bf16" and not native:
            hardware = "this CPU has neither AVX512-BF16 nor AMX" if self.device.type == "cpu" else \
                "this GPU predates compute capability 8.0"
            self.notify(f"warning: {hardware}, so bf16 is emulated and usually far slower than fp32 "
                        f"(precision auto picks what the hardware runs natively).")
        return asked

    # --- state -----------------------------------------------------------------

    def total_steps(self) -> int:
        train = self.config.train
        if train.steps is not None:
            return train.steps
        if train.epochs is not None:
            batches_per_round = sum(p.steps for p in self.players)
            batches_per_epoch = len(self.dataset) // train.batch_size
            return max(1, math.ceil(train.epochs * batches_per_epoch / batches_per_round))
        return DEFAULT_STEPS

    def lr_factor(self) -> float:
        """The learning-rate multiplier for the coming round (a function of the step alone, so
        resuming needs no scheduler state)."""
        train = self.config.train
        if train.lr_decay == "none":
            return 1.0
        if train.lr_decay == "step":
            return train.lr_step_factor ** (self.step // train.lr_step_every)
        total = self.total_steps()
        start = int(train.lr_decay_start * total)
        return 1.0 if self.step < start else max(0.0, (total - self.step) / (total - start))

    def state_dict(self) -> dict:
        """The training state; under torchrun a collective call (every process's random state is gathered)."""
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        spec = self.dataset.spec
        return {
            "model_name": self.config.model,
            "data_spec": {"name": spec.name, "kind": spec.kind, "shape": list(spec.shape),
                          "num_classes": spec.num_classes, "paired": spec.paired,
                          "shape_b": None if spec.shape_b is None else list(spec.shape_b),
                          "attributes": None if spec.attributes is None else
                          [[name, list(values)] for name, values in spec.attributes]},
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "ema": {name: ema.state_dict() for name, ema in self.emas.items()},
            "data": self.batches.state_dict(),
            # one process: its random state; several: each one's, in rank order (each draws its own noise)
            "rng": self.ranks.gather(rng) if self.ranks.distributed else rng,
            "world_size": self.ranks.world_size,
        }

    def load_state_dict(self, state: dict) -> None:
        self._check_world_size(int(state.get("world_size", 1)))
        try:
            self.model.load_state_dict(state["model"])
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(state["optimizers"][name])
            for name, ema in self.emas.items():
                ema.load_state_dict(state["ema"][name])
            self.batches.load_state_dict(state["data"])
        except (KeyError, RuntimeError, ValueError):
            raise GankitError(f"the checkpoint in {self.run_dir} does not match the model and settings "
                              f"in its config.yaml.") from None
        rng = state["rng"][self.ranks.rank] if isinstance(state["rng"], list) else state["rng"]
        torch.set_rng_state(rng["torch"])
        if "cuda" in rng and self.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.device)
        self.step = int(state["step"])

    def _check_world_size(self, trained_on: int) -> None:
        """A run continues on as many processes as it trained on: each one's random state is in the checkpoint."""
        now = self.ranks.world_size
        if trained_on != now:
            raise GankitError(f"{self.run_dir} was trained on {trained_on} process{'es' if trained_on > 1 else ''} "
                              f"and this is {'a single process' if now == 1 else f'one of {now}'}; resume it on "
                              f"{trained_on}: {resume_command(self.run_dir, trained_on)}.")

    def save(self, periodic: bool = False) -> None:
        """Write the checkpoint (rank 0; every process takes part and returns once it is on disk)."""
        state = self.state_dict()
        if self.ranks.is_main:
            save_checkpoint(state, self.run_dir / LATEST)
            if periodic:
                save_checkpoint(state, self.run_dir / "checkpoints" / f"step_{self.step:07d}.pt")
        self.ranks.barrier()

    # --- one round -------------------------------------------------------------

    def _next_batch(self):
        batch = self.batches.next()
        if self.channels_last:
            for part in (batch, batch.labelled):
                if part is not None:
                    part.x = part.x.contiguous(memory_format=torch.channels_last)
            if batch.x_b is not None:
                batch.x_b = batch.x_b.contiguous(memory_format=torch.channels_last)
        return batch

    def train_round(self, logger: MetricsLogger) -> None:
        factor = self.lr_factor() * self.model.lr_scale()
        for name, optimizer in self.optimizers.items():
            for group, base in zip(optimizer.param_groups, self.base_lrs[name]):
                group["lr"] = base * factor
        for player in self.players:
            optimizer, params = self.optimizers[player.name], self.player_params[player.name]
            for _ in range(player.steps_at(self.step)):
                batch = self._next_batch()
                with self.autocast:
                    loss, logs = player.loss(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward(inputs=params)  # gradients reach this player's parameters only
                self.ranks.average_gradients(params)
                optimizer.step()
                self.model.after_step(player.name)
                if self.ranks.distributed:  # every process keeps rank 0's buffers, as DDP does
                    self.ranks.copy_from_main(self.model.buffers())
                logger.accumulate(player.name, logs)
        for name, ema in self.emas.items():
            ema.update_parameters(getattr(self.model, name))
        self.step += 1

    # --- pictures and evaluation -----------------------------------------------

    @contextmanager
    def ema_weights(self):
        """Temporarily swap copies of the EMA modules in for the live ones, with BatchNorm
        statistics re-estimated for the averaged weights (the training state is left alone)."""
        live = {name: getattr(self.model, name) for name in self.emas}
        for name, ema in self.emas.items():
            setattr(self.model, name, copy.deepcopy(ema.module))
        recalibrate_batchnorm(self.model, [getattr(self.model, name) for name in self.emas])
        try:
            yield self.model
        finally:
            for name, module in live.items():
                setattr(self.model, name, module)

    @contextmanager
    def sampling_model(self):
        """The model with EMA weights, under a fixed seed that leaves training's RNG untouched."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), self.ema_weights() as model:
            torch.manual_seed(SAMPLE_SEED)
            yield model

    def save_pictures(self, name: str) -> Optional[Path]:
        """samples/NAME.png: samples, inputs above their translations, inputs above their masked and filled
        versions, pairs from one z (a row of each domain), inputs above their reconstructions and prior
        samples, or bicubic above upscaled above HR crops; None for a model that makes no pictures."""
        path = self.run_dir / "samples" / f"{name}.png"
        path.parent.mkdir(exist_ok=True)
        n = SCATTER_SAMPLES if not self.dataset.spec.is_image else GRID_SAMPLES
        with self.sampling_model() as model:
            translates = model.family == "translation"
            if translates and not model.directions():
                return None  # an ablation that does not translate (pixelda's source_only)
            if translates:  # inputs above their translations, from the training set
                samples, per_row = translation_grid(model, self.dataset)
            elif model.family == "inpainting":  # inputs, masked, filled, from the training set
                samples, per_row = inpainting_grid(model, self.dataset)
            elif model.family == "coupled":  # a row of domain A above the same z's in domain B
                samples, per_row = coupled_grid(model)
            elif model.family == "encoder":  # inputs, reconstructions, prior samples, from the training set
                samples, per_row = encoder_grid(model, self.dataset)
            elif model.family == "superres":  # bicubic, upscaled, HR, of fixed training crops
                samples, per_row = superres_grid(model, self.dataset.picture_crops(GRID_COLUMNS))
            else:
                samples, per_row = sample_grid(model, n)
        save_samples(samples, path, getattr(self.dataset, "modes", None), f"{self.config.model} step {self.step}",
                     nrow=per_row)
        return path

    def evaluate(self, n_samples: int, plot: Optional[Path] = None) -> dict:
        """Metrics on ``n_samples`` samples (EMA weights when kept) against the test split (an image
        folder's held-out images, with their nearest training images pictured in RUN/nearest_train.png)."""
        test = folder_part(load_data(self.config.data, split="test"), self.run_dir, "test")
        task_data = TaskData(test, train=lambda: self.dataset, labels=self.config.data.labels,
                             seed=self.config.train.seed)
        with self.sampling_model() as model:
            return evaluate(model, test, n_samples, plot=plot, task_data=task_data,
                            nearest_plot=self.run_dir / NEAREST_PICTURE)

    # --- the loop --------------------------------------------------------------

    @contextmanager
    def _graceful_interrupt(self):
        """First Ctrl-C finishes the current round and stops (all processes, under torchrun); a second one
        aborts at once.

        torchrun forwards a Ctrl-C to its workers, and where they share the terminal's process group
        (torchrun versions that do not start them in a session of their own) they get it from the
        terminal too, so under torchrun a repeat within TORCHRUN_ECHO_S of the first counts as the same one.
        """
        first_at = None

        def handler(signum, frame):
            nonlocal first_at
            if first_at is None:
                first_at = time.monotonic()
                self._stop_requested = True
            elif not self.ranks.distributed or time.monotonic() - first_at > TORCHRUN_ECHO_S:
                raise KeyboardInterrupt

        try:
            previous = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread: no handler, Ctrl-C behaves as usual
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def fit(self, total_steps: Optional[int] = None, progress: bool = True) -> bool:
        """Train up to ``total_steps`` rounds; returns False when stopped by Ctrl-C (in any process)."""
        total = total_steps or self.total_steps()
        train, main = self.config.train, self.ranks.is_main
        if self.step == 0:
            self.model.warm_start()  # before anything is written, so a bad pretrained file leaves no run
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if not (self.run_dir / CONFIG_FILE).exists():
                self.config.save(self.run_dir / CONFIG_FILE)
            if self.held_out is not None and not (self.run_dir / HOLDOUT_FILE).exists():
                (self.run_dir / HOLDOUT_FILE).write_text("".join(f"{file}\n" for file in self.held_out))
            record_machine(self.run_dir, self.step, self.ranks.world_size)
        logger = MetricsLogger(self.run_dir, resume_step=self.step, ranks=self.ranks)
        self.model.train()
        bar = tqdm(total=total, initial=self.step, desc=f"{self.config.model}/{self.dataset.spec.name}",
                   unit="step", disable=not (progress and main), dynamic_ncols=True, mininterval=1.0)
        interval_start, interval_steps = time.perf_counter(), 0
        stopped = False
        try:
            with self._graceful_interrupt():
                while self.step < total and not stopped:
                    self.train_round(logger)
                    stopped = self.ranks.any(self._stop_requested)  # all processes stop after the same round
                    interval_steps += 1
                    bar.update(1)
                    if self.step % train.log_every == 0 or self.step == total:
                        rate = interval_steps / (time.perf_counter() - interval_start)
                        record = logger.flush(self.step, {"steps_per_sec": rate})
                        bar.set_postfix({k.replace("/loss", ""): f"{v:.3g}" for k, v in record.items()
                                         if k.endswith("/loss")})
                        interval_start, interval_steps = time.perf_counter(), 0
                    if self.step % train.sample_every == 0 and main:
                        self.save_pictures(f"step_{self.step:07d}")
                    if self.step % train.checkpoint_every == 0 and self.step != total:
                        self.save(periodic=True)
        finally:
            bar.close()
            logger.close()
        self.save(periodic=not stopped)
        if main:
            self.save_pictures("latest")
        return not stopped
