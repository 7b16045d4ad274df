"""gankit's shipped photo feature network: it names the degradations of patches from photos it never saw, its
channels come at unit scale, FID in its space tells bicubic upscaling from the photos, and it is the content
loss of the GAN stage when no VGG19 weights exist."""
from __future__ import annotations

import json

import pytest
import torch

from gankit.data import load_dataset
from gankit.data.base import uint8_to_float
from gankit.data.superres import bicubic_upscale, downscale, random_crops
from gankit.errors import GankitError
from gankit.metrics.images import fid
from gankit.metrics.superres import patch_features, patches
from gankit.nets.photo_features import (DEGRADATIONS, NOISE_STD, PATCH, WEIGHTS, accuracy, degrade, labelled_patches,
                                        photo_features)
from test_cli import assert_one_sentence_error, run

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def test_photos():
    return load_dataset("photos", split="test").photos


def test_degradations_do_what_they_say():
    generator = torch.Generator().manual_seed(0)
    flat = torch.full((2, 3, 32, 32), 0.2)
    level = round((0.2 + 1) * 127.5) / 127.5 - 1  # the nearest 8-bit level
    for kind in range(len(DEGRADATIONS)):
        if DEGRADATIONS[kind] != "noise":  # every other one leaves a flat image flat
            assert torch.allclose(degrade(flat, kind, generator), torch.full_like(flat, level), atol=1e-6)
    noisy = degrade(flat, DEGRADATIONS.index("noise"), generator)
    assert abs(noisy.std().item() - NOISE_STD) < 0.005
    stripes = torch.zeros(1, 3, 32, 32)
    stripes[..., ::2] = 1  # the finest detail there is: every smoothing degradation removes most of it
    for name in ("bicubic x2", "bicubic x4", "blur", "blocky x4"):
        assert degrade(stripes, DEGRADATIONS.index(name), generator).std() < 0.6 * stripes.std(), name
    patches_, kinds = labelled_patches([torch.zeros(3, 80, 80, dtype=torch.uint8)], 20, generator)
    assert patches_.shape == (20, 3, PATCH, PATCH) and kinds.shape == (20,) and set(kinds.tolist()) <= set(range(7))


def test_the_shipped_network_names_degradations_of_photos_it_never_saw(test_photos):
    record = json.loads(WEIGHTS.with_suffix(".json").read_text())
    net = photo_features()
    patches_, kinds = labelled_patches(test_photos, 700, torch.Generator().manual_seed(7))  # not the record's draw
    overall, per_kind = accuracy(net, patches_, kinds)
    assert overall > 0.8 and abs(overall - record["test_accuracy"]) < 0.05  # chance is 1/7
    assert min(per_kind) > 0.4  # the hardest: "none" (56.5% in the record), told from noise and sharpening
    assert net.describe() == f"gankit photo features ({WEIGHTS})"


def test_features_come_at_unit_scale_a_quarter_of_the_size(test_photos):
    net = photo_features()
    crops = uint8_to_float(random_crops(test_photos, 256, 48, torch.Generator().manual_seed(0)))
    with torch.no_grad():
        maps = net(crops)
    assert maps.shape == (256, net.widths[-1], 12, 12)
    std = maps.transpose(0, 1).flatten(1).std(1)  # scaled on training photos; these are others
    assert 0.5 < std.median().item() < 2


def test_fid_in_its_space_tells_bicubic_upscaling_from_the_photos(test_photos):
    net = photo_features()
    hr = [uint8_to_float(photo[:, :192, :256]).unsqueeze(0) for photo in test_photos]
    left, right = ([image[..., :, half * 128:(half + 1) * 128] for image in hr] for half in (0, 1))
    blurred = [bicubic_upscale(downscale(image, 4), 4) for image in right]
    real_features = patch_features(net, left, CPU)
    assert len(real_features) == 3 * len(patches(left[0]))
    photos_vs_photos = fid(real_features, patch_features(net, right, CPU))
    photos_vs_bicubic = fid(real_features, patch_features(net, blurred, CPU))
    assert photos_vs_bicubic > 2 * photos_vs_photos


def test_a_file_that_is_not_the_network_is_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors at all")
    with pytest.raises(GankitError, match=f"{bad} does not hold gankit's photo feature weights"):
        photo_features(str(bad))
    with pytest.raises(GankitError, match="are missing; re-create them with 'gankit classifier train --data photos'"):
        photo_features(str(tmp_path / "absent.safetensors"))
    code, _, err = run(capsys, "classifier", "train", "--data", "photos", "--epochs", "2")
    assert_one_sentence_error(code, err, "the photo feature network trains for a number of steps")
