"""Results of a suite as results.json and a Markdown leaderboard (mean ± std over seeds)."""
from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

from gankit.machine import summary as summary_line


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(results: list[dict]) -> list[dict]:
    """One entry per (row, dataset): mean and sample std of every numeric metric over seeds."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for result in results:
        groups[(result["row"], result["dataset"])].append(result)
    summary = []
    for (row, dataset), runs in groups.items():
        metrics = {}
        for key, first in runs[0]["metrics"].items():
            if isinstance(first, (list, str)):
                continue  # per-class lists and notes stay in results.json's runs
            values = [r["metrics"][key] for r in runs if isinstance(r["metrics"].get(key), (int, float))]
            if len(values) == len(runs):
                metrics[key] = _mean_std([float(v) for v in values])
            else:
                metrics[key] = None  # undefined for at least one seed (e.g. reverse KL with no good sample)
        summary.append({"row": row, "model": runs[0]["model"], "dataset": dataset, "seeds": len(runs),
                        "steps": runs[0]["steps"], "metrics": metrics,
                        "train_seconds": _mean_std([r["train_seconds"] for r in runs])})
    return summary


def _cell(value) -> str:
    if value is None:
        return "n/a"
    mean, std = value
    digits = 1 if abs(mean) >= 10 else 2 if abs(mean) >= 1 else 3
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


HIDDEN = ("modes_total", "real_images", "labels", "images", "pairs", "scale")


def shown(key: str) -> bool:
    """Whether a leaderboard shows metric ``key``: constants of the protocol (and the translation scores'
    per-direction image counts) and the std companions stay in results.json only."""
    return key not in HIDDEN and not key.endswith(("_std", "_images"))


def tables(summary: list[dict], dataset: str) -> dict[tuple, list[dict]]:
    """The rows of ``dataset`` grouped by the metrics they report (shown ones, in order): one table each,
    so that rows of one family share a table and no table is mostly empty cells."""
    grouped: dict[tuple, list[dict]] = {}
    for s in summary:
        if s["dataset"] == dataset:
            grouped.setdefault(tuple(k for k in s["metrics"] if shown(k)), []).append(s)
    return grouped


def markdown(summary: list[dict]) -> str:
    """A section per dataset, with one table per set of metrics (``tables``)."""
    lines = []
    for dataset in dict.fromkeys(s["dataset"] for s in summary):
        lines += [f"### {dataset}", ""]
        for keys, rows in tables(summary, dataset).items():
            lines += ["| row | model | seeds | steps | " + " | ".join(keys) + " | train s |",
                      "|---" * (len(keys) + 5) + "|"]
            for s in rows:
                lines.append(f"| {s['row']} | {s['model']} | {s['seeds']} | {s['steps']} | "
                             + " | ".join(_cell(s["metrics"][k]) for k in keys) + f" | {s['train_seconds'][0]:.0f} |")
            lines.append("")
    return "\n".join(lines)


def machines(results: list[dict]) -> list[dict]:
    """The distinct machines the runs were made on, with how many runs each made (most first)."""
    counts: dict[str, list] = {}
    for result in results:
        line = summary_line(result.get("machine"))
        counts.setdefault(line, [0, result.get("machine")])[0] += 1
    return [{"machine": machine, "summary": line, "runs": n}
            for line, (n, machine) in sorted(counts.items(), key=lambda item: -item[1][0])]


def write_reports(suite: dict, results: list[dict], out: Path, wall_seconds: float, rescore: bool = False) -> None:
    """results.json and leaderboard.md. ``wall_seconds`` is the invocation's; a rescoring one is recorded as
    ``rescore_seconds_last_invocation``, keeping the wall time of the last invocation that trained."""
    summary, where = summarise(results), machines(results)
    previous = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    walls = {key: previous[key] for key in ("wall_seconds_last_invocation", "rescore_seconds_last_invocation")
             if key in previous}
    walls["rescore_seconds_last_invocation" if rescore else "wall_seconds_last_invocation"] = round(wall_seconds, 1)
    (out / "results.json").write_text(json.dumps(
        {"description": suite.get("description", ""), **walls,
         "machines": where, "summary": summary, "runs": results}, indent=2) + "\n")
    made_on = "; ".join(f"{m['summary']} ({m['runs']} runs)" if len(where) > 1 else m["summary"] for m in where)
    header = (f"{suite.get('description', '')}\n\nMean ± std over seeds. Measured on: {made_on}. Other CPUs "
              f"round differently, so expect the seed spread, not the last digit, to reproduce there.\n\n")
    (out / "leaderboard.md").write_text(header + markdown(summary))
