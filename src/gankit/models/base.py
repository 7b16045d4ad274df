"""The model contract: a model names its players and the loss each one minimises.

The trainer owns everything else (devices, optimizers, precision, rounds,
EMA, checkpoints, logging), so a model file can read like the paper.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterator, Literal, Optional, Sequence

import torch
from torch import Tensor, nn

from gankit.data import Batch, DataSpec
from gankit.data.labels import LabelUse
from gankit.nets.blocks import ImageSizes

LossFn = Callable[[Batch], "tuple[Tensor, dict[str, Tensor]]"]


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode (dropout off, BatchNorm statistics fixed) inside the block, its previous
    mode after it: how sampling, translating and scoring run a model that may be mid-training."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@dataclass(frozen=True)
class OptimSpec:
    """Which optimizer a player uses, with its paper's settings."""

    kind: Literal["adam", "rmsprop", "sgd"] = "adam"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def build(self, params) -> torch.optim.Optimizer:
        params = list(params)
        if self.kind == "adam":
            # The fused kernel does the same arithmetic in another order (results differ in the last
            # bits) and, for the small nets of the 2-D benchmark, steps 2.6x faster on CPU.
            fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
            return torch.optim.Adam(params, lr=self.lr, betas=self.betas, fused=fused or None)
        if self.kind == "rmsprop":
            return torch.optim.RMSprop(params, lr=self.lr)
        return torch.optim.SGD(params, lr=self.lr)


@dataclass
class Player:
    """One participant: the modules it updates, the loss it minimises, how often it steps.

    ``loss(batch)`` returns the scalar to minimise and a dict of detached numbers
    to log (the trainer prefixes them with the player's name). ``steps`` is the
    number of updates per round, each on a fresh batch (n_critic for a critic);
    ``schedule``, when given, overrides it round by round (a function of the
    round number alone, so a resumed run follows the same schedule).
    """

    name: str
    modules: Sequence[nn.Module]
    loss: LossFn
    optim: OptimSpec
    steps: int = 1
    schedule: Optional[Callable[[int], int]] = None

    def steps_at(self, round_: int) -> int:
        """Updates this player takes in round ``round_`` (counted from 0)."""
        return self.schedule(round_) if self.schedule is not None else self.steps

    def parameters(self) -> list[nn.Parameter]:
        return [p for module in self.modules for p in module.parameters() if p.requires_grad]


class Model(nn.Module):
    """Base class of every gankit model.

    Subclasses set the class attributes, declare ``Options`` (a dataclass of
    hyperparameters with the paper's defaults), build their networks in
    ``__init__(options, data)`` and implement ``players`` and ``sample``.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str]
    paper: ClassVar[str]
    Options: ClassVar[type]
    # Attribute names of the modules whose weights EMA averages and sampling uses.
    ema_modules: ClassVar[tuple[str, ...]] = ("G",)
    # Which labels the training batches carry (gankit.data.labels): none, all, or some (semi-supervised).
    label_use: ClassVar[LabelUse] = "none"
    # What sample(n, labels) takes: None (no labels), "class" (the data's classes) or "code" (the values
    # of a categorical code the model discovers without labels, like InfoGAN's c1); see ``num_labels``.
    sample_labels: ClassVar[Optional[Literal["class", "code"]]] = None
    # Names of the continuous latent codes ``traverse`` can sweep (InfoGAN's c2, c3).
    continuous_codes: ClassVar[tuple[str, ...]] = ()
    # A model that must learn two domains without correspondence (cogan) sets True: on paired two-domain data
    # its batches' x_b are then drawn in an order of their own, as for unpaired data, not x's partners.
    blind_to_pairs: ClassVar[bool] = False
    # Task metrics (gankit.metrics.tasks) gankit eval adds for this model, beyond the image metrics.
    task_metrics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options, data: DataSpec):
        super().__init__()
        self.options = options
        self.data = data

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @classmethod
    def image_sizes(cls, options) -> Optional[ImageSizes]:
        """The image sizes this model's networks support with ``options``; None: any size.

        When the data's native size is not among them, the trainer resizes to the
        nearest larger one (MNIST 28 -> 32) and records it in config.yaml.
        """
        return None

    def players(self) -> list[Player]:
        raise NotImplementedError

    def sample(self, n: int, labels: Optional[Tensor] = None) -> Tensor:
        """``n`` samples in data space (images in [-1, 1]); conditional models take labels."""
        raise NotImplementedError

    @property
    def num_labels(self) -> int:
        """How many label values ``sample`` takes (classes or code values)."""
        raise NotImplementedError(f"{self.name} samples without labels")

    def lr_scale(self) -> float:
        """The model's own multiplier on every learning rate, on top of the trainer's schedule
        (BEGAN halves its rate when training stalls); kept in buffers, so resume continues it."""
        return 1.0

    def after_step(self, player: str) -> None:
        """Called after each optimizer step of ``player`` (weight clipping, controllers)."""

    def warm_start(self) -> None:
        """Called by the trainer once, before a new run's first round (never on resume, nor when a
        trained run is loaded): where a model copies pretrained weights and checks the files it needs."""

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.options.z_dim, device=self.device)
