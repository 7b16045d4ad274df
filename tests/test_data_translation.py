"""Two-domain (image-to-image translation) data: MNIST-derived domains, pairs and unpaired sets,
pix2pix and CycleGAN folders, and how runs pin and relocate them."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from scipy import ndimage

from gankit.config import DataConfig
from gankit.data import load_dataset, resized
from gankit.data.base import float_to_uint8, uint8_to_float
from gankit.data.labels import batch_stream
from gankit.data.translation import INKS, MNIST_M_PHOTOS, MNIST_M_SEEDS, PAPERS, blend, colour_digits, edge_maps, load_photos
from gankit.errors import GankitError
from gankit.train.run import pin_data, relocate

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> Path:
    """Derived sets are cached under the test's own folder, never in the home cache."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "derived"


@pytest.fixture(scope="module")
def mnist_test(shared_data):
    return load_dataset("mnist", str(shared_data), "test", download=False)


# --- mnist-edges ----------------------------------------------------------------------------------


def test_edge_map_of_a_square_is_its_outline_one_pixel_either_side():
    image = torch.zeros(1, 1, 9, 9, dtype=torch.uint8)
    image[..., 2:7, 2:7] = 200  # a 5x5 square
    image[..., 0, 8] = 127  # below the threshold: background
    expected = torch.zeros(9, 9, dtype=torch.uint8)
    expected[1:8, 1:8] = 255  # the 7x7 dilation ...
    expected[3:6, 3:6] = 0  # ... minus the 3x3 erosion
    assert torch.equal(edge_maps(image)[0, 0], expected)


def test_mnist_edges_are_the_outlines_of_the_binarised_digits(shared_data, mnist_test):
    edges = load_dataset("mnist-edges", str(shared_data), "test", download=False)
    assert edges.spec.shape == (1, 28, 28) and edges.spec.num_classes == 10
    assert torch.equal(edges.labels, mnist_test.labels)
    assert set(edges.images.unique().tolist()) == {0, 255}
    binary = mnist_test.images[:200, 0].numpy() >= 128
    square = np.ones((3, 3), bool)
    for digit, edge in zip(binary, edges.images[:200, 0].numpy() == 255):
        interior = ndimage.binary_erosion(digit, square, border_value=1)
        assert not (edge & interior).any()
        assert np.array_equal(edge, ndimage.binary_dilation(digit, square) & ~interior)


# --- mnist-negative -------------------------------------------------------------------------------


def test_mnist_negative_is_255_minus_each_digit_with_its_label(shared_data, mnist_test):
    negative = load_dataset("mnist-negative", str(shared_data), "test", download=False)
    assert negative.spec.name == "mnist-negative" and negative.spec.shape == (1, 28, 28)
    assert negative.spec.num_classes == 10 and torch.equal(negative.labels, mnist_test.labels)
    assert negative.images.dtype == torch.uint8
    assert negative.images[0, 0, 0, 0] == 255 and mnist_test.images[0, 0, 0, 0] == 0  # a white background
    assert torch.equal(negative.images.int() + mnist_test.images.int(), torch.full((10_000, 1, 28, 28), 255))
    again = load_dataset("mnist-negative", str(shared_data), "test", download=False)
    assert torch.equal(again.images, negative.images)  # deterministic
    # on the [-1, 1] scale the negative is -x, and the views accept it as either domain
    pairs = load_dataset("pairs:mnist-negative>mnist", str(shared_data), "test", download=False)
    assert torch.allclose(uint8_to_float(pairs.a.images[:50]), -uint8_to_float(pairs.b.images[:50]), atol=1e-6)
    unpaired = load_dataset("unpaired:mnist>mnist-negative", str(shared_data), "test", download=False)
    assert torch.equal(unpaired.b.images, negative.images[1::2])


# --- mnist-m --------------------------------------------------------------------------------------


def test_mnist_m_train_and_test_photos_are_disjoint_and_load_offline():
    assert set(MNIST_M_PHOTOS["train"]).isdisjoint(MNIST_M_PHOTOS["test"])
    for names in MNIST_M_PHOTOS.values():
        for photo in load_photos(names, "the MNIST-M background photos"):
            assert photo.dtype == torch.uint8 and photo.dim() == 3 and photo.shape[-1] == 3


def test_mnist_m_is_each_digit_subtracted_from_a_recorded_photo_crop(shared_data, mnist_test):
    mnist_m = load_dataset("mnist-m", str(shared_data), "test", download=False)
    assert mnist_m.spec.shape == (3, 28, 28) and mnist_m.images.dtype == torch.uint8
    assert torch.equal(mnist_m.labels, mnist_test.labels)
    photos = load_photos(MNIST_M_PHOTOS["test"], "the MNIST-M background photos")
    images, placements = blend(mnist_test.images, photos, MNIST_M_SEEDS["test"])
    assert torch.equal(images, mnist_m.images)
    assert len(placements[:, 0].unique()) == len(photos)  # every photo is used
    for i in (0, 1, 4321, 9999):
        photo, top, left = placements[i].tolist()
        crop = photos[photo][top:top + 28, left:left + 28].permute(2, 0, 1).int()
        assert crop.shape == (3, 28, 28)
        assert torch.equal(images[i].int(), (crop - mnist_test.images[i].int()).abs())
    assert images.float().std(dim=(0, 2, 3)).min() > 20  # colourful, not a constant background


def test_mnist_m_is_deterministic_and_cached(shared_data, private_cache, monkeypatch):
    first = load_dataset("mnist-m", str(shared_data), "test", download=False)
    cache_file = private_cache / "mnist-m-test-v1.safetensors"
    assert torch.equal(load_file(cache_file)["images"], first.images)

    def no_building(*args):
        raise AssertionError("built again instead of read from the cache")

    with monkeypatch.context() as patch:
        patch.setattr("gankit.data.translation.blend", no_building)
        assert torch.equal(load_dataset("mnist-m", str(shared_data), "test", download=False).images, first.images)

    cache_file.write_bytes(b"not a safetensors file")
    with pytest.warns(UserWarning, match="rebuilding"):
        rebuilt = load_dataset("mnist-m", str(shared_data), "test", download=False)
    assert torch.equal(rebuilt.images, first.images)
    assert torch.equal(load_file(cache_file)["images"], first.images)  # overwritten with a good copy


def test_mnist_m_is_built_when_the_cache_cannot_be_written(shared_data, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GANKIT_CACHE", str(blocker))  # derived/ cannot be made inside a file
    assert len(load_dataset("mnist-m", str(shared_data), "test", download=False)) == 10_000


# --- pairs and unpaired sets from MNIST -----------------------------------------------------------


def test_pairs_align_each_edge_map_with_its_digit_and_resume(shared_data):
    pairs = load_dataset("pairs:mnist-edges>mnist", str(shared_data), "test", download=False)
    assert pairs.spec.paired and pairs.spec.is_two_domain
    assert pairs.spec.shape == (1, 28, 28) and pairs.spec.shape_b == (1, 28, 28) and len(pairs) == 10_000
    stream = pairs.batches(64, seed=5, device=CPU)
    for _ in range(2):
        batch = stream.next()
        assert torch.equal(batch.x, uint8_to_float(edge_maps(float_to_uint8(batch.x_b))))
        assert torch.equal(batch.y, batch.y_b)
    state = copy.deepcopy(stream.state_dict())
    following = [stream.next() for _ in range(3)]
    resumed = pairs.batches(64, seed=99, device=CPU)
    resumed.load_state_dict(state)
    for expected in following:
        batch = resumed.next()
        assert torch.equal(batch.x, expected.x) and torch.equal(batch.x_b, expected.x_b)


def test_batch_stream_gives_two_domain_batches_the_labels_the_model_uses(shared_data):
    pairs = load_dataset("pairs:mnist>mnist-edges", str(shared_data), "test", download=False)
    unlabelled = batch_stream(pairs, 8, 0, CPU, "none", None).next()
    assert unlabelled.y is None and unlabelled.y_b is None and unlabelled.x_b.shape == (8, 1, 28, 28)
    labelled = batch_stream(pairs, 8, 0, CPU, "all", None).next()
    assert labelled.y is not None and torch.equal(labelled.y, labelled.y_b)
    with pytest.raises(GankitError, match="one domain"):
        batch_stream(pairs, 8, 0, CPU, "some", None)


def test_a_stream_blind_to_pairs_draws_paired_domains_independently(shared_data):
    pairs = load_dataset("pairs:mnist>mnist-negative", str(shared_data), "test", download=False)
    aligned = batch_stream(pairs, 64, 0, CPU, "none", None).next()
    assert torch.allclose(aligned.x_b, -aligned.x, atol=1e-6)
    blind = batch_stream(pairs, 64, 0, CPU, "none", None, aligned=False).next()
    assert torch.equal(blind.x, aligned.x) and not torch.allclose(blind.x_b, -blind.x, atol=1e-6)
    matched = ((blind.x_b[:, None] + blind.x[None]).abs() < 1e-6).flatten(2).all(2)  # B image i is A image j's partner
    assert matched.sum() <= 2  # 64 of 10,000 digits each: a partner in the same batch is rare


def test_unpaired_domains_come_from_disjoint_halves_and_are_drawn_independently(shared_data, mnist_test):
    unpaired = load_dataset("unpaired:mnist>mnist-m", str(shared_data), "test", download=False)
    mnist_m = load_dataset("mnist-m", str(shared_data), "test", download=False)
    assert not unpaired.spec.paired and unpaired.spec.shape_b == (3, 28, 28)
    assert torch.equal(unpaired.a.images, mnist_test.images[0::2])
    assert torch.equal(unpaired.a.labels, mnist_test.labels[0::2])
    assert torch.equal(unpaired.b.images, mnist_m.images[1::2])
    assert torch.equal(unpaired.b.labels, mnist_test.labels[1::2])
    batch = unpaired.batches(256, seed=0, device=CPU).next()
    assert (batch.y != batch.y_b).float().mean() > 0.5  # aligned draws would agree everywhere


# --- mnist-colour ---------------------------------------------------------------------------------


def test_colour_digits_by_hand():
    digit = torch.tensor([0, 255, 51], dtype=torch.uint8).view(1, 1, 1, 3).expand(4, 1, 1, 3)
    images, attributes = colour_digits(digit, seed=0)
    assert images.shape == (4, 3, 1, 3) and attributes.shape == (4, 2)
    for image, (ink, paper) in zip(images, attributes.tolist()):
        ink_rgb, paper_rgb = list(INKS.values())[ink], list(PAPERS.values())[paper]
        assert image[:, 0, 0].tolist() == list(paper_rgb)  # grey 0: the paper
        assert image[:, 0, 1].tolist() == list(ink_rgb)  # grey 255: the ink
        # grey 51 = a fifth of the way from paper to ink, rounded
        assert image[:, 0, 2].tolist() == [round(p + (i - p) * 0.2) for i, p in zip(ink_rgb, paper_rgb)]


def test_mnist_colour_has_every_attribute_combination_and_survives_views(shared_data, mnist_test):
    colour = load_dataset("mnist-colour", str(shared_data), "test", download=False)
    assert colour.spec.attributes == (("colour", ("red", "green", "blue", "yellow", "magenta")),
                                      ("background", ("black", "white")))
    assert torch.equal(colour.labels, mnist_test.labels) and colour.images.shape == (10_000, 3, 28, 28)
    combinations = torch.bincount(colour.attributes[:, 0] * 2 + colour.attributes[:, 1], minlength=10)
    assert combinations.min() > 850  # about 1,000 each of the ten domains
    again = load_dataset("mnist-colour", str(shared_data), "test", download=False)
    train = load_dataset("mnist-colour", str(shared_data), "train", download=False)
    assert torch.equal(again.images, colour.images) and not torch.equal(train.attributes[:100], colour.attributes[:100])
    # background pixels are the paper's colour: white where the attribute says so
    corner = colour.images[:, :, 0, 0]
    assert torch.equal(corner.eq(255).all(1), colour.attributes[:, 1] == 1)
    small = resized(colour, 32)
    assert torch.equal(small.attributes, colour.attributes) and small.spec.attributes == colour.spec.attributes
    pairs = load_dataset("pairs:mnist-edges>mnist-colour", str(shared_data), "test", download=False)
    assert torch.equal(pairs.b.images, colour.images) and torch.equal(pairs.a.labels, pairs.b.labels)
    unpaired = load_dataset("unpaired:mnist>mnist-colour", str(shared_data), "test", download=False)
    assert torch.equal(unpaired.b.attributes, colour.attributes[1::2])


def test_two_domain_sets_resize_both_domains(shared_data):
    pairs = load_dataset("pairs:mnist-edges>mnist-m", str(shared_data), "test", image_size=32, download=False)
    assert pairs.spec.shape == (1, 32, 32) and pairs.spec.shape_b == (3, 32, 32)
    assert resized(pairs, 16).b.images.shape[1:] == (3, 16, 16)


@pytest.mark.parametrize("name, message", [
    ("pairs:mnist", "pairs:A>B"),
    ("unpaired:mnist>svhn", "mnist, mnist-edges, mnist-m, mnist-colour, mnist-negative"),
    ("pairs:mnist-m>mnist-m", "two different domains"),
])
def test_bad_translation_names_say_how_to_write_one(name, message):
    with pytest.raises(GankitError, match=message):
        load_dataset(name, "/nonexistent")


# --- folders --------------------------------------------------------------------------------------


def save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8)).save(path)


def side_by_side(i: int) -> np.ndarray:
    """An 8x16 RGB image: A (left) grey at 20 i, B (right) coloured (20 i, 0, 255 - 20 i)."""
    image = np.zeros((8, 16, 3), np.uint8)
    image[:, :8] = 20 * i
    image[:, 8:] = (20 * i, 0, 255 - 20 * i)
    return image


def test_pix2pix_folder_splits_each_image_into_an_aligned_pair(tmp_path):
    for i in range(5):
        save(tmp_path / "ab" / "train" / f"{i}.png", side_by_side(i))
    save(tmp_path / "ab" / "val" / "0.png", side_by_side(7))
    pairs = load_dataset(f"pairs:folder:{tmp_path / 'ab'}")
    assert pairs.spec.paired and len(pairs) == 5
    assert pairs.spec.shape == (1, 8, 8) and pairs.spec.shape_b == (3, 8, 8)  # grey A, colour B
    for i in range(5):
        assert (pairs.a.images[i] == 20 * i).all()
        assert pairs.b.images[i, :, 0, 0].tolist() == [20 * i, 0, 255 - 20 * i]
    batch = pairs.batches(4, seed=1, device=CPU).next()
    assert torch.equal(batch.x[:, 0], batch.x_b[:, 0])  # A's grey level is its partner's red
    test = load_dataset(f"pairs:folder:{tmp_path / 'ab'}", split="test", image_size=4, channels=3)
    assert len(test) == 1 and test.spec.shape == (3, 4, 4) and (test.a.images == 140).all()


def test_cyclegan_folder_crops_to_squares_and_decides_channels_per_domain(tmp_path):
    wide = np.full((8, 12), 50, np.uint8)
    wide[:, :2] = wide[:, -2:] = 255  # cropped away by the centre crop
    for i in range(3):
        save(tmp_path / "cg" / "trainA" / f"{i}.png", wide)
    for i in range(2):
        save(tmp_path / "cg" / "trainB" / f"{i}.png", np.full((16, 16, 3), (10, 200, 30)))
    unpaired = load_dataset(f"unpaired:folder:{tmp_path / 'cg'}")
    assert not unpaired.spec.paired and (len(unpaired.a), len(unpaired.b)) == (3, 2)
    assert unpaired.spec.shape == (1, 8, 8) and unpaired.spec.shape_b == (3, 8, 8)  # 8: within the smallest side
    assert (unpaired.a.images == 50).all()
    assert unpaired.b.images[:, :, 4, 4].tolist() == [[10, 200, 30]] * 2
    assert load_dataset(f"unpaired:folder:{tmp_path / 'cg'}", channels=3).spec.shape == (3, 8, 8)
    with pytest.raises(GankitError, match="testA"):
        load_dataset(f"unpaired:folder:{tmp_path / 'cg'}", split="test")


def test_folder_layout_errors_name_the_file_or_folder(tmp_path):
    save(tmp_path / "odd" / "train" / "bad.png", np.zeros((32, 65), np.uint8))
    with pytest.raises(GankitError, match=r"bad\.png has odd width 65"):
        load_dataset(f"pairs:folder:{tmp_path / 'odd'}")
    save(tmp_path / "mixed" / "train" / "a.png", np.zeros((8, 16), np.uint8))
    save(tmp_path / "mixed" / "train" / "b.png", np.zeros((10, 20), np.uint8))
    with pytest.raises(GankitError, match=r"b\.png is 20x10 but .*a\.png is 16x8"):
        load_dataset(f"pairs:folder:{tmp_path / 'mixed'}")
    (tmp_path / "flat").mkdir()
    with pytest.raises(GankitError, match="no train/ folder"):
        load_dataset(f"pairs:folder:{tmp_path / 'flat'}")
    save(tmp_path / "half" / "trainA" / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(GankitError, match="has trainA/ but no trainB/"):
        load_dataset(f"unpaired:folder:{tmp_path / 'half'}")


# --- runs -----------------------------------------------------------------------------------------


def test_runs_pin_and_relocate_two_domain_data(tmp_path, shared_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rooted = DataConfig(name="unpaired:mnist>mnist-edges", root=str(shared_data))
    pin_data(rooted)
    assert rooted.root == str(shared_data.resolve())
    (tmp_path / "ab").mkdir()
    folder = DataConfig(name="pairs:folder:ab")
    pin_data(folder)
    assert folder.name == f"pairs:folder:{(tmp_path / 'ab').resolve()}" and folder.root is None
    assert relocate(folder, str(tmp_path)).name == f"pairs:folder:{tmp_path.resolve()}"
    moved = relocate(DataConfig(name="unpaired:folder:/gone"), str(tmp_path))
    assert moved.name == f"unpaired:folder:{tmp_path.resolve()}"


def test_photos_that_cannot_be_loaded_are_one_clear_error(monkeypatch):
    import skimage.data

    from gankit.data.translation import load_photos
    from gankit.errors import DataNotFound

    def offline():
        raise ConnectionError("no network")

    monkeypatch.setattr(skimage.data, "astronaut", offline)
    with pytest.raises(DataNotFound, match="MNIST-M background photos could not be loaded"):
        load_photos(("astronaut",), "the MNIST-M background photos")


def test_a_run_on_mnist_colour_records_its_attributes(shared_data, tmp_path):
    from gankit.cli import main
    from gankit.train.run import load_model

    run_dir = tmp_path / "run"
    assert main(["train", "dcgan", "--data", "mnist-colour", "--data-root", str(shared_data), "--steps", "1",
                 "--batch-size", "8", "--set", "options.width=4", "--set", "train.eval_samples=0",
                 "--out", str(run_dir), "-q"]) == 0
    _, model, _ = load_model(run_dir, "cpu")
    assert model.data.attributes == load_dataset("mnist-colour", str(shared_data), "test",
                                                 download=False).spec.attributes
