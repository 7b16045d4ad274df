"""Scores of the super-resolution family, on whole held-out photos, beside bicubic upscaling.

Each of the first ``n`` test photos is cut to sides that are multiples of the
scale, downscaled with the training degradation (gankit.data.superres.downscale)
and upscaled by the model (in tiles, so memory stays bounded whatever the
photo's size) and by bicubic interpolation. Both results are rounded to 8 bits,
as an image file holds them, and compared with the photo on the luma channel of
ITU-R BT.601 (MATLAB's rgb2ycbcr: Y = 16 + 65.481 R + 128.553 G + 24.966 B for
R, G, B in [0, 1]) with a ``BORDER``-pixel border shaved, the convention of the
SR literature:

- ``psnr``: the mean over photos of 10 log10(255^2 / MSE) (torchmetrics);
- ``ssim``: the mean over photos of SSIM, Gaussian window 11, sigma 1.5 (torchmetrics' map, averaged
  over the windows inside the image as MATLAB's ssim does);
- ``gradient_ratio``: the mean gradient magnitude of the upscaled Y over that of the
  photo's, pooled over every pixel of every photo: below 1 blurrier than the
  photo, 1 as sharp, above 1 busier. PSNR rewards blur (the mean of the plausible
  answers scores best); this measure does not;
- ``swd``: the sliced Wasserstein distance (gankit.metrics.swd, x 1e3) between the upscaled and the
  HR ``SWD_PATCH`` x ``SWD_PATCH`` patches (all non-overlapping ones), over a Laplacian pyramid
  from 64 to 16 pixels: the distributions of local detail at three scales, which blur moves
  away from the photo's, and which needs no feature network;
- ``fid``: the Frechet distance between the spatially averaged activations of
  gankit's photo feature network (gankit.nets.photo_features, trained to tell
  blur, noise, ringing and blockiness from clean photo patches, on photos no test
  photo is among) for the upscaled and the HR ``FID_PATCH`` x ``FID_PATCH``
  patches (all non-overlapping ones); ``vgg19_fid`` the same with VGG19's
  activations, when the model's content loss is VGG19 (the user's weights);
- ``bicubic_*``: the same scores for bicubic upscaling, the baseline row;
- ``content_loss``: what the model's content loss compared (pixels or a feature
  network), and ``fid_features``, the feature networks of the FIDs.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gankit.data.base import float_to_uint8, uint8_to_float
from gankit.data.superres import Photos, bicubic_upscale, downscale, modcrop
from gankit.models.base import evaluating

BORDER = 4
SSIM_RADIUS = 5  # of the 11-tap Gaussian window
TILE = 128  # LR pixels per tile side
OVERLAP = 16  # LR pixels of context read on each side of a tile, then cut away
FID_PATCH = 32
SWD_PATCH = 64
GRID_COLUMNS = 8
PICTURE_CROP = 96  # HR pixels of the crop from each test photo's centre in the evaluation picture
BT601 = (65.481, 128.553, 24.966)


@torch.no_grad()
def upscale_tiled(model, lr: Tensor, tile: int = TILE, overlap: int = OVERLAP) -> Tensor:
    """``model.upscale`` (in eval mode) of float LR images (N, C, h, w) in [-1, 1] of any size: float32
    on the CPU. G sees one ``tile`` x ``tile`` block at a time, read with ``overlap`` pixels of context
    on every side the image has there, and only the block's own pixels are kept. Where G's receptive
    field reaches no farther than ``overlap`` the result equals an untiled pass; nearer the seams it
    differs a little (BatchNorm in eval mode is per pixel, so nothing else depends on the tiling)."""
    scale, (height, width) = model.scale, lr.shape[-2:]
    out = torch.empty(*lr.shape[:2], height * scale, width * scale)
    with evaluating(model):
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                bottom, right = min(top + tile, height), min(left + tile, width)
                top_in, left_in = max(0, top - overlap), max(0, left - overlap)
                block = lr[..., top_in:min(bottom + overlap, height), left_in:min(right + overlap, width)]
                upscaled = model.upscale(block.to(model.device)).float().cpu()
                rows, cols = (top - top_in) * scale, (left - left_in) * scale
                out[..., top * scale:bottom * scale, left * scale:right * scale] = \
                    upscaled[..., rows:rows + (bottom - top) * scale, cols:cols + (right - left) * scale]
    return out


def luma(images: Tensor) -> Tensor:
    """BT.601 luma Y in [16, 235] of RGB images in [-1, 1], float64 (N, 1, H, W)."""
    rgb = images.double().add(1).div(2)
    weights = torch.tensor(BT601, dtype=torch.float64).view(1, 3, 1, 1)
    return 16 + (rgb * weights).sum(1, keepdim=True)


def shave(images: Tensor, border: int = BORDER) -> Tensor:
    return images[..., border:images.shape[-2] - border, border:images.shape[-1] - border]


def psnr_ssim(upscaled: Tensor, truth: Tensor) -> tuple[float, float]:
    """PSNR and SSIM of one image's shaved luma against the truth's (255 peak), as in the SR literature.
    SSIM averages the windows that lie wholly inside the image, as MATLAB's ssim and scikit-image do
    (torchmetrics' own mean also counts windows over its reflected padding)."""
    from torchmetrics.functional.image import (
        peak_signal_noise_ratio,
        structural_similarity_index_measure,
    )

    y, y_true = shave(luma(upscaled)), shave(luma(truth))
    # float32: 9x faster than float64 on a CPU, and within 1e-8 of it on 400x600 photos
    _, ssim_map = structural_similarity_index_measure(y.float(), y_true.float(), data_range=255.0, sigma=1.5,
                                                      gaussian_kernel=True, kernel_size=11, return_full_image=True)
    ssim = shave(ssim_map, SSIM_RADIUS).double().mean().item()
    return float(peak_signal_noise_ratio(y, y_true, data_range=255.0)), ssim


def mean_gradient(images: list[Tensor]) -> float:
    """|grad Y| of the shaved luma (forward differences), averaged over every pixel of every image."""
    total, count = 0.0, 0
    for image in images:
        y = shave(luma(image))
        dx, dy = y[..., :-1, 1:] - y[..., :-1, :-1], y[..., 1:, :-1] - y[..., :-1, :-1]
        total, count = total + (dx.pow(2) + dy.pow(2)).sqrt().sum().item(), count + dx.numel()
    return total / count


def patches(images: Tensor, side: int = FID_PATCH) -> Tensor:
    """Every non-overlapping side x side patch of the shaved (N, C, H, W) images, (P, C, side, side)."""
    shaved = shave(images)
    if min(shaved.shape[-2:]) < side:
        return shaved.new_empty(0, images.shape[1], side, side)
    cut = shaved.unfold(2, side, side).unfold(3, side, side)  # N, C, rows, cols, side, side
    return cut.permute(0, 2, 3, 1, 4, 5).reshape(-1, images.shape[1], side, side)


@torch.no_grad()
def patch_features(net, images: list[Tensor], device: torch.device, batch_size: int = 64) -> Tensor:
    """The feature network ``net``'s activations of every patch of ``images``, averaged over positions:
    (P, channels)."""
    cut = torch.cat([patches(image) for image in images])
    net = net.to(device)
    return torch.cat([net(cut[i:i + batch_size].to(device)).float().mean((2, 3)).cpu()
                      for i in range(0, len(cut), batch_size)])


def quantised(images: Tensor) -> Tensor:
    """Images rounded to 8 bits, as an image file holds them."""
    return uint8_to_float(float_to_uint8(images))


def superres_metrics(model, test: Photos, n: int, plot: Path | None = None) -> dict:
    """Every score of ``model`` on the first ``n`` photos of ``test`` (see the module docstring); ``plot``
    receives crops from the photos' centres: bicubic, upscaled and HR rows."""
    truths = [modcrop(uint8_to_float(photo), model.scale).unsqueeze(0) for photo in test.photos[:n]]
    made = {"": [], "bicubic_": []}
    for truth in truths:
        lr = downscale(truth, model.scale)
        made[""].append(quantised(upscale_tiled(model, lr)))
        made["bicubic_"].append(quantised(bicubic_upscale(lr, model.scale)))
    metrics = {"images": len(truths), "scale": model.scale}
    for prefix, upscaled in made.items():
        scores = torch.tensor([psnr_ssim(image, truth) for image, truth in zip(upscaled, truths)])
        metrics.update({f"{prefix}psnr": scores[:, 0].mean().item(), f"{prefix}ssim": scores[:, 1].mean().item(),
                        f"{prefix}gradient_ratio": mean_gradient(upscaled) / mean_gradient(truths)})
    metrics.update(swd_scores(truths, made))
    metrics["content_loss"] = model.describe_content()
    metrics.update(fid_scores(model, truths, made))
    if plot is not None:
        from gankit.visual import save_samples

        side = min(PICTURE_CROP, *(min(truth.shape[-2:]) for truth in truths))
        rows = [central_crop(image, side) for images in (made["bicubic_"], made[""], truths) for image in images]
        save_samples(torch.cat(rows), plot, nrow=len(truths))
    return metrics


def swd_scores(truths: list[Tensor], made: dict[str, list[Tensor]]) -> dict:
    """``swd`` and ``bicubic_swd`` between the upscaled and the HR patches; ``swd_unavailable`` when the
    photos are too small to hold a patch."""
    from gankit.metrics.images import METRIC_SEED
    from gankit.metrics.swd import SWDSettings, swd

    hr = torch.cat([patches(truth, SWD_PATCH) for truth in truths])
    if not len(hr):
        return {"swd_unavailable": f"the test photos are smaller than {SWD_PATCH + 2 * BORDER} pixels a side"}
    settings = SWDSettings(max_images=len(hr))
    return {f"{prefix}swd": swd(hr, torch.cat([patches(image, SWD_PATCH) for image in upscaled]), settings,
                                seed=METRIC_SEED)["swd"] for prefix, upscaled in made.items()}


def fid_scores(model, truths: list[Tensor], made: dict[str, list[Tensor]]) -> dict:
    """``fid`` and ``bicubic_fid`` in the feature space of gankit's photo feature network; ``vgg19_fid`` and
    ``bicubic_vgg19_fid`` too for a model whose content loss is VGG19 (while its weights file is there);
    ``fid_features`` names the networks and the patches."""
    from gankit.metrics.images import fid
    from gankit.models.superres.base import PerceptualGANModel
    from gankit.nets.photo_features import photo_features

    if not len(torch.cat([patches(truth) for truth in truths])):
        return {"fid_features": f"unavailable: the test photos are smaller than {FID_PATCH + 2 * BORDER} pixels "
                                f"a side"}
    nets = {"": photo_features()}
    vgg = isinstance(model, PerceptualGANModel) and model.options.content == "vgg19"
    if vgg and Path(model.options.vgg_weights).is_file():
        nets["vgg19_"] = model.feature_network()
    scores, described = {}, []
    for name, net in nets.items():
        hr_features = patch_features(net, truths, model.device)
        scores.update({f"{prefix}{name}fid": fid(hr_features, patch_features(net, upscaled, model.device))
                       for prefix, upscaled in made.items()})
        described.append(f"{name}fid: {net.describe()}")
    if vgg and "vgg19_" not in nets:
        described.append("vgg19_fid unavailable: the VGG19 weights this model trained with are gone")
    return {**scores, "fid_features": f"{'; '.join(described)}; {FID_PATCH}x{FID_PATCH} patches"}


def central_crop(image: Tensor, side: int) -> Tensor:
    """The side x side crop from the centre of a (1, C, H, W) image."""
    top, left = (image.shape[-2] - side) // 2, (image.shape[-1] - side) // 2
    return image[..., top:top + side, left:left + side]


def superres_grid(model, hr: Tensor) -> tuple[Tensor, int]:
    """(images, per row) for a picture of HR crops in [-1, 1]: their bicubic upscalings, the model's
    upscalings and the crops themselves, one row each."""
    lr = downscale(hr, model.scale)
    return torch.cat([bicubic_upscale(lr, model.scale), upscale_tiled(model, lr), hr.float().cpu()]), len(hr)
