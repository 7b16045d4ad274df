"""``gankit report PATH``: one self-contained HTML page for a run directory or a bench folder.

Everything the page shows is inside the file (pictures as data: URIs, styles
inline, no scripts), so it opens offline and can be mailed or archived alone.

A run page: its settings (config.yaml), the machine it trained on, loss and
logged values over steps (from metrics.jsonl), the sample grids over time and
the latest evaluation (eval.json). A bench page: the leaderboard of every
dataset with a sample thumbnail per row and links to each row's runs.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Optional

from gankit.errors import GankitError

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: middle; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
pre { background: #f8f8f8; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { display: inline-block; margin: 0.5em; text-align: center; font-size: 0.8em; }
img.thumb { width: 96px; image-rendering: pixelated; }
img.grid { width: 260px; image-rendering: pixelated; }
"""


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n" + "\n".join(body)
            + "\n</body></html>\n")


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " ".join(_number(v) for v in value)
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    def cell(tag, i, content):
        kind = ' class="text"' if i < text_columns else ""
        return f"<{tag}{kind}>{content}</{tag}>"
    head = "".join(cell("th", i, html.escape(h)) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _curves(records: list[dict]) -> Optional[bytes]:
    """A PNG of every logged value over steps, one panel per player (losses) plus the rest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in dict.fromkeys(k for r in records for k in r) if k != "step"]
    if not keys:
        return None
    players = sorted({k.split("/")[0] for k in keys if "/" in k})
    panels = [[k for k in keys if k.startswith(f"{p}/")] for p in players] + [[k for k in keys if "/" not in k]]
    panels = [p for p in panels if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), dpi=90, squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for key in panel:
            points = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
            if points:
                ax.plot(*zip(*points), label=key, linewidth=1)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise GankitError(f"{path} could not be read ({error}).") from None


def run_page(run_dir: Path) -> str:
    from gankit.machine import summary
    from gankit.train.run import CONFIG_FILE, MACHINE_FILE

    config = (run_dir / CONFIG_FILE).read_text()
    body = ["<h2>Settings</h2>", f"<pre>{html.escape(config)}</pre>"]
    machine_file = run_dir / MACHINE_FILE
    if machine_file.is_file():
        sessions = _read_json(machine_file).get("sessions", [])
        body += ["<h2>Machine</h2>", _table(["from step", "machine"], [
            [str(s.get("from_step")), html.escape(summary(s))] for s in sessions], text_columns=2)]
    metrics_file = run_dir / "metrics.jsonl"
    if metrics_file.is_file():
        try:
            records = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
        except ValueError as error:
            raise GankitError(f"{metrics_file} could not be read ({error}).") from None
        picture = _curves(records)
        if picture:
            body += ["<h2>Training curves</h2>", f"<img alt=\"logged values over steps\" src=\"{_png_uri(picture)}\">"]
    grids = sorted((run_dir / "samples").glob("step_*.png"))
    if grids:
        figures = [f"<figure><img class=\"grid\" alt=\"{p.stem}\" src=\"{_png_uri(p.read_bytes())}\">"
                   f"<figcaption>{html.escape(p.stem.replace('_', ' '))}</figcaption></figure>" for p in grids]
        body += ["<h2>Samples over training</h2>", "".join(figures)]
    eval_file = run_dir / "eval.json"
    if eval_file.is_file():
        result = _read_json(eval_file)
        rows = [[html.escape(k), _number(v)] for k, v in result.get("metrics", {}).items()]
        body += [f"<h2>Evaluation (step {result.get('step')}, {result.get('samples')} samples)</h2>",
                 _table(["metric", "value"], rows)]
    return _page(f"gankit run {run_dir.name}", body)


def _cell(value) -> str:
    if value is None:
        return "n/a"
    mean, std = value
    return f"{mean:.4g} ± {std:.2g}"


def bench_page(folder: Path) -> str:
    from gankit.bench.report import tables
    from gankit.train.run import dataset_slug

    results = _read_json(folder / "results.json")
    summary, runs = results.get("summary", []), results.get("runs", [])
    body = [f"<p>{html.escape(results.get('description', ''))}</p>"]
    machines = results.get("machines")
    if machines:
        body.append("<p>Measured on: " + "; ".join(html.escape(m["summary"]) for m in machines) + "</p>")
    for dataset in dict.fromkeys(s["dataset"] for s in summary):
        body.append(f"<h2>{html.escape(dataset)}</h2>")
        for keys, rows in tables(summary, dataset).items():  # one table per set of metrics, as leaderboard.md
            table = []
            for s in rows:
                seeds = sorted(r["seed"] for r in runs if r["row"] == s["row"] and r["dataset"] == dataset)
                run_dirs = [folder / "runs" / s["row"] / dataset_slug(dataset) / f"seed{seed}" for seed in seeds]
                thumb = next((d / "samples" / "latest.png" for d in run_dirs
                              if (d / "samples" / "latest.png").is_file()), None)
                picture = (f"<img class=\"thumb\" alt=\"samples\" src=\"{_png_uri(thumb.read_bytes())}\">"
                           if thumb else "")
                links = " ".join(f"<a href=\"{html.escape(d.relative_to(folder).as_posix())}/\">{d.name}</a>"
                                 for d in run_dirs if d.is_dir())
                table.append([html.escape(s["row"]), html.escape(s["model"]), picture, links, str(s["steps"])]
                             + [_cell(s["metrics"][k]) for k in keys])
            body.append(_table(["row", "model", "samples", "runs", "steps", *keys], table, text_columns=4))
    return _page(f"gankit bench {folder.name}", body)


def write_report(path: Path, out: Optional[Path] = None) -> Path:
    """Write the page for ``path`` (a run or a bench folder) to ``out`` (default PATH/report.html)."""
    from gankit.train.run import CONFIG_FILE

    if (path / "results.json").is_file():
        page = bench_page(path)
    elif (path / CONFIG_FILE).is_file() and (path / "metrics.jsonl").is_file():
        page = run_page(path)
    else:
        raise GankitError(f"{path} is neither a gankit run directory (config.yaml and metrics.jsonl) nor a bench "
                          f"folder (results.json); give one of those.")
    out = out or path / "report.html"
    if out.is_dir():
        raise GankitError(f"--out {out} is a folder; give a file name such as report.html.")
    out.write_text(page)
    return out
