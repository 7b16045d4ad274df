"""The super-resolution family (srresnet, srgan, rrdb, esrgan): registration, the losses each player
minimises (ESRGAN's relativistic G loss with both terms, by hand), the content losses, the start from a
pretrained PSNR run and network interpolation, one CPU training step each, the evaluation's keys, and a
tiny learning test.

The learning test trains tiny nets (width 16; srresnet 2 blocks, rrdb 1 block of growth 8) for 200 rounds
of batch 16 on 4 fixed 32x32 training crops, the 4 of 64 where bicubic upscaling does worst (textured
ones), and scores 4x upscaling of those crops: bicubic 20.5 dB; srresnet 21.9 dB, rrdb 21.6 dB (seed 0 on
a 2-core AMD EPYC shared with other jobs, one thread: 8 to 12 s each).
"""
from __future__ import annotations

import math

import pytest
import torch

from gankit.config import resolve
from gankit.data import Batch, DataSpec, load_dataset
from gankit.data.base import float_to_uint8
from gankit.data.superres import Photos, bicubic_upscale, downscale
from gankit.errors import GankitError
from gankit.metrics import evaluate
from gankit.metrics.superres import psnr_ssim, quantised, upscale_tiled
from gankit.registry import all_models, get_model
from gankit.train.trainer import Trainer

TINY = {"srresnet": {"width": 8, "blocks": 1}, "rrdb": {"width": 8, "blocks": 1, "growth": 4},
        "srgan": {"width": 8, "blocks": 1, "d_width": 4, "content": "mse"},
        "esrgan": {"width": 8, "blocks": 1, "growth": 4, "d_width": 4, "content": "l1"}}
QUIET = {"eval_samples": 0, "sample_every": 100000, "checkpoint_every": 100000, "log_every": 100000,
         "precision": "fp32"}
SPEC = DataSpec("photos", "image", (3, 32, 32))


def build(name, **options):
    cls = get_model(name)
    return cls(resolve({"model": name, "options": {**TINY[name], **options}}, cls.Options).options, SPEC)


def trainer(tmp_path, name, data, steps=1, batch_size=4, options=None, run="run", **train):
    tree = {"model": name, "data": {"name": "photos"}, "train": {"steps": steps, "batch_size": batch_size, **QUIET,
                                                                 **train},
            "options": {**TINY[name], **(options or {})}}
    return Trainer(resolve(tree, get_model(name).Options), tmp_path / run, dataset=data, notify=lambda message: None)


@pytest.fixture(scope="module")
def photos():
    return load_dataset("photos", image_size=32)


def test_the_four_models_are_registered_in_the_superres_family():
    models = all_models()
    for name, paper in (("srresnet", "Ledig"), ("srgan", "Ledig"), ("rrdb", "Wang"), ("esrgan", "Wang")):
        assert models[name].family == "superres" and models[name].paper.startswith(paper) and models[name].summary
    for name in ("srgan", "esrgan"):
        assert "reference" in __import__(models[name].__module__, fromlist=["x"]).__doc__


def test_the_papers_recipes_are_the_defaults():
    srgan, esrgan = get_model("srgan").Options(), get_model("esrgan").Options()
    assert (srgan.blocks, srgan.width, srgan.adversarial_weight, srgan.vgg_layer, srgan.lr) == (16, 64, 1e-3,
                                                                                                "relu5_4", 1e-4)
    assert (esrgan.blocks, esrgan.growth, esrgan.adversarial_weight, esrgan.l1_weight, esrgan.vgg_layer,
            esrgan.betas) == (23, 32, 5e-3, 1e-2, "conv5_4", (0.9, 0.99))
    assert (get_model("rrdb").Options().lr, get_model("srresnet").Options().scale) == (2e-4, 4)


def test_without_vgg_weights_the_content_loss_is_decided_once_and_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache
    for name, pixel in (("srgan", "mse"), ("esrgan", "l1")):
        options = resolve({"model": name, "options": {}}, get_model(name).Options).options
        assert (options.content, options.vgg_weights) == (pixel, "")
        with pytest.raises(GankitError, match="needs torchvision's VGG19 ImageNet weights"):
            resolve({"model": name, "options": {"content": "vgg19"}}, get_model(name).Options)


def test_upscaling_shapes_and_refusals():
    for name in TINY:
        model = build(name).eval()
        lr = torch.rand(2, 3, 8, 8) * 2 - 1
        assert model.upscale(lr).shape == (2, 3, 32, 32) and model.upscale(lr).abs().max() <= 1
        assert model.low_resolution(torch.zeros(2, 3, 32, 32)).shape == (2, 3, 8, 8)
        with pytest.raises(GankitError, match="upscales images rather than drawing"):
            model.sample(4)
    assert build("srresnet", scale=2).upscale(torch.zeros(1, 3, 8, 8)).shape == (1, 3, 16, 16)
    assert [p.name for p in build("srgan").players()] == ["D", "G"]
    with pytest.raises(ValueError, match="learns from crops of high-resolution photos, which mnist does not hold"):
        get_model("srresnet")(build("srresnet").options, DataSpec("mnist", "image", (1, 28, 28), 10))


class Logits(torch.nn.Module):
    """A stand-in D that reads its logit off the image: the mean of the first pixel's channels x 3."""

    def forward(self, x):
        return 3 * x[:, :, 0, 0].mean(1)


def test_esrgan_g_loss_has_both_relativistic_terms_by_hand():
    model = build("esrgan", content_weight=0.0, l1_weight=0.0, adversarial_weight=1.0)
    model.D = Logits()
    hr = torch.rand(3, 3, 32, 32) * 2 - 1
    loss, _ = model.g_loss(Batch(hr))
    with torch.no_grad():
        fake = 3 * model.G(model.low_resolution(hr))[:, :, 0, 0].mean(1)
    real = 3 * hr[:, :, 0, 0].mean(1)

    def log_sigmoid(v):
        return -math.log1p(math.exp(-v))

    fake_term = -sum(log_sigmoid(f - real.mean().item()) for f in fake.tolist()) / 3  # -E log sigma(C(x_f) - E C(x))
    real_term = -sum(log_sigmoid(-(r - fake.mean().item())) for r in real.tolist()) / 3  # -E log(1 - sigma(...))
    assert loss.item() == pytest.approx(fake_term + real_term, rel=1e-5)
    assert loss.item() != pytest.approx(fake_term, rel=1e-3)  # the reference script's G loss, fake term only


def test_content_losses_by_hand():
    model = build("srgan")
    sr, hr = torch.zeros(1, 3, 32, 32), torch.full((1, 3, 32, 32), 0.5)
    assert model.content_loss(sr, hr).item() == pytest.approx(0.25)
    assert build("esrgan").content_loss(sr, hr).item() == pytest.approx(0.5)
    model.options.content = "vgg19"
    model.features = lambda images: images * 12.75  # features that are the pixels x 12.75: the paper's rescaling
    assert model.content_loss(sr, hr).item() == pytest.approx(0.25)
    model.options.content = "photo"  # gankit's features come at unit scale: no rescaling
    model.features = lambda images: images * 2
    assert model.content_loss(sr, hr).item() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["srgan", "esrgan"])
def test_one_step_on_the_photo_features_trains_g_and_leaves_the_network_out_of_checkpoints(tmp_path, photos, name):
    run = trainer(tmp_path, name, photos, options={"content": "photo"})
    before = [w.detach().clone() for w in run.model.G.parameters()]
    run.fit(progress=False)
    assert all(not torch.equal(old, new) for old, new in zip(before, run.model.G.parameters()))
    assert all(key.startswith(("G.", "D.")) for key in run.model.state_dict())
    assert run.model.describe_content().startswith("gankit photo features (")


def test_one_step_of_each_model_updates_every_player(tmp_path, photos):
    for name in TINY:
        run = trainer(tmp_path, name, photos, run=name)
        before = {p.name: [w.detach().clone() for w in p.parameters()] for p in run.players}
        run.fit(progress=False)
        for player in run.players:
            assert all(not torch.equal(old, new) for old, new in zip(before[player.name], player.parameters()))
    from PIL import Image

    with Image.open(tmp_path / "esrgan" / "samples" / "latest.png") as picture:  # bicubic / upscaled / HR x 8
        assert picture.size == (8 * 33 + 1, 3 * 33 + 1)


def test_a_gan_stage_starts_from_its_psnr_run_and_interpolates_back(tmp_path, photos):
    psnr = trainer(tmp_path, "rrdb", photos, steps=2, run="rrdb")
    psnr.fit(progress=False)
    gan = trainer(tmp_path, "esrgan", photos, options={"pretrained": str(tmp_path / "rrdb")}, run="esrgan")
    gan.model.warm_start()
    pretrained = {k: v.clone() for k, v in gan.model.G.state_dict().items()}
    assert all(torch.equal(v, psnr.model.G.state_dict()[k]) for k, v in pretrained.items())
    gan.fit(progress=False)  # warm_start again at step 0, then one round
    trained = {k: v.clone() for k, v in gan.model.G.state_dict().items()}
    gan.model.interpolate(0.25)
    for key, value in gan.model.G.state_dict().items():
        assert torch.allclose(value, 0.75 * pretrained[key] + 0.25 * trained[key], atol=1e-6)
    with pytest.raises(GankitError, match="is a rrdb run; srgan starts from a srresnet run"):
        trainer(tmp_path, "srgan", photos, options={"pretrained": str(tmp_path / "rrdb")}, run="x").fit(progress=False)
    with pytest.raises(GankitError, match="options.growth is 4 there and 8 here"):
        trainer(tmp_path, "esrgan", photos, options={"pretrained": str(tmp_path / "rrdb"), "growth": 8},
                run="y").fit(progress=False)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    with pytest.raises(GankitError, match="names none"):
        build("esrgan").interpolate(0.5)


def test_ema_and_epochs_are_refused(tmp_path, photos):
    with pytest.raises(GankitError, match="not offered for superres models"):
        trainer(tmp_path, "srresnet", photos, ema_decay=0.9)
    with pytest.raises(GankitError, match="train.epochs has no meaning"):
        trainer(tmp_path, "srresnet", photos, steps=None, epochs=1.0)


def test_eval_scores_whole_test_photos_against_bicubic(tmp_path):
    model, test = build("srresnet"), load_dataset("photos", split="test")
    parts = Photos("photos", [photo[:, :98, :131] for photo in test.photos], test.names, 32)  # scored at 96 x 128
    metrics = evaluate(model, parts, 2, plot=tmp_path / "eval.png")
    assert metrics["images"] == 2 and metrics["scale"] == 4 and (tmp_path / "eval.png").is_file()
    for prefix in ("", "bicubic_"):
        assert 0 < metrics[f"{prefix}psnr"] < 50 and -1 <= metrics[f"{prefix}ssim"] <= 1
        assert 0 < metrics[f"{prefix}gradient_ratio"] < 3
    assert metrics["bicubic_gradient_ratio"] < 0.6  # bicubic upscaling is blurrier than the photos
    assert metrics["swd"] > 0 and metrics["bicubic_swd"] > 0
    assert metrics["content_loss"] == "pixel mse" and metrics["fid"] > 0 and metrics["bicubic_fid"] > 0
    assert metrics["fid_features"].startswith("fid: gankit photo features")


@pytest.mark.parametrize("name,options", [("srresnet", {"width": 16, "blocks": 2, "lr": 2e-3}),
                                          ("rrdb", {"width": 16, "blocks": 1, "growth": 8, "lr": 2e-3})])
def test_a_tiny_model_beats_bicubic_on_its_training_crops(tmp_path, photos, name, options):
    candidates = photos.picture_crops(64)
    bicubic = quantised(bicubic_upscale(downscale(candidates, 4), 4))
    scores = torch.tensor([psnr_ssim(bicubic[i:i + 1], candidates[i:i + 1])[0] for i in range(64)])
    crops = candidates[scores.argsort()[:4]]  # the 4 where bicubic does worst: textured ones
    data = Photos("photos", list(float_to_uint8(crops)), [f"crop{i}" for i in range(4)], 32)
    run = trainer(tmp_path, name, data, steps=200, batch_size=16, options=options)
    run.fit(progress=False)
    upscaled = quantised(upscale_tiled(run.model, downscale(crops, 4)))
    model_psnr = sum(psnr_ssim(upscaled[i:i + 1], crops[i:i + 1])[0] for i in range(4)) / 4
    bicubic_psnr = scores.sort().values[:4].mean().item()
    assert model_psnr > bicubic_psnr + 0.5, (model_psnr, bicubic_psnr)
