"""The encoder family on the command line: train, eval, sample (inputs above reconstructions, then prior samples)
and gankit encode on a folder of the user's images; every bad input: one sentence on stderr, exit 2, nothing
written. Runs train on digits (8x8), where the probes fit in a moment."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from PIL import Image
from test_cli import assert_one_sentence_error, run, snapshot, write_images

from gankit.cli import main
from gankit.data import uint8_to_float
from gankit.data.images import read_images, square
from gankit.metrics.encoders import encode_all
from gankit.train.run import load_model

TINY = ["--set", "options.width=4", "--batch-size", "8", "-q"]


@pytest.fixture(scope="module")
def aae_run(tmp_path_factory):
    """aae trained for 2 rounds on digits, evaluated on 20 test images and prior samples."""
    run_dir = tmp_path_factory.mktemp("runs") / "aae"
    assert main(["train", "aae", "--data", "digits", "--steps", "2", "--set", "train.eval_samples=20",
                 "--out", str(run_dir), *TINY]) == 0
    return run_dir


def test_list_shows_the_encoder_family(capsys):
    code, out, _ = run(capsys, "list")
    lines = out.splitlines()
    family = list(itertools.takewhile(lambda line: line.startswith("    "), lines[lines.index("  encoder") + 1:]))
    assert code == 0 and sorted(line.split()[0] for line in family[::2]) == ["aae", "aae-supervised", "bigan",
                                                                              "vaegan"]


def test_train_evaluates_reconstructions_samples_and_probes(capsys, aae_run):
    metrics = json.loads((aae_run / "eval.json").read_text())["metrics"]
    assert metrics["images"] == 20 and {"reconstruction_mse", "reconstruction_psnr", "mean_image_mse",
                                        "mean_image_psnr", "probe_accuracy", "pixel_probe_accuracy",
                                        "probe_train_images", "fid", "kid", "precision", "recall"} <= set(metrics)
    with Image.open(aae_run / "samples" / "latest.png") as picture:  # inputs, reconstructions, 2 rows of samples
        assert picture.size == (8 * 33 + 1, 4 * 33 + 1)
    code, out, _ = run(capsys, "eval", aae_run, "-n", "30", "--json")
    metrics = json.loads(out)["metrics"]
    assert code == 0 and metrics["images"] == 30 and metrics["probe_train_images"] == 1797  # all of digits
    assert (aae_run / "eval_samples.png").is_file()


def test_sample_draws_inputs_reconstructions_and_prior_samples(capsys, aae_run, tmp_path):
    code, out, _ = run(capsys, "sample", aae_run, "-n", "4", "--out", tmp_path / "grid.png")
    assert code == 0 and "4 test images above their reconstructions and 8 prior samples" in out
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (4 * 33 + 1, 4 * 33 + 1)
    code, _, err = run(capsys, "sample", aae_run, "--class", "3")
    assert_one_sentence_error(code, err, "aae takes no labels")


def test_aae_supervised_samples_a_class_and_scores_it(capsys, tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", "aae-supervised", "--data", "digits", "--steps", "1", "--set", "train.eval_samples=20",
                 "--out", str(run_dir), *TINY]) == 0
    assert "class_accuracy" in json.loads((run_dir / "eval.json").read_text())["metrics"]
    code, out, _ = run(capsys, "sample", run_dir, "--class", "3", "-n", "5", "--out", tmp_path / "threes.png")
    assert code == 0 and "wrote 5 samples" in out


def test_encode_exports_codes_in_file_order(capsys, aae_run, tmp_path):
    write_images(tmp_path / "mine", 2, (20, 20), "L")
    write_images(tmp_path / "mine" / "more", 1, (12, 12), "L", seed=1)
    out = tmp_path / "codes" / "digits.npy"
    code, stdout, _ = run(capsys, "encode", aae_run, "--input", tmp_path / "mine", "--out", out)
    assert code == 0 and "encoded 3 images (8x8" in stdout
    codes = np.load(out)
    assert codes.shape == (3, 8) and codes.dtype == np.float32
    files = (tmp_path / "codes" / "digits.txt").read_text().splitlines()
    assert files == ["img00.png", "img01.png", "more/img00.png"]
    _, model, _ = load_model(aae_run)
    images = uint8_to_float(torch.cat([square(image, 8) for _, image in read_images(tmp_path / "mine", "L")]))
    assert np.allclose(codes, encode_all(model, images).numpy())


@pytest.mark.parametrize("images,out,fragment", [
    ("none", "codes.npy", "no readable images"),
    ("colour", "codes.npy", "is a colour image, and this run encodes grey images"),
    ("grey", "codes.txt", "must name a .npy file"),
    ("grey", "taken.npy", "already exists"),
    ("grey", "listed.npy", "already exists"),  # the file order would overwrite listed.txt
])
def test_encode_refuses_bad_input_and_writes_nothing(capsys, aae_run, tmp_path, images, out, fragment):
    folder = tmp_path / "input"
    if images == "none":
        folder.mkdir()
        (folder / "readme.txt").write_text("no pictures here")
    else:
        write_images(folder, 2, (8, 8), "RGB" if images == "colour" else "L")
    (tmp_path / "taken.npy").write_bytes(b"mine")
    (tmp_path / "listed.txt").write_text("mine")
    before, run_before = snapshot(tmp_path), snapshot(aae_run)
    code, _, err = run(capsys, "encode", aae_run, "--input", folder, "--out", tmp_path / out)
    assert_one_sentence_error(code, err, fragment)
    assert snapshot(tmp_path) == before and snapshot(aae_run) == run_before


def test_ema_is_refused_before_a_run_is_written(capsys, tmp_path):
    code, _, err = run(capsys, "train", "bigan", "--data", "digits", "--steps", "1", "--set", "train.ema_decay=0.99",
                       "--out", tmp_path / "run", *TINY)
    assert_one_sentence_error(code, err, "not offered for encoder models")
    assert not (tmp_path / "run").exists()
