"""Image folders larger than data.memory_budget stream from disk: the same images, in the same batch order as
an in-memory folder (also across a resume), decoded by DataLoader workers; a run trains and evaluates on them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_cli import assert_one_sentence_error, run
from test_folder_split import train_args, write_folder

from gankit.data import FolderImages, StreamedFolder, load_dataset
from gankit.data.base import ImageBatches
from gankit.data.images import memory_budget_bytes
from gankit.errors import GankitError

TINY_BUDGET = 1e-6  # GiB: about 1 kB, smaller than any folder below
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stream") / "photos"
    write_folder(folder, 30)
    return folder


def both(photos: Path, workers: int = 0) -> tuple[FolderImages, StreamedFolder]:
    in_memory = load_dataset(f"folder:{photos}", image_size=12)
    streamed = load_dataset(f"folder:{photos}", image_size=12, memory_budget=TINY_BUDGET, workers=workers)
    return in_memory, streamed


def test_the_budget_decides_and_both_ways_read_the_same_images(photos):
    in_memory, streamed = both(photos)
    assert isinstance(in_memory, FolderImages) and isinstance(streamed, StreamedFolder)
    assert streamed.spec == in_memory.spec and streamed.files == in_memory.files and len(streamed) == 30
    assert torch.equal(streamed.images[:], in_memory.images)
    rows = torch.tensor([29, 0, 7, 7])
    assert torch.equal(streamed.images[rows], in_memory.images[rows])
    # 30 images x 3 x 12 x 12 bytes = 12,960: streams under a budget of 12,000 bytes, not of 13,000
    assert isinstance(load_dataset(f"folder:{photos}", image_size=12, memory_budget=12_000 / 2**30), StreamedFolder)
    assert isinstance(load_dataset(f"folder:{photos}", image_size=12, memory_budget=13_000 / 2**30), FolderImages)
    assert memory_budget_bytes(2.0) == 2 * 2**30 and memory_budget_bytes(None) > 0
    assert torch.equal(streamed.select(slice(3, 9)).images, in_memory.select(slice(3, 9)).images)


def test_an_encoder_model_trains_and_evaluates_on_a_streamed_folder(capsys, photos, tmp_path):
    out = tmp_path / "run"  # its probe reads training images through select()
    code, _, err = run(capsys, "train", "aae", "--data", f"folder:{photos}", "--steps", 2, "--batch-size", 8,
                       "--set", "data.image_size=16", "--set", "train.eval_samples=20", "--set", "options.width=8",
                       "--set", f"data.memory_budget={TINY_BUDGET}", "--out", out, "-q")
    assert code == 0, err
    metrics = json.loads((out / "eval.json").read_text())["metrics"]
    assert metrics["reconstruction_psnr"] > 0 and "probe_unavailable" in metrics  # a folder has no labels


def test_streamed_batches_follow_the_in_memory_order_across_epochs_and_a_resume(photos):
    in_memory, streamed = both(photos, workers=2)
    assert torch.equal(torch.cat(list(streamed.images.split(7))), in_memory.images)  # as the memorisation check reads
    expected = ImageBatches(in_memory, 8, seed=3, device=CPU)
    stream = streamed.batches(8, seed=3, device=CPU)
    for _ in range(4):  # 3 batches an epoch: crosses into the second epoch
        assert torch.equal(stream.next().x, expected.next().x)
    state = stream.state_dict()
    assert state.keys() == expected.state_dict().keys()
    resumed = streamed.batches(8, seed=99, device=CPU)
    resumed.load_state_dict(state)
    for _ in range(4):
        batch = expected.next().x
        assert torch.equal(resumed.next().x, batch) and torch.equal(stream.next().x, batch)


def test_each_process_decodes_only_its_share(photos):
    _, streamed = both(photos)
    whole = streamed.batches(8, seed=0, device=CPU)
    shares = [streamed.batches(8, seed=0, device=CPU) for _ in range(2)]
    for rank, share in enumerate(shares):
        share.keep_share(rank, 2)
    for _ in range(2):
        parts = [share.next().x for share in shares]
        assert [len(part) for part in parts] == [4, 4]
        assert torch.equal(torch.cat(parts), whole.next().x)


def test_a_file_that_stops_decoding_is_one_sentence_naming_it(tmp_path):
    folder = tmp_path / "photos"
    write_folder(folder, 20)
    streamed = load_dataset(f"folder:{folder}", image_size=12, memory_budget=TINY_BUDGET, workers=1)
    broken = folder / streamed.files[0]
    broken.write_bytes(broken.read_bytes()[:120])  # the header still reads; the pixels do not
    for read in (lambda: streamed.images[:], lambda: streamed.batches(20, seed=0, device=CPU).next()):
        with pytest.raises(GankitError, match=f"{broken} could not be decoded .*; remove or repair it") as error:
            read()  # in this process, then in a DataLoader worker
        assert "\n" not in str(error.value)


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["model"]


def test_a_streamed_run_trains_as_an_in_memory_one_evaluates_and_resumes(capsys, photos, tmp_path):
    streamed, in_memory = tmp_path / "streamed", tmp_path / "in_memory"
    code, _, err = run(capsys, *train_args(photos, streamed, "--set", f"data.memory_budget={TINY_BUDGET}",
                                           "--set", "data.workers=1"))
    assert code == 0, err
    assert "stream from disk through 1 DataLoader worker process(es)" in err
    metrics = json.loads((streamed / "eval.json").read_text())["metrics"]
    assert metrics["real_images"] == 3 and 0 <= metrics["memorisation_share"] <= 1  # against the 27 streamed
    code, _, err = run(capsys, *train_args(photos, in_memory))
    assert code == 0 and "stream" not in err, err
    for name, value in weights(in_memory).items():  # same batches, same noise: the same weights
        assert torch.equal(weights(streamed)[name], value), name
    for run_dir in (streamed, in_memory):
        code, _, err = run(capsys, "train", "--resume", run_dir, "--steps", 4)
        assert code == 0, err
    for name, value in weights(in_memory).items():
        assert torch.equal(weights(streamed)[name], value), name


@pytest.mark.parametrize("setting, message", [
    ("data.memory_budget=0", "data.memory_budget must be a positive number of GiB, not 0"),
    ("data.workers=-1", "data.workers must be 0 (decode in the training process) or more, not -1"),
])
def test_bad_streaming_settings_are_one_sentence(capsys, photos, tmp_path, setting, message):
    code, _, err = run(capsys, *train_args(photos, tmp_path / "run", "--set", setting))
    assert_one_sentence_error(code, err, message)
    assert not (tmp_path / "run").exists()
