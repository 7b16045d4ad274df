"""Training logs: one JSON object per logged step in metrics.jsonl, plus TensorBoard events."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor

from gankit.train.distributed import ONE_PROCESS, Ranks


class MetricsLogger:
    """Averages each named value over a logging interval and writes it out.

    Under torchrun every process keeps a logger and takes part in ``flush``, which
    averages the values over the processes; rank 0 alone writes them.
    """

    def __init__(self, run_dir: Path, resume_step: int = 0, ranks: Ranks = ONE_PROCESS):
        from torch.utils.tensorboard import SummaryWriter

        self.path = run_dir / "metrics.jsonl"
        self.ranks = ranks
        self.writer = None
        if ranks.is_main:
            if resume_step:
                self._drop_lines_after(resume_step)
            self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=resume_step or None)
        self.sums: dict[str, Tensor] = {}
        self.counts: dict[str, int] = {}

    def _drop_lines_after(self, step: int) -> None:
        """Forget lines logged after the checkpoint a resumed run restarts from."""
        if not self.path.exists():
            return
        kept = [line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line)["step"] <= step]
        self.path.write_text("".join(line + "\n" for line in kept))

    def accumulate(self, prefix: str, values: dict[str, Tensor]) -> None:
        for key, value in values.items():
            name = f"{prefix}/{key}"
            value = value.detach().float() if isinstance(value, Tensor) else torch.tensor(float(value))
            self.sums[name] = self.sums[name] + value if name in self.sums else value
            self.counts[name] = self.counts.get(name, 0) + 1

    def flush(self, step: int, extra: dict[str, float] | None = None) -> dict[str, float]:
        """Write the interval's means (and ``extra``) for ``step``; returns what it wrote."""
        names = list(self.sums)  # the same names in the same order in every process
        means = [(self.sums[name] / self.counts[name]).cpu() for name in names]
        values = self.ranks.mean(torch.stack(means)).tolist() if means else []
        record = dict(zip(names, values))
        record.update(extra or {})
        if self.writer is not None:
            for name, value in record.items():
                self.writer.add_scalar(name, value, step)
            with self.path.open("a") as handle:
                handle.write(json.dumps({"step": step, **record}) + "\n")
        self.sums.clear()
        self.counts.clear()
        return record

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
