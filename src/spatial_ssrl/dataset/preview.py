"""A static, self-contained HTML gallery of a generated dataset (thumbnails embedded as data URIs)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image

from spatial_ssrl.dataset.schema import shard_paths

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.card{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}
.imgs{display:flex;flex-wrap:wrap;gap:.5em;align-items:flex-start}
.imgs figure{margin:0}.imgs figcaption{font-size:.8em;color:#666;text-align:center}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em;border-radius:4px}
.answer{font-weight:bold;color:#0a6b2c}.meta{font-size:.8em;color:#555}
"""


def thumbnail_uri(data: bytes, max_side: int) -> str:
    """An encoded image scaled to fit `max_side`, as a JPEG data URI (pages stay self-contained)."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def collect_samples(
    dataset: Path, per_task: int, tasks: list[str] | None = None, split: str | None = None
) -> dict[str, list[dict]]:
    """Up to `per_task` rows of each task of a dataset folder (or of one parquet file), in file order. Shards are
    read one at a time and reading stops once every task in `tasks` has its rows, so a 100k-sample build costs
    the same as a 100-sample one."""
    dataset = Path(dataset)
    paths = [dataset] if dataset.is_file() else shard_paths(dataset, split)
    by_task: dict[str, list[dict]] = {}
    for path in paths:
        for row in pq.read_table(path).to_pylist():
            if len(by_task.setdefault(row["task"], [])) < per_task:
                by_task[row["task"]].append(row)
        if tasks and all(len(by_task.get(t, [])) >= per_task for t in tasks):
            break
    return by_task


def sample_card(row: dict, max_side: int = 384, extra_html: str = "") -> str:
    """One sample as an HTML card: its images (candidates captioned by letter), question, answer and margins."""
    meta = json.loads(row["meta"])
    options = json.loads(row["options"]) if row["options"] else {}
    captions = [f"image {k + 1}" for k in range(len(row["images"]))]
    if len(options) == len(row["images"]) - 1:  # candidate images: caption them by letter
        captions[1:] = [f"option {letter}" for letter in options]
    figures = "".join(
        f"<figure><img alt='{cap}' src='{thumbnail_uri(im['bytes'], max_side if k == 0 else max_side // 2)}'>"
        f"<figcaption>{cap}</figcaption></figure>"
        for k, (im, cap) in enumerate(zip(row["images"], captions))
    )
    answer = row["answer"]
    if answer in options and not options[answer].startswith("candidate"):
        answer = f"{answer} ({options[answer]})"
    return (
        "<div class='card'>"
        f"<div class='meta'>{html.escape(row['id'])} &middot; variant {html.escape(row['variant'])}</div>"
        f"<div class='imgs'>{figures}</div>"
        f"<pre>{html.escape(row['problem'])}</pre>"
        f"<div>Answer: <span class='answer'>{html.escape(answer)}</span></div>"
        f"{extra_html}"
        f"<div class='meta'>margins: {html.escape(json.dumps(meta.get('margins', {})))}</div>"
        "</div>"
    )


def write_preview(
    dataset: Path, out_path: Path, per_task: int = 4, max_side: int = 384, tasks: list[str] | None = None
) -> Path:
    """Write an HTML page showing up to `per_task` samples of each task of a dataset folder (or of
    one parquet file)."""
    dataset = Path(dataset)
    by_task = collect_samples(dataset, per_task, tasks)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>spatial-ssrl preview</title>"
        f"<style>{CSS}</style></head><body><h1>spatial-ssrl dataset preview</h1>"
        f"<p>Up to {per_task} samples per task from <code>{html.escape(dataset.name)}</code>.</p>"
    ]
    for task in sorted(by_task):
        parts.append(f"<h2 id='{html.escape(task)}'>{html.escape(task)}</h2>")
        parts += [sample_card(row, max_side) for row in by_task[task]]
    parts.append("</body></html>")
    out_path.write_text("\n".join(parts), encoding="utf-8")
    return out_path
