"""gankit's own feature network for photos: what the super-resolution models use when no VGG19 weights exist.

No ImageNet network can be downloaded offline, so gankit trains a small one on the
super-resolution training photos (``photos``' train split; the test photos are never
seen) and ships it, ``weights/photo_features.safetensors``, with a JSON record of the
command and its accuracy. Its task is to tell which of ``DEGRADATIONS`` a 32x32 patch
has suffered: untouched, bicubic round trips through 2x and 4x smaller images, a
Gaussian blur, Gaussian noise, over-sharpening, and blocky 4x nearest-neighbour
upsampling. Features that separate those are the ones a super-resolution
realism measure needs: they respond to missing detail, to noise and to ringing,
which pixel losses and PSNR do not tell apart from faithful texture.

The network is fully convolutional (three stages of two 3x3 convolutions with
ReLUs, the first convolution of stages 2 and 3 of stride 2), so ``forward`` gives
feature maps of any image a quarter of its size, each channel scaled to unit
standard deviation over clean training patches (``scale``): a distance between
them is on a known scale. The perceptual content loss (``options.content=photo``)
is the mean squared difference of those maps; the FID of ``gankit eval`` compares
their spatial means over 32x32 patches. Images come in gankit's range, [-1, 1].

``gankit classifier train --data photos`` re-creates the weights.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError

WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "photo_features.safetensors"
DEGRADATIONS = ("none", "bicubic x2", "bicubic x4", "blur", "noise", "oversharpened", "blocky x4")
PATCH = 32  # the side of a training patch (and of the FID patches)
CONTEXT = 16  # pixels around each patch that the degradations see, then cut away (no border effects)
NOISE_STD = 0.05  # of the "noise" degradation, in [-1, 1] units (about 6 grey levels)
BLUR_SIGMA = 1.0
SHARPEN = 1.0  # the "oversharpened" image is x + SHARPEN (x - blur(x))


class PhotoFeatures(nn.Module):
    """The network of the module notes: ``forward`` gives scaled feature maps, ``logits`` the degradation scores."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        layers, c_in = [], 3
        for stage, width in enumerate(widths):
            layers += [nn.Conv2d(c_in, width, 3, stride=1 if stage == 0 else 2, padding=1), nn.ReLU(),
                       nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
            c_in = width
        self.widths = tuple(widths)
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, len(DEGRADATIONS))
        self.register_buffer("scale", torch.ones(1, c_in, 1, 1))
        self.path = None  # the weights file, once loaded

    def forward(self, images: Tensor) -> Tensor:
        """Feature maps (N, C, H/4, W/4) of images in [-1, 1], each channel in units of its standard deviation."""
        return self.trunk(images) * self.scale

    def logits(self, images: Tensor) -> Tensor:
        return self.head(self.trunk(images).mean((2, 3)))

    def describe(self) -> str:
        return "gankit photo features" + (f" ({self.path})" if self.path else "")


# --- degradations -------------------------------------------------------------------

def gaussian_blur(images: Tensor, sigma: float = BLUR_SIGMA) -> Tensor:
    import torchvision.transforms.v2.functional as TF

    return TF.gaussian_blur(images, kernel_size=[5, 5], sigma=[sigma, sigma])


def degrade(images: Tensor, kind: int, generator: torch.Generator) -> Tensor:
    """Float images in [-1, 1] (sides multiples of 4) after degradation ``kind`` (an index into DEGRADATIONS),
    rounded to 8 bits as an image file holds them."""
    from gankit.data.superres import bicubic_upscale, downscale

    name = DEGRADATIONS[kind]
    if name.startswith("bicubic"):
        factor = int(name[-1])
        images = bicubic_upscale(downscale(images, factor), factor)
    elif name == "blur":
        images = gaussian_blur(images)
    elif name == "noise":
        images = images + NOISE_STD * torch.randn(images.shape, generator=generator)
    elif name == "oversharpened":
        images = images + SHARPEN * (images - gaussian_blur(images))
    elif name == "blocky x4":
        images = F.interpolate(downscale(images, 4), scale_factor=4, mode="nearest")
    return images.clamp(-1, 1).add(1).mul(127.5).round().div(127.5).sub(1)


def labelled_patches(photos: list[Tensor], n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` PATCH x PATCH patches of uint8 (C, H, W) ``photos`` (random positions, flips and quarter turns),
    each degraded by a random one of DEGRADATIONS: (float patches in [-1, 1], their degradation indices)."""
    from gankit.data.base import uint8_to_float
    from gankit.data.superres import random_crops

    crops = uint8_to_float(random_crops(photos, n, PATCH + 2 * CONTEXT, generator))
    kinds = torch.randint(len(DEGRADATIONS), (n,), generator=generator)
    out = torch.empty_like(crops)
    for kind in range(len(DEGRADATIONS)):
        chosen = kinds == kind
        if chosen.any():
            out[chosen] = degrade(crops[chosen], kind, generator)
    return out[..., CONTEXT:CONTEXT + PATCH, CONTEXT:CONTEXT + PATCH], kinds


# --- training and the shipped weights -------------------------------------------------

@dataclass
class FeatureTraining:
    steps: int = 3000
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    test_patches: int = 4096
    widths: tuple[int, ...] = (32, 64, 128)


@torch.no_grad()
def accuracy(net: PhotoFeatures, patches: Tensor, kinds: Tensor) -> tuple[float, list[float]]:
    """(share of ``patches`` whose degradation ``net`` names, that share per degradation)."""
    predicted = torch.cat([net.logits(patches[i:i + 512]).argmax(1) for i in range(0, len(patches), 512)])
    right = predicted == kinds
    return right.float().mean().item(), [right[kinds == k].float().mean().item() for k in range(len(DEGRADATIONS))]


def train_photo_features(settings: FeatureTraining, log=print) -> tuple[PhotoFeatures, dict]:
    """Train the network on the ``photos`` training split; scored on patches of the test photos."""
    from gankit.data.base import uint8_to_float
    from gankit.data.superres import random_crops, shipped_photos

    train, test = (shipped_photos(split, None).photos for split in ("train", "test"))
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    test_patches, test_kinds = labelled_patches(test, settings.test_patches, torch.Generator().manual_seed(1))
    net = PhotoFeatures(settings.widths)
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, settings.lr, total_steps=settings.steps)
    start = time.time()
    for step in range(1, settings.steps + 1):
        patches, kinds = labelled_patches(train, settings.batch_size, generator)
        loss = F.cross_entropy(net.logits(patches), kinds)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 500 == 0 or step == settings.steps:
            log(f"step {step}/{settings.steps}: loss {loss.item():.4f}, test accuracy "
                f"{accuracy(net, test_patches, test_kinds)[0]:.4f} ({time.time() - start:.0f}s)")
    net.eval()
    with torch.no_grad():  # unit standard deviation per channel over clean training patches
        clean = uint8_to_float(random_crops(train, 2048, PATCH, torch.Generator().manual_seed(2)))
        std = net.trunk(clean).transpose(0, 1).flatten(1).std(1)
        net.scale.copy_((1 / std.clamp_min(1e-6)).view(1, -1, 1, 1))
    overall, per_kind = accuracy(net, test_patches, test_kinds)
    record = {"task": "name the degradation of a 32x32 patch", "degradations": list(DEGRADATIONS),
              "test_accuracy": round(overall, 4),
              "test_accuracy_per_degradation": {name: round(a, 4) for name, a in zip(DEGRADATIONS, per_kind)},
              "test_patches": len(test_patches), "train_photos": "photos (train split)",
              "test_photos": "photos (test split)", "settings": asdict(settings),
              "train_seconds": round(time.time() - start, 1), "threads": torch.get_num_threads(),
              "torch": torch.__version__}
    return net, record


def save_photo_features(net: PhotoFeatures, path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path),
              metadata={"widths": json.dumps(list(net.widths))})


@lru_cache(maxsize=2)
def photo_features(path: str = str(WEIGHTS)) -> PhotoFeatures:
    """The network with the weights at ``path`` (default the shipped ones), frozen, in eval mode, loaded once
    per process: a model holds no copy, so the network stays out of its state_dict and checkpoints."""
    from safetensors import SafetensorError, safe_open

    if not Path(path).is_file():
        raise GankitError(f"the photo feature weights {path} are missing; re-create them with "
                          f"'gankit classifier train --data photos'.")
    try:
        with safe_open(path, framework="pt") as file:
            widths = tuple(json.loads(file.metadata()["widths"]))
            state = {key: file.get_tensor(key) for key in file.keys()}
        net = PhotoFeatures(widths)
        net.load_state_dict(state)
    except (SafetensorError, KeyError, TypeError, ValueError, RuntimeError) as error:
        raise GankitError(f"{path} does not hold gankit's photo feature weights ({type(error).__name__}).") from None
    net.path = path
    return net.eval().requires_grad_(False)
