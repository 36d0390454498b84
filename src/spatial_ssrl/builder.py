"""A small, deterministic dataset build: sources x tasks -> parquet + stats + preview.

Every sample is a pure function of (seed, source id, task, attempt index), so the output does not
depend on the order in which sources are processed. A source that cannot be read is recorded in
the stats and skipped; it never stops the run.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image
from tqdm import tqdm

from spatial_ssrl import __version__
from spatial_ssrl.registry import get_task, list_tasks, run_task
from spatial_ssrl.sample import Rejection, Sample, Source, SourceError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")

SourceLoader = Callable[[], Source]


@dataclass
class BuildConfig:
    out_dir: Path
    seed: int = 0
    samples_per_task: int = 2  # accepted samples wanted per (source, task)
    tasks: list[str] = field(default_factory=list_tasks)
    max_attempts: int = 6  # attempts per wanted sample before giving up on a (source, task)
    image_format: str = "jpeg"  # "jpeg" (quality 95, no chroma subsampling) or "png" (lossless)
    jpeg_quality: int = 95
    # task -> {variant: weight}; a task not listed uses its registered default (the paper's mix)
    variant_weights: dict[str, dict[str, float]] = field(default_factory=dict)


def bundled_photo_paths() -> list[Path]:
    folder = resources.files("spatial_ssrl") / "assets" / "photos"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".jpg"))


def bundled_photo_sources() -> list[tuple[str, SourceLoader]]:
    """The photos shipped with the package (RGB only; licences in assets/photos/LICENSE.md)."""
    from spatial_ssrl.io import load_source

    return [(f"photo/{p.name}", lambda p=p: load_source(p, source_id=f"photo/{p.name}")) for p in bundled_photo_paths()]


def synthetic_sources(n: int, size: tuple[int, int] = (640, 480)) -> list[tuple[str, SourceLoader]]:
    """`n` procedural RGB-D scenes with exact depth (scene i is drawn from seed i)."""
    from spatial_ssrl.synthetic import make_scene

    w, h = size
    return [
        (f"synthetic/scene-{i:05d}", lambda i=i: make_scene(i, w, h).to_source(f"synthetic/scene-{i:05d}"))
        for i in range(n)
    ]


def folder_sources(paths: Iterable[Path]) -> list[tuple[str, SourceLoader]]:
    """RGB photos from files or folders (searched recursively), sorted for a stable order."""
    from spatial_ssrl.io import load_source

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"input {p} does not exist")
    files = sorted(set(files))
    return [(str(f), lambda f=f: load_source(f, source_id=str(f))) for f in files]


def samples_for_source(source: Source, config: BuildConfig, rejections: Counter) -> Iterator[Sample]:
    for task in config.tasks:
        spec = get_task(task)
        if spec.needs_depth and not source.has_depth:
            continue
        accepted, attempt = 0, 0
        while accepted < config.samples_per_task and attempt < config.samples_per_task * config.max_attempts:
            try:
                result = run_task(
                    task, source, seed=config.seed, index=attempt, variant_weights=config.variant_weights.get(task)
                )
            except Exception as err:  # a task bug on one odd source must not end the whole run
                result = Rejection(task, f"error.{type(err).__name__}", f"{source.id}: {err}")
            attempt += 1
            if isinstance(result, Rejection):
                rejections[result.reason] += 1
                continue
            accepted += 1
            yield result


def encode_image(image: np.ndarray, image_format: str = "jpeg", quality: int = 95) -> bytes:
    buf = io.BytesIO()
    pil = Image.fromarray(image)
    if image_format == "jpeg":
        pil.save(buf, format="JPEG", quality=quality, subsampling=0)
    elif image_format == "png":
        pil.save(buf, format="PNG", compress_level=1)
    else:
        raise ValueError(f"image_format must be 'jpeg' or 'png', got {image_format!r}")
    return buf.getvalue()


# Hugging Face `datasets` reads this schema metadata and decodes `images` as a list of images.
HF_FEATURES = {
    "id": {"dtype": "string", "_type": "Value"},
    "task": {"dtype": "string", "_type": "Value"},
    "variant": {"dtype": "string", "_type": "Value"},
    "source_id": {"dtype": "string", "_type": "Value"},
    "images": {"feature": {"_type": "Image"}, "_type": "List"},
    "problem": {"dtype": "string", "_type": "Value"},
    "answer": {"dtype": "string", "_type": "Value"},
    "answer_type": {"dtype": "string", "_type": "Value"},
    "options": {"dtype": "string", "_type": "Value"},
    "meta": {"dtype": "string", "_type": "Value"},
}
IMAGE_STRUCT = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("task", pa.string()),
        ("variant", pa.string()),
        ("source_id", pa.string()),
        ("images", pa.list_(IMAGE_STRUCT)),
        ("problem", pa.string()),
        ("answer", pa.string()),
        ("answer_type", pa.string()),
        ("options", pa.string()),
        ("meta", pa.string()),
    ],
    metadata={"huggingface": json.dumps({"info": {"features": HF_FEATURES}})},
)


def sample_id(sample: Sample) -> str:
    return f"{sample.source_id}:{sample.task}:{sample.index}"


def sample_to_row(sample: Sample, image_format: str = "jpeg", quality: int = 95) -> dict:
    ext = "jpg" if image_format == "jpeg" else "png"
    sid = sample_id(sample)
    return {
        "id": sid,
        "task": sample.task,
        "variant": sample.variant,
        "source_id": sample.source_id,
        "images": [
            {"bytes": encode_image(im, image_format, quality), "path": f"{sid.replace('/', '_')}_{k}.{ext}"}
            for k, im in enumerate(sample.images)
        ],
        "problem": sample.question,
        "answer": sample.answer,
        "answer_type": sample.answer_type,
        "options": json.dumps(sample.options) if sample.options else "",
        "meta": json.dumps(sample.meta, sort_keys=True),
    }


def build(config: BuildConfig, sources: list[tuple[str, SourceLoader]]) -> dict:
    """Generate samples from every source and write `data/train.parquet`, `stats.json`, `preview.html`."""
    out = Path(config.out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    for task in config.tasks:
        get_task(task)  # fail fast on a typo
    rows: list[dict] = []
    rejections: Counter = Counter()
    source_errors: dict[str, str] = {}
    start = time.perf_counter()
    bar = tqdm(sources, desc="generate", unit="source", dynamic_ncols=True)
    for sid, load in bar:
        try:
            source = load()
        except SourceError as err:
            source_errors[sid] = str(err)
            rejections["source.unreadable"] += 1
            continue
        for sample in samples_for_source(source, config, rejections):
            rows.append(sample_to_row(sample, config.image_format, config.jpeg_quality))
        bar.set_postfix(samples=len(rows), rejected=sum(rejections.values()))
    rows.sort(key=lambda r: r["id"])  # a stable order, whatever the order of work
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    tmp = out / "data" / "train.parquet.tmp"
    pq.write_table(table, tmp)
    tmp.replace(out / "data" / "train.parquet")
    stats = {
        "tool_version": __version__,
        "seed": config.seed,
        "samples": len(rows),
        "per_task": dict(sorted(Counter(r["task"] for r in rows).items())),
        "per_variant": dict(sorted(Counter(f"{r['task']}/{r['variant']}" for r in rows).items())),
        "answers": {
            t: dict(sorted(Counter(r["answer"] for r in rows if r["task"] == t).items())) for t in config.tasks
        },
        "rejections": dict(sorted(rejections.items())),
        "source_errors": source_errors,
        "sources": len(sources),
        "seconds": round(time.perf_counter() - start, 2),
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    from spatial_ssrl.preview import write_preview

    write_preview(out / "data" / "train.parquet", out / "preview.html")
    return stats
