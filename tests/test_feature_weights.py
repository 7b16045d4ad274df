"""FID and KID on a torchvision ImageNet network's features, from a weights file the user holds:
loaded without running pickled code, named in eval.json, and every bad file one clear sentence.

No real ImageNet weights can be downloaded here, so the tests use a randomly initialised resnet18
saved as a state_dict: the loading, preprocessing and scoring paths are the same."""
from __future__ import annotations

import json

import pytest
import torch
import torchvision

from gankit.cli import main
from gankit.errors import GankitError
from gankit.metrics.features import ImageNetFeatures
from test_cli import assert_one_sentence_error, run


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    return path


def test_features_of_grey_and_colour_images(resnet18_file):
    net = ImageNetFeatures("resnet18", str(resnet18_file))
    grey, colour = torch.rand(3, 1, 28, 28) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    assert net(grey).shape == (3, 512) and net(colour).shape == (2, 512)
    # a grey image is the colour image with three equal channels
    assert torch.allclose(net(grey[:1]), net(grey[:1].expand(-1, 3, -1, -1)))


def test_bad_weight_files_are_one_clear_error(resnet18_file, tmp_path):
    with pytest.raises(GankitError, match="does not exist"):
        ImageNetFeatures("resnet18", str(tmp_path / "missing.pth"))
    with pytest.raises(GankitError, match="unknown feature network"):
        ImageNetFeatures("inception", str(resnet18_file))
    with pytest.raises(GankitError, match="does not hold torchvision resnet50"):
        ImageNetFeatures("resnet50", str(resnet18_file))
    pickled = tmp_path / "module.pth"
    torch.save(torch.nn.Linear(2, 2), pickled)  # a whole pickled module: weights_only refuses it
    with pytest.raises(GankitError, match="without running code"):
        ImageNetFeatures("resnet18", str(pickled))


def test_eval_adds_fid_and_kid_on_the_users_network(capsys, tmp_path, resnet18_file):
    run_dir = tmp_path / "run"
    assert main(["train", "dcgan", "--data", "digits", "--steps", "1", "--batch-size", "8",
                 "--set", "options.width=4", "--set", "train.eval_samples=0", "--out", str(run_dir), "-q"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "eval", run_dir, "-n", "20", "--json", "--features", f"resnet18={resnet18_file}")
    metrics = json.loads(out)["metrics"]
    assert code == 0 and metrics["fid_resnet18"] > 0 and "kid_resnet18" in metrics
    assert metrics["resnet18_weights"] == str(resnet18_file)
    assert json.loads((run_dir / "eval.json").read_text())["metrics"]["fid_resnet18"] == metrics["fid_resnet18"]
    code, _, err = run(capsys, "eval", run_dir, "--features", "resnet18")
    assert_one_sentence_error(code, err, "NET=FILE")
