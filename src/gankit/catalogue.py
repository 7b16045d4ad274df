"""What ``gankit list`` prints, known without importing torch.

Importing the models imports torch, which takes seconds; listing them should not.
The dataset names live here as plain text, and each registered model's name,
family, summary and paper are read from the source of ``gankit/models`` as the
string literals its class (or a base class) assigns. A test checks that this
reading agrees with the imported registry.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

DATASETS = {
    "ring8": "8 Gaussians on the unit circle (2-D mode-collapse benchmark)",
    "grid25": "25 Gaussians on a 5x5 grid (2-D mode-collapse benchmark)",
    "digits": "scikit-learn's 1,797 8x8 handwritten digits (embedded, offline)",
    "mnist": "MNIST 28x28 (torchvision layout under --data-root; downloads when online)",
    "fashion-mnist": "Fashion-MNIST 28x28 (as mnist)",
    "mnist-edges": "MNIST's digits as outline drawings (same labels; derived from mnist)",
    "mnist-m": "MNIST digits blended onto colour photo crops (MNIST-M recipe; derived from mnist, cached)",
    "mnist-colour": "MNIST digits inked in 5 colours on black or white (attributes colour, background; from mnist)",
    "mnist-negative": "MNIST's digits as negatives, 255 - x (same labels and order; derived from mnist)",
    "folder:PATH": "every image under PATH, centre-cropped and resized (data.image_size, default 64); "
                   "a seeded share (data.holdout, default 0.1) is kept out of training for evaluation",
    "pairs:A>B": "translation pairs, the same digit in A and B (A, B: mnist, mnist-edges, mnist-m, mnist-colour, "
                 "mnist-negative)",
    "unpaired:A>B": "unpaired translation: A from the even-indexed digits, B from the odd ones",
    "pairs:folder:PATH": "pix2pix layout: side-by-side A|B images in PATH/train/ and PATH/test/ (or val/)",
    "unpaired:folder:PATH": "CycleGAN layout: PATH/trainA/, trainB/, testA/, testB/",
    "photos": "super-resolution: random crops (data.image_size, default 96) of 4 colour photos shipped with "
              "scikit-image; 3 other photos (scikit-image, scikit-learn) held out whole for testing",
    "photos:folder:PATH": "super-resolution: random crops of every image under PATH at full resolution; "
                          "a seeded share of whole images (data.holdout) is kept out of training",
}

MODELS_DIR = Path(__file__).parent / "models"
LISTED = ("name", "family", "summary", "paper")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    family: str
    summary: str
    paper: str


@dataclass(frozen=True)
class _ClassSource:
    bases: tuple[str, ...]
    strings: dict[str, str]  # class attribute -> the string literal assigned to it


def _assignments(statement: ast.stmt) -> list[tuple[ast.expr, ast.expr]]:
    """(target, value) pairs a class-body statement assigns: ``a = x``, ``a: str = x``, ``a, b = x, y``."""
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        return [(statement.target, statement.value)]
    if not isinstance(statement, ast.Assign):
        return []
    pairs = []
    for target in statement.targets:
        if isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple):
            pairs += zip(target.elts, statement.value.elts)
        else:
            pairs.append((target, statement.value))
    return pairs


def _read_classes(path: Path) -> tuple[dict[str, _ClassSource], list[str]]:
    """(every top-level class of ``path`` by name, the names of those decorated with @register)."""
    classes, registered = {}, []
    for node in ast.parse(path.read_text(), str(path)).body:
        if not isinstance(node, ast.ClassDef):
            continue
        strings = {}
        for statement in node.body:
            for target, value in _assignments(statement):
                if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    strings[target.id] = value.value
        bases = tuple(base.id for base in node.bases if isinstance(base, ast.Name))
        classes[node.name] = _ClassSource(bases, strings)
        if any(isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list):
            registered.append(node.name)
    return classes, registered


def model_entries() -> dict[str, ModelEntry]:
    """Every registered model's listing, by model name (sorted), read from the source files."""
    classes, registered = {}, []
    for path in sorted(MODELS_DIR.rglob("*.py")):
        found, marked = _read_classes(path)
        classes.update(found)
        registered += marked

    def attribute(class_name: str, key: str):
        source = classes.get(class_name)
        if source is None:
            return None
        if key in source.strings:
            return source.strings[key]
        # base classes in declaration order: Python's lookup order for the single inheritance used here
        return next((value for base in source.bases if (value := attribute(base, key)) is not None), None)

    entries = {}
    for class_name in registered:
        values = {key: attribute(class_name, key) for key in LISTED}
        missing = [key for key, value in values.items() if value is None]
        if missing:
            raise RuntimeError(f"gankit list reads model classes' string literals, and {class_name} "
                               f"(under {MODELS_DIR}) assigns no literal {missing[0]}")
        entries[values["name"]] = ModelEntry(**values)
    return dict(sorted(entries.items()))
