"""The super-resolution family on the command line: train on the shipped photos and on a folder, evaluate,
start a GAN from a PSNR run, and upscale a folder of the user's images; every bad input: one sentence on
stderr, exit 2, nothing written."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from test_cli import assert_one_sentence_error, run, write_images

from gankit.cli import main

TINY = ["--set", "options.width=8", "--set", "options.blocks=1", "--set", "data.image_size=32", "--batch-size", "4",
        "-q"]


@pytest.fixture(scope="module")
def srresnet_run(tmp_path_factory):
    """srresnet trained for 2 rounds on 32x32 crops of the shipped photos, scored on the first test photo."""
    run_dir = tmp_path_factory.mktemp("runs") / "srresnet"
    assert main(["train", "srresnet", "--data", "photos", "--steps", "2", "--set", "train.eval_samples=1",
                 "--out", str(run_dir), *TINY]) == 0
    return run_dir


def test_list_shows_the_family_and_the_photos(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "  superres\n" in out and "    srresnet" in out and "    esrgan" in out
    assert "  photos " in out and "photos:folder:PATH" in out


def test_training_evaluates_on_a_held_out_photo_beside_bicubic(capsys, srresnet_run):
    metrics = json.loads((srresnet_run / "eval.json").read_text())["metrics"]
    assert metrics["images"] == 1 and metrics["content_loss"] == "pixel mse"
    assert {"psnr", "ssim", "gradient_ratio", "bicubic_psnr", "bicubic_ssim", "bicubic_gradient_ratio"} <= set(metrics)
    with Image.open(srresnet_run / "samples" / "latest.png") as picture:  # bicubic / upscaled / HR rows of 8
        assert picture.size == (8 * 33 + 1, 3 * 33 + 1)
    code, _, err = run(capsys, "sample", srresnet_run)
    assert_one_sentence_error(code, err, "gankit upscale")
    code, out, _ = run(capsys, "eval", srresnet_run, "-n", "1")
    assert code == 0 and "step 2, 1 held-out photo:" in out  # what was scored, not "1 samples"


def test_upscale_keeps_names_skips_what_is_not_an_image_and_bounds_tiles(capsys, srresnet_run, tmp_path):
    write_images(tmp_path / "mine", 2, (37, 23), "RGB")
    write_images(tmp_path / "mine" / "grey", 1, (9, 4), "L", seed=5)  # grey/img00.png: a clash with img00.png ...
    (tmp_path / "mine" / "grey" / "img00.png").rename(tmp_path / "mine" / "grey" / "small.png")  # ... avoided
    (tmp_path / "mine" / "notes.txt").write_text("not a picture")
    code, out, err = run(capsys, "upscale", srresnet_run, "--input", tmp_path / "mine", "--out", tmp_path / "big",
                         "--tile", "8")
    assert code == 0 and "upscaled 3 images 4x (srresnet step 2)" in out
    assert "warning: skipping" in err and "notes.txt, which is not an image" in err
    assert sorted(p.name for p in (tmp_path / "big").iterdir()) == ["img00.png", "img01.png", "small.png"]
    with Image.open(tmp_path / "big" / "img01.png") as image, Image.open(tmp_path / "big" / "small.png") as small:
        assert image.size == (4 * 37, 4 * 23) and image.mode == "RGB" and small.size == (36, 16)
    code, _, _ = run(capsys, "upscale", srresnet_run, "--input", tmp_path / "mine", "--out", tmp_path / "whole",
                     "--tile", "64")
    tiled, whole = (Image.open(tmp_path / folder / "img01.png").tobytes() for folder in ("big", "whole"))
    assert code == 0 and tiled == whole  # tiles of 8 read with 16 pixels of context, more than G's field of view


def test_upscale_refuses_images_smaller_than_the_scale_factor(capsys, srresnet_run, tmp_path):
    write_images(tmp_path / "mine", 1, (16, 16), "RGB")
    write_images(tmp_path / "mine" / "thin", 1, (20, 3), "RGB")
    code, _, err = run(capsys, "upscale", srresnet_run, "--input", tmp_path / "mine", "--out", tmp_path / "out")
    assert_one_sentence_error(code, err, "is 20x3 pixels, smaller than this run's scale factor 4")
    assert not (tmp_path / "out").exists()


def test_upscale_refuses_an_out_that_is_a_file(capsys, srresnet_run, tmp_path):
    write_images(tmp_path / "mine", 1, (16, 16), "RGB")
    (tmp_path / "out.png").write_bytes(b"mine")
    code, _, err = run(capsys, "upscale", srresnet_run, "--input", tmp_path / "mine", "--out", tmp_path / "out.png")
    assert_one_sentence_error(code, err, "is a file; give a folder")
    assert (tmp_path / "out.png").read_bytes() == b"mine"
    code, _, err = run(capsys, "upscale", srresnet_run, "--input", tmp_path / "mine", "--out", tmp_path / "out",
                       "--alpha", "0.5")
    assert_one_sentence_error(code, err, "srresnet is not such a run")


def test_srgan_starts_from_the_srresnet_run_and_interpolates(capsys, srresnet_run, tmp_path):
    run_dir = tmp_path / "srgan"
    code, out, _ = run(capsys, "train", "srgan", "--data", "photos", "--steps", "1", "--out", run_dir,
                       "--set", f"options.pretrained={srresnet_run}", "--set", "options.d_width=4",
                       "--set", "train.eval_samples=0", *TINY)
    assert code == 0 and "run saved to" in out
    assert (run_dir / "config.yaml").read_text().count("content: mse") == 1  # no VGG19 weights here: pixel MSE
    write_images(tmp_path / "mine", 1, (12, 10), "RGB")
    code, out, _ = run(capsys, "upscale", run_dir, "--input", tmp_path / "mine", "--out", tmp_path / "out",
                       "--alpha", "0.8")
    assert code == 0 and "interpolated with alpha 0.8" in out
    # alpha 0 is the PSNR run's G: scored as the srresnet run scores itself, and the GAN run's eval.json untouched
    code, out, _ = run(capsys, "eval", run_dir, "-n", "1", "--alpha", "0")
    blend = json.loads((run_dir / "eval_alpha0.json").read_text())["metrics"]
    psnr_run = json.loads((srresnet_run / "eval.json").read_text())["metrics"]
    assert code == 0 and blend["alpha"] == 0 and (run_dir / "eval_samples_alpha0.png").is_file()
    assert not (run_dir / "eval.json").exists() and not (run_dir / "eval_samples.png").exists()
    assert blend["psnr"] == pytest.approx(psnr_run["psnr"]) and blend["ssim"] == pytest.approx(psnr_run["ssim"])
    code, _, err = run(capsys, "eval", srresnet_run, "--alpha", "0.5")
    assert_one_sentence_error(code, err, "srresnet is not such a run")


def test_photos_are_refused_to_models_of_other_families_and_other_data_to_sr_models(capsys, tmp_path):
    code, _, err = run(capsys, "train", "dcgan", "--data", "photos", "--steps", "1", "--out", tmp_path / "run", "-q")
    assert_one_sentence_error(code, err, "photos holds whole photos of many sizes, for super-resolution models")
    code, _, err = run(capsys, "train", "srresnet", "--data", "digits", "--steps", "1", "--out", tmp_path / "run",
                       "-q")
    assert_one_sentence_error(code, err, "learns from crops of high-resolution photos, which digits does not hold")
    assert not (tmp_path / "run").exists()


def test_a_weights_file_that_is_not_vgg19_is_refused_before_a_run_is_written(capsys, tmp_path):
    torch.save({"conv.weight": torch.zeros(2, 2)}, tmp_path / "vgg.pth")
    code, _, err = run(capsys, "train", "srgan", "--data", "photos", "--steps", "1", "--out", tmp_path / "run",
                       "--set", "options.content=vgg19", "--set", f"options.vgg_weights={tmp_path / 'vgg.pth'}",
                       *TINY)
    assert_one_sentence_error(code, err, "does not hold torchvision VGG19 weights")
    assert not (tmp_path / "run").exists()


def test_a_folder_of_photos_keeps_whole_photos_out_and_refuses_small_ones(capsys, tmp_path):
    write_images(tmp_path / "photos", 20, (40, 36), "RGB")
    run_dir = tmp_path / "run"
    code, _, _ = run(capsys, "train", "rrdb", "--data", f"photos:folder:{tmp_path / 'photos'}", "--steps", "1",
                     "--set", "options.growth=4", "--set", "train.eval_samples=5", "--out", run_dir, *TINY)
    assert code == 0 and (run_dir / "holdout.txt").read_text().splitlines() == ["img04.png", "img05.png"]
    assert json.loads((run_dir / "eval.json").read_text())["metrics"]["images"] == 2  # the held-out photos
    write_images(tmp_path / "photos", 1, (30, 36), "RGB", seed=9)  # img00.png, now narrower than a crop
    code, _, err = run(capsys, "train", "rrdb", "--data", f"photos:folder:{tmp_path / 'photos'}", "--steps", "1",
                       "--out", tmp_path / "again", *TINY)
    assert_one_sentence_error(code, err, "img00.png in photos:folder:")
    assert "is 30x36 pixels, smaller than the 32x32 crops" in err and not (tmp_path / "again").exists()
