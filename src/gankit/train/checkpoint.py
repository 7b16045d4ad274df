"""Checkpoints: written atomically, read without unpickling arbitrary code."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from gankit.errors import GankitError

FORMAT = "gankit-checkpoint-1"


def save_checkpoint(state: dict, path: Path) -> None:
    """Write ``state`` to ``path`` via a temporary file and a rename.

    A crash mid-save leaves the previous file intact: the rename is atomic and
    happens only after the new bytes are flushed to disk.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, model_name: str | None = None) -> dict:
    """Load a checkpoint with ``weights_only=True``; any damage becomes a GankitError."""
    if not path.is_file():
        raise GankitError(f"checkpoint {path} does not exist.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, foreign pickle, unsafe globals ...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GankitError(f"checkpoint {path} is damaged or not a gankit checkpoint ({reason[:120]}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise GankitError(f"{path} is not a gankit checkpoint.")
    if model_name is not None and state.get("model_name") != model_name:
        raise GankitError(f"checkpoint {path} belongs to model '{state.get('model_name')}', "
                          f"not '{model_name}'.")
    return state
