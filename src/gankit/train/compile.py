"""``train.compile``: the players' losses under torch.compile, with a fallback to eager execution.

A player's loss (its forward passes and objective, ``Player.loss``) is what gets compiled; the
backward pass follows through the compiled graph (AOT autograd), and the optimizer step stays as it
is (fused Adam is one kernel already). On CUDA the mode is ``reduce-overhead``, which replays the
compiled graphs as CUDA graphs: a small GAN's step is otherwise bound by kernel launches, not
arithmetic. Shapes are static (``dynamic=False``): a different batch shape compiles once more.

A loss that cannot be compiled (an operation the compiler does not support, no C++ compiler for
inductor on a CPU machine, ...) is run uncompiled from then on, after one warning line: compiling is
a speed option and never stops a run.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from gankit.errors import GankitError


def compile_backends() -> list[str]:
    import torch._dynamo

    return torch._dynamo.list_backends(exclude_tags=())


def check_backend(backend: str) -> None:
    if backend not in compile_backends():
        raise GankitError(f"train.compile_backend '{backend}' is not a torch.compile backend; known: "
                          f"{', '.join(b for b in compile_backends() if 'TESTING' not in b)}.")


def root_cause(error: BaseException) -> str:
    """The first line of the innermost exception (torch wraps the backend's own error in its own)."""
    while (inner := getattr(error, "inner_exception", None) or error.__cause__) is not None:
        error = inner
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__


class CompiledLoss:
    """``loss`` compiled on first use; if compiling or running the compiled code fails, ``loss`` itself,
    after one ``notify`` line that names ``what`` and the reason."""

    def __init__(self, loss: Callable, what: str, backend: str, device: torch.device, notify: Callable[[str], None]):
        self.eager, self.what, self.notify = loss, what, notify
        self.graphs = device.type == "cuda" and backend == "inductor"
        self.compiled = torch.compile(loss, backend=backend, mode="reduce-overhead" if self.graphs else None,
                                      dynamic=False)

    def __call__(self, batch):
        if self.compiled is not None:
            try:
                if not self.graphs:
                    return self.compiled(batch)
                # A CUDA graph's outputs are overwritten by its next replay: the logged values are
                # copied out, and each call starts a new step of the graph trees.
                torch.compiler.cudagraph_mark_step_begin()
                loss, logs = self.compiled(batch)
                return loss, {key: value.clone() for key, value in logs.items()}
            except GankitError:  # the model refusing its input: the same refusal uncompiled
                raise
            except Exception as error:  # noqa: BLE001 - any compiler failure falls back to eager
                self.notify(f"train.compile: {self.what} could not be compiled ({root_cause(error)}); it runs "
                            f"uncompiled.")
                self.compiled = None
        return self.eager(batch)

    @property
    def is_compiled(self) -> bool:
        return self.compiled is not None
