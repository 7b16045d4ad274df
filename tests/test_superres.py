"""Super-resolution pieces: the photo crops and the degradation, the networks (PixelShuffle shapes, RRDB's
residual scaling), the VGG19 feature network of the perceptual losses (its normalisation, the weights it
accepts and refuses), the scores (PSNR / SSIM against scikit-image, the gradient ratio) and tiling."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.data import load_dataset, uint8_to_float
from gankit.data.superres import (
    SR_PHOTOS,
    PhotoCrops,
    Photos,
    bicubic_upscale,
    downscale,
    modcrop,
    random_crops,
)
from gankit.errors import GankitError
from gankit.metrics.superres import (
    luma,
    mean_gradient,
    patches,
    psnr_ssim,
    swd_scores,
    upscale_tiled,
)
from gankit.nets.perceptual import VGG19_FILE, VGG19Features, find_vgg19_weights
from gankit.nets.superres import (
    RRDB,
    DenseBlock,
    RRDBNet,
    SRResNet,
    VGGStyleDiscriminator,
)

# --- data ------------------------------------------------------------------------------------------


def test_train_and_test_photos_are_disjoint_colour_photos():
    assert set(SR_PHOTOS["train"]).isdisjoint(SR_PHOTOS["test"])
    train, test = load_dataset("photos", split="train"), load_dataset("photos", split="test")
    assert len(train) == 4 and len(test) == 3 and train.spec.shape == (3, 96, 96)
    assert all(photo.dtype == torch.uint8 and photo.shape[0] == 3 and min(photo.shape[1:]) >= 300
               for photo in train.photos + test.photos)


def test_crops_are_pieces_of_the_photos_turned_and_flipped():
    photos = [torch.arange(3 * 10 * 12, dtype=torch.uint8).view(3, 10, 12),
              torch.randint(0, 256, (3, 9, 9), dtype=torch.uint8)]
    crops = random_crops(photos, 40, 4, torch.Generator().manual_seed(0))
    assert crops.shape == (40, 3, 4, 4)
    for crop in crops:
        turns = [crop.rot90(-k, (1, 2)) for k in range(4)]
        pieces = turns + [turn.flip(2) for turn in turns] + [turn.flip(1) for turn in turns]
        assert any(any(torch.equal(piece, photo[:, i:i + 4, j:j + 4]) for photo in photos
                       for i in range(photo.shape[1] - 3) for j in range(photo.shape[2] - 3))
                   for piece in pieces)



def test_every_crop_position_of_every_photo_is_equally_likely():
    dark, light = torch.zeros(3, 10, 12, dtype=torch.uint8), torch.full((3, 9, 9), 255, dtype=torch.uint8)
    crops = random_crops([dark, light], 4000, 4, torch.Generator().manual_seed(1))
    share = (crops[:, 0, 0, 0] == 255).float().mean().item()
    assert share == pytest.approx(36 / (63 + 36), abs=0.02)  # 6 x 6 positions of 4000 in the light, 7 x 9 in the dark


def test_batches_resume_exactly_and_stay_in_range():
    data = load_dataset("photos", image_size=32)
    stream = data.batches(4, seed=3, device=torch.device("cpu"))
    stream.next()
    state = stream.state_dict()
    following = stream.next().x
    again = PhotoCrops(data, 4, 99, torch.device("cpu"))
    again.load_state_dict(state)
    assert torch.equal(again.next().x, following) and following.shape == (4, 3, 32, 32)
    assert following.min() >= -1 and following.max() <= 1
    assert torch.equal(data.picture_crops(3), data.picture_crops(3))


def test_photos_smaller_than_a_crop_are_refused_in_one_sentence():
    with pytest.raises(GankitError, match=r"tiny.png in mine is 20x10 pixels, smaller than the 16x16 crops"):
        Photos("mine", [torch.zeros(3, 40, 40, dtype=torch.uint8), torch.zeros(3, 10, 20, dtype=torch.uint8)],
               ["big.png", "tiny.png"], 16)
    with pytest.raises(GankitError, match="data.channels must be 3"):
        load_dataset("photos", channels=1)


def test_downscaling_is_bicubic_antialiased_and_8_bit():
    flat = torch.full((1, 3, 16, 16), 0.2)
    assert torch.allclose(downscale(flat, 4), torch.full((1, 3, 4, 4), round(1.2 * 127.5) / 127.5 - 1))
    x = torch.rand(2, 3, 16, 24) * 2 - 1
    lr = downscale(x, 4)
    assert lr.shape == (2, 3, 4, 6) and torch.equal((lr + 1) * 127.5, ((lr + 1) * 127.5).round())
    # antialiased: a checkerboard finer than the LR grid averages to grey instead of aliasing
    checkers = (torch.arange(16).view(1, 16) + torch.arange(16).view(16, 1)) % 2 * 2.0 - 1
    assert downscale(checkers.expand(1, 3, 16, 16), 4).abs().max() < 0.05
    assert bicubic_upscale(lr, 4).shape == (2, 3, 16, 24) and modcrop(torch.zeros(3, 10, 11), 4).shape == (3, 8, 8)


# --- networks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [2, 4])
def test_pixelshuffle_upsampling_shapes(scale):
    net = SRResNet(3, width=8, blocks=2, scale=scale)
    shuffles = [m for m in net.modules() if isinstance(m, torch.nn.PixelShuffle)]
    assert len(shuffles) == {2: 1, 4: 2}[scale] and all(m.upscale_factor == 2 for m in shuffles)
    first = net.upsample[0][0]
    assert (first.in_channels, first.out_channels) == (8, 32)  # 4 x width channels become a map of twice the side
    out = net(torch.rand(2, 3, 5, 7) * 2 - 1)
    assert out.shape == (2, 3, 5 * scale, 7 * scale) and out.abs().max() <= 1
    assert RRDBNet(3, width=8, blocks=1, growth=4, scale=scale)(torch.rand(1, 3, 5, 7)).shape == (1, 3, 5 * scale,
                                                                                                    7 * scale)


def test_rrdb_scales_every_residual_by_0_2():
    block = RRDB(width=4, growth=2)
    with torch.no_grad():
        for layer in block.modules():
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.zero_()
                layer.bias.zero_()
        for dense in block.blocks:
            dense.fuse.bias.fill_(1.0)  # each dense block: x + 0.2 * 1
    x = torch.randn(2, 4, 3, 3)
    # three dense blocks add 0.6; the RRDB adds 0.2 x their output to x: x + 0.2 (x + 0.6) = 1.2 x + 0.12
    assert torch.allclose(block(x), 1.2 * x + 0.12, atol=1e-6)
    dense = DenseBlock(4, 2)
    with torch.no_grad():
        dense.fuse.weight.zero_()
        dense.fuse.bias.fill_(-0.5)
    assert torch.allclose(dense(x), x - 0.1, atol=1e-6)
    net = RRDBNet(3, width=8, blocks=2, growth=4)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())


def test_vgg_style_discriminator_gives_one_logit_per_image():
    d = VGGStyleDiscriminator(3, 32, width=4)
    strided = [m for m in d.features if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == 4 and d(torch.rand(5, 3, 32, 32)).shape == (5,)
    with pytest.raises(ValueError, match="multiples of 16"):
        VGGStyleDiscriminator(3, 40)


# --- the VGG19 feature network -----------------------------------------------------------------------

VGG19_CONVS = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512]


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """A randomly initialised VGG19 state dict (the features part, with torchvision's key names) in a file."""
    generator, state, index, channels = torch.Generator().manual_seed(0), {}, 0, 3
    for out in VGG19_CONVS:
        if out == "M":
            index += 1
            continue
        weight = torch.randn(out, channels, 3, 3, generator=generator) * (2 / (9 * channels)) ** 0.5  # Kaiming
        state[f"features.{index}.weight"] = weight
        state[f"features.{index}.bias"] = torch.randn(out, generator=generator) * 0.01
        index, channels = index + 2, out
    state["classifier.6.bias"] = torch.zeros(1000)  # the rest of a torchvision state dict is ignored
    path = tmp_path_factory.mktemp("vgg") / "random_vgg19.pth"
    torch.save(state, path)
    return path


def conv5_4_by_hand(state: dict, imagenet_images: torch.Tensor) -> torch.Tensor:
    """VGG19 up to conv5_4 (before its ReLU), layer by layer from the state dict."""
    x, index = imagenet_images, 0
    for i, out in enumerate(VGG19_CONVS):
        if out == "M":
            x, index = F.max_pool2d(x, 2), index + 1
            continue
        x = F.conv2d(x, state[f"features.{index}.weight"], state[f"features.{index}.bias"], padding=1)
        x = x if i == len(VGG19_CONVS) - 1 else F.relu(x)
        index += 2
    return x


def test_perceptual_features_normalise_images_in_minus_one_to_one_to_imagenet_space(vgg_file):
    features = VGG19Features(vgg_file, "conv5_4")
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)  # ImageNet's, as torchvision documents them
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected = conv5_4_by_hand(torch.load(vgg_file), ((images + 1) / 2 - mean) / std)
    assert expected.shape == (2, 512, 1, 1)
    assert torch.allclose(features(images), expected, rtol=1e-4, atol=1e-4)
    assert not any(p.requires_grad for p in features.parameters())
    relu = VGG19Features(vgg_file, "relu5_4")(images)
    assert torch.allclose(relu, F.relu(expected), rtol=1e-4, atol=1e-4)


def test_weights_that_are_not_vgg19_are_one_clear_error(tmp_path):
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "part.pth")
    with pytest.raises(GankitError, match="does not hold torchvision VGG19 weights"):
        VGG19Features(tmp_path / "part.pth", "conv5_4")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(GankitError, match="does not hold torchvision VGG19 weights"):
        VGG19Features(tmp_path / "list.pth", "conv5_4")
    (tmp_path / "notes.pth").write_text("not a tensor file")
    with pytest.raises(GankitError, match="is not a weights file torch.load can read"):
        VGG19Features(tmp_path / "notes.pth", "conv5_4")
    with pytest.raises(GankitError, match="does not exist"):
        find_vgg19_weights(str(tmp_path / "missing.pth"))


def test_the_torch_hub_cache_is_where_weights_are_found_when_none_is_named(tmp_path, monkeypatch, vgg_file):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert find_vgg19_weights("") is None
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    (cache / VGG19_FILE).symlink_to(vgg_file)
    assert find_vgg19_weights("") == cache / VGG19_FILE
    assert find_vgg19_weights(str(vgg_file)) == vgg_file.resolve()


# --- scores ----------------------------------------------------------------------------------------

def test_psnr_and_ssim_on_luma_agree_with_scikit_image():
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (1, 3, 40, 48)).astype(np.float64)
    guess = np.clip(truth + rng.normal(0, 12, truth.shape), 0, 255).round()
    as_tensor = [torch.from_numpy(a / 127.5 - 1) for a in (guess, truth)]
    y_guess, y_truth = (rgb2ycbcr(a[0].transpose(1, 2, 0) / 255)[4:-4, 4:-4, 0] for a in (guess, truth))
    psnr, ssim = psnr_ssim(*as_tensor)
    assert psnr == pytest.approx(peak_signal_noise_ratio(y_truth, y_guess, data_range=255), abs=1e-4)
    assert ssim == pytest.approx(structural_similarity(y_truth, y_guess, data_range=255, gaussian_weights=True,
                                                       sigma=1.5, use_sample_covariance=False), abs=1e-7)
    assert luma(torch.ones(1, 3, 2, 2)).unique().item() == pytest.approx(235, abs=1e-3)


def test_the_gradient_ratio_penalises_blur_and_not_sharpness():
    x = torch.rand(1, 3, 48, 48) * 2 - 1
    blurred = bicubic_upscale(downscale(x, 4), 4)
    assert mean_gradient([x]) / mean_gradient([x]) == 1 and mean_gradient([blurred]) < 0.5 * mean_gradient([x])
    ramp = torch.linspace(-1, 1, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32)  # Y rises by 219 * 2/31 / 2 a pixel
    assert mean_gradient([ramp]) == pytest.approx(219 / 31, rel=1e-6)
    assert patches(torch.zeros(2, 3, 72, 40)).shape == (2 * 2 * 1, 3, 32, 32)  # 64 x 32 after the shave


def test_the_patch_swd_is_zero_for_the_photo_and_grows_with_blur():
    photo = load_dataset("photos", split="test").photos[0]
    truth = modcrop(uint8_to_float(photo), 8).unsqueeze(0)
    blurred = {f"x{k}_": [bicubic_upscale(downscale(truth, k), k)] for k in (2, 4, 8)}
    scores = swd_scores([truth], {"": [truth], **blurred})
    assert scores["swd"] == 0
    assert 0 < scores["x2_swd"] < scores["x4_swd"] < scores["x8_swd"]
    assert "swd_unavailable" in swd_scores([truth[..., :60, :60]], {"": [truth[..., :60, :60]]})


TILING_TOLERANCE = 0.1  # on the [-1, 1] scale, near seams with 2 pixels of context


class TinySR(torch.nn.Module):
    """A stand-in model around SRResNet with 2 blocks, whose output pixel depends on LR pixels up to 12 away
    (the 9x9 head 4, two blocks 4, the body's last convolution 1, the upsampling 1.5, the 9x9 tail 1); it
    records the sides of the inputs it is given."""

    def __init__(self):
        super().__init__()
        self.scale, self.G = 4, SRResNet(3, width=4, blocks=2, scale=4)
        self.inputs = []

    @property
    def device(self):
        return torch.device("cpu")

    def upscale(self, lr):
        self.inputs.append(tuple(lr.shape[-2:]))
        return self.G(lr).clamp(-1, 1)


def test_tiled_upscaling_equals_the_whole_image_away_from_seams():
    model = TinySR().eval()
    lr = torch.rand(1, 3, 60, 50) * 2 - 1
    with torch.no_grad():
        whole = model.upscale(lr)
    model.inputs.clear()
    tiled = upscale_tiled(model, lr, tile=30, overlap=12)  # as much context as the receptive field: exact
    assert torch.allclose(tiled, whole, atol=1e-5)
    assert model.inputs == [(42, 42), (42, 32), (42, 42), (42, 32)]  # tiles of 30 + 12 context, cut at the edges
    seamless = upscale_tiled(model, lr, tile=30, overlap=2)  # too little context: differs near the seams only
    seam = torch.zeros(60 * 4, 50 * 4, dtype=torch.bool)
    seam[(30 - 12) * 4:(30 + 12) * 4, :] = True  # the seam between the two rows of tiles, 30 LR pixels down
    seam[:, (30 - 12) * 4:(30 + 12) * 4] = True  # and between the two columns
    assert torch.allclose(seamless[..., ~seam], whole[..., ~seam], atol=1e-5)
    difference = (seamless - whole).abs()
    assert difference.max() > 1e-4 and difference.max() < TILING_TOLERANCE


def test_with_vgg19_weights_a_gan_learns_on_features_and_is_scored_by_fid(vgg_file):
    from gankit.config import resolve
    from gankit.data import DataSpec
    from gankit.metrics import evaluate
    from gankit.nets.photo_features import WEIGHTS
    from gankit.registry import get_model

    cls = get_model("srgan")
    options = resolve({"model": "srgan", "options": {"width": 8, "blocks": 1, "d_width": 4, "content": "vgg19",
                                                     "vgg_weights": str(vgg_file)}}, cls.Options).options
    model = cls(options, DataSpec("photos", "image", (3, 32, 32)))
    model.warm_start()  # loads VGG19 now, so a bad file would fail before a run is written
    assert all(key.startswith(("G.", "D.")) for key in model.state_dict())  # VGG19 stays out of checkpoints
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    model.content_loss(model.G(model.low_resolution(hr)), hr).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.G.parameters())
    generator = torch.Generator().manual_seed(0)
    photos = Photos("photos", [torch.randint(0, 256, (3, 104, 104), dtype=torch.uint8, generator=generator)
                               for _ in range(2)], ["a", "b"], 32)
    metrics = evaluate(model, photos, 2)
    for name in ("fid", "bicubic_fid", "vgg19_fid", "bicubic_vgg19_fid"):  # 2 x 9 patches of 32x32 a side
        assert metrics[name] > 0, name
    assert metrics["fid_features"] == (f"fid: gankit photo features ({WEIGHTS}); vgg19_fid: vgg19 relu5_4 "
                                       f"({vgg_file}); 32x32 patches")
