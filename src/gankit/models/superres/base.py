"""What the super-resolution models share: the degradation, options, the content losses and the GAN
stage's start from a pretrained PSNR model.

A super-resolution model trains on high-resolution crops (``batch.x``, from
``photos`` or ``photos:folder:PATH``, gankit.data.superres) and makes their
low-resolution partners itself with ``downscale`` (bicubic, antialiased, 8-bit),
``options.scale`` times smaller. G maps LR to HR; ``upscale(lr)`` is G in [-1, 1].
Instead of sampling from noise a model upscales: ``gankit eval`` scores whole
held-out photos against bicubic upscaling, ``gankit upscale`` runs on the user's
images.

Each GAN model comes in two stages, as in its paper. The PSNR stage (srresnet,
rrdb) trains G alone on a pixel loss. The GAN stage (srgan, esrgan) adds D and a
content loss, and starts from a PSNR run: ``options.pretrained=RUN_DIR`` copies
that run's G (loaded with ``weights_only``) before the first round.

Content losses (``options.content``): ``vgg19``, distances between VGG19
activations (gankit.nets.perceptual; needs ImageNet weights: ``options.vgg_weights``
or torch's hub cache); ``photo``, distances between the activations of the feature
network gankit trains and ships (gankit.nets.photo_features); ``mse`` or ``l1`` on
pixels. ``auto`` (the default) is decided when the run is configured: vgg19 when
weights are found, else the model's pixel loss, and config.yaml records the choice
(and the weights file); ``gankit eval`` reports which content loss a model used.
Not photo: in the superres suite it drove SRGAN's G into textures that excite the
degradation detector (docs/superres.md has the numbers).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.data.superres import downscale, is_photo_data
from gankit.errors import GankitError
from gankit.models.base import Model, OptimSpec, Player
from gankit.nets.blocks import MultipleSizes
from gankit.nets.perceptual import VGGLayer, find_vgg19_weights, vgg19_features
from gankit.nets.photo_features import photo_features

ContentLoss = Literal["auto", "vgg19", "photo", "mse", "l1"]
PIXEL_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
FEATURE_LOSSES = ("vgg19", "photo")
ARCHITECTURE = ("scale", "width", "blocks", "growth")  # the options that decide G's weights' shapes


@dataclass
class SuperResolutionOptions:
    scale: Literal[2, 4] = 4  # upscaling factor
    width: int = 64  # G's channels (both papers' 64)
    blocks: int = 16  # G's residual blocks (SRResNet's 16)
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)

    def validate(self) -> None:
        if self.width < 1 or self.blocks < 1 or self.lr <= 0:
            raise GankitError("options.width and options.blocks must be at least 1 and options.lr positive.")


@dataclass
class PerceptualGANOptions(SuperResolutionOptions):
    pretrained: str = ""  # a run directory of the model's PSNR stage, whose G this run starts from
    content: ContentLoss = "auto"
    vgg_weights: str = ""  # torchvision VGG19 ImageNet weights; empty: torch's hub cache file, if there
    vgg_layer: VGGLayer = "relu5_4"
    content_weight: float = 1.0
    adversarial_weight: float = 1e-3
    d_width: int = 64  # D's first convolution's channels (both papers' 64)
    pixel_content: ClassVar[str] = "mse"  # what content=auto becomes without VGG19 weights

    def validate(self) -> None:
        super().validate()
        if self.d_width < 1 or self.content_weight < 0 or self.adversarial_weight < 0:
            raise GankitError("options.d_width must be at least 1, and the loss weights non-negative.")
        if self.pretrained:  # absolute, so that interpolation finds the PSNR run from any folder later
            self.pretrained = str(Path(self.pretrained).expanduser().resolve())
        if self.content == "auto" or (self.content == "vgg19" and not self.vgg_weights):
            # Decided once, when a run is configured; a run's config.yaml then holds the outcome.
            weights = find_vgg19_weights(self.vgg_weights)
            if weights is None and self.content == "vgg19":
                raise GankitError("options.content=vgg19 needs torchvision's VGG19 ImageNet weights: give the file "
                                  "as options.vgg_weights (none is in torch's hub cache), or choose content mse or l1.")
            self.content = "vgg19" if weights else self.pixel_content
            self.vgg_weights = str(weights or "")


class SuperResolutionModel(Model):
    """Base of the super-resolution models: G upscales ``downscale(hr)``; subclasses build G and the players."""

    family = "superres"
    Options = SuperResolutionOptions

    def __init__(self, options, data):
        super().__init__(options, data)
        if not is_photo_data(data.name):
            raise ValueError(f"{self.name} learns from crops of high-resolution photos, which {data.name} does not "
                             f"hold; use photos or photos:folder:PATH")
        self.scale, self.channels = options.scale, data.shape[0]

    @classmethod
    def image_sizes(cls, options):
        return MultipleSizes(options.scale, options.scale)

    def low_resolution(self, hr: Tensor) -> Tensor:
        """The LR partners of HR images: bicubic, antialiased, rounded to 8 bits."""
        return downscale(hr, self.scale)

    def upscale(self, lr: Tensor) -> Tensor:
        """G's ``scale`` x larger images (in [-1, 1]) of LR images."""
        return self.G(lr).clamp(-1, 1)

    def describe_content(self) -> str:
        """The loss that pulls G's output toward the HR image, as reports name it."""
        raise NotImplementedError

    def sample(self, n, labels=None):
        raise GankitError(f"{self.name} upscales images rather than drawing them from noise; use "
                          f"'gankit upscale RUN --input DIR --out DIR'.")

    def optim(self) -> OptimSpec:
        return OptimSpec("adam", self.options.lr, self.options.betas)


class PSNRModel(SuperResolutionModel):
    """Base of the PSNR stage: G alone, minimising the pixel loss ``pixel_loss`` between its upscaling of
    LR(x) and the HR crop x."""

    pixel_loss: ClassVar[str]  # "mse" (SRResNet) or "l1" (RRDB)

    def players(self):
        return [Player("G", [self.G], self.g_loss, self.optim())]

    def g_loss(self, batch):
        loss = PIXEL_LOSSES[self.pixel_loss](self.G(self.low_resolution(batch.x)), batch.x)
        return loss, {"loss": loss.detach()}

    def describe_content(self) -> str:
        return f"pixel {self.pixel_loss}"


class PerceptualGANModel(SuperResolutionModel):
    """Base of the GAN stage: a content loss, a D that judges HR crops, and the start from a PSNR run."""

    Options = PerceptualGANOptions
    pretrained_from: ClassVar[str]  # the model of the PSNR stage a run starts from

    @classmethod
    def image_sizes(cls, options):
        return MultipleSizes(16, 16)  # D's four stride-2 convolutions

    def warm_start(self) -> None:
        if self.options.pretrained:
            self.G.load_state_dict(self.pretrained_generator())
        if self.options.content in FEATURE_LOSSES:
            self.features(torch.zeros(1, self.channels, 16, 16, device=self.device))  # a bad file fails now

    def pretrained_generator(self) -> dict:
        """The G weights of the PSNR run ``options.pretrained`` (read with weights_only)."""
        from gankit.train.checkpoint import load_checkpoint
        from gankit.train.run import LATEST, read_run_config

        run = Path(self.options.pretrained).expanduser()
        config = read_run_config(run)
        if config.model != self.pretrained_from:
            raise GankitError(f"options.pretrained {run} is a {config.model} run; {self.name} starts from a "
                              f"{self.pretrained_from} run (its PSNR stage).")
        differ = [key for key in ARCHITECTURE
                  if getattr(config.options, key, None) != getattr(self.options, key, None)]
        if differ:
            raise GankitError(f"options.pretrained {run} has another G: options.{differ[0]} is "
                              f"{getattr(config.options, differ[0])} there and {getattr(self.options, differ[0])} "
                              f"here.")
        state = load_checkpoint(run / LATEST, config.model)["model"]
        return {key[len("G."):]: value for key, value in state.items() if key.startswith("G.")}

    def interpolate(self, alpha: float) -> None:
        """Network interpolation (Wang et al. 2018): G's weights become (1 - alpha) x the pretrained PSNR
        model's + alpha x its own, trading PSNR (alpha 0) for sharpness (alpha 1)."""
        if not 0 <= alpha <= 1:
            raise GankitError(f"the interpolation weight alpha must lie in [0, 1], not {alpha}.")
        if not self.options.pretrained:
            raise GankitError(f"network interpolation blends a GAN run's G with the {self.pretrained_from} run it "
                              f"started from, and this run names none (options.pretrained).")
        psnr = self.pretrained_generator()
        with torch.no_grad():
            for key, value in self.G.state_dict().items():
                if value.is_floating_point():
                    value.copy_(torch.lerp(psnr[key].to(value), value, alpha))

    def feature_network(self):
        """The content loss's feature network (loaded on first use, once per process)."""
        if self.options.content == "vgg19":
            return vgg19_features(self.options.vgg_weights, self.options.vgg_layer)
        return photo_features()

    def features(self, images: Tensor) -> Tensor:
        """The content loss's feature network's activations of images in [-1, 1]."""
        return self.feature_network().to(images.device)(images)

    def feature_distance(self, sr_features: Tensor, hr_features: Tensor) -> Tensor:
        raise NotImplementedError

    def content_loss(self, sr: Tensor, hr: Tensor) -> Tensor:
        """The content term: a distance between feature activations, or a pixel loss."""
        if self.options.content in PIXEL_LOSSES:
            return PIXEL_LOSSES[self.options.content](sr, hr)
        with torch.no_grad():
            target = self.features(hr)
        return self.feature_distance(self.features(sr), target)

    def describe_content(self) -> str:
        o = self.options
        if o.content == "vgg19":
            return f"vgg19 {o.vgg_layer} ({o.vgg_weights})"
        return photo_features().describe() if o.content == "photo" else f"pixel {o.content}"
