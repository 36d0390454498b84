"""A static, self-contained HTML gallery of a generated dataset (thumbnails embedded as data URIs).

The page is templates/preview.html.j2; each sample is the `card` macro of templates/sample_card.html.j2, which
the demo report reuses for its gallery.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from markupsafe import Markup
from PIL import Image

from spatial_ssrl.dataset.schema import shard_paths
from spatial_ssrl.dataset.templating import macro, render


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


def sample_view(row: dict, max_side: int = 384) -> dict[str, Any]:
    """What a card shows of a dataset row: id, variant, figures (caption and thumbnail data URI; the first image
    fits `max_side`, candidates half of it), problem, answer (with the option's text unless it only names a
    candidate image) and the margins as JSON. Values are raw text: the HTML template escapes them."""
    meta = json.loads(row["meta"])
    options = json.loads(row["options"]) if row["options"] else {}
    captions = [f"image {k + 1}" for k in range(len(row["images"]))]
    if len(options) == len(row["images"]) - 1:  # candidate images: caption them by letter
        captions[1:] = [f"option {letter}" for letter in options]
    figures = [
        {"caption": cap, "src": thumbnail_uri(im["bytes"], max_side if k == 0 else max_side // 2)}
        for k, (im, cap) in enumerate(zip(row["images"], captions))
    ]
    answer = row["answer"]
    if answer in options and not options[answer].startswith("candidate"):
        answer = f"{answer} ({options[answer]})"
    return {
        "id": row["id"],
        "variant": row["variant"],
        "figures": figures,
        "problem": row["problem"],
        "answer": answer,
        "margins": json.dumps(meta.get("margins", {})),
    }


def sample_card(row: dict, max_side: int = 384, extra_html: str = "") -> str:
    """One sample as an HTML card: its images (candidates captioned by letter), question, answer and margins.
    `extra_html` is trusted markup placed under the answer; everything taken from the row is escaped."""
    return str(macro("sample_card.html.j2", "card")(sample_view(row, max_side), Markup(extra_html)))


def write_preview(
    dataset: Path, out_path: Path, per_task: int = 4, max_side: int = 384, tasks: list[str] | None = None
) -> Path:
    """Write an HTML page showing up to `per_task` samples of each task of a dataset folder (or of
    one parquet file)."""
    dataset = Path(dataset)
    by_task = collect_samples(dataset, per_task, tasks)
    page = render(
        "preview.html.j2",
        per_task=per_task,
        dataset_name=dataset.name,
        tasks={task: [sample_view(row, max_side) for row in by_task[task]] for task in sorted(by_task)},
    )
    out_path.write_text(page, encoding="utf-8")
    return out_path
