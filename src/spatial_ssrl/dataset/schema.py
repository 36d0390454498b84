"""The dataset's row schema: plain columns, images stored as encoded bytes in the Hugging Face
`Image` layout so `datasets.load_dataset("parquet", ...)` decodes them as images.

| column | type | meaning |
|---|---|---|
| id | string | `source_id:task:index`, unique |
| split | string | train / validation / test, by source (no source in two splits) |
| task, variant | string | the pretext task and its variant |
| source_id | string | the source the sample was made from |
| images | list<struct<bytes, path>> | encoded images, in `<image>` placeholder order |
| problem | string | the question, one `<image>` placeholder per image |
| answer | string | canonical answer (formats in docs/tasks.md) |
| answer_type | string | permutation / label_direction / choice (how rewards normalise answers) |
| options | string | JSON object letter -> option text, or "" |
| meta | string | JSON: markers, margins and construction facts that prove the answer |
"""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
from PIL import Image

from spatial_ssrl.contract import SPLITS, encode_options
from spatial_ssrl.engine.sample import Sample

READ_BATCH_ROWS = 64  # rows `read_rows` converts to Python at a time


def encode_image(image: np.ndarray, image_format: str = "jpeg", quality: int = 95) -> bytes:
    """Encode an H x W x 3 uint8 image as JPEG (`quality`, no chroma subsampling) or PNG bytes."""
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
    "split": {"dtype": "string", "_type": "Value"},
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
        ("split", pa.string()),
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
    """The row id of a sample: `source_id:task:index`, unique in a dataset."""
    return f"{sample.source_id}:{sample.task}:{sample.index}"


def sample_to_row(sample: Sample, split: str = "train", image_format: str = "jpeg", quality: int = 95) -> dict:
    """One dataset row (the columns of SCHEMA) for a sample in `split`, its images encoded."""
    ext = "jpg" if image_format == "jpeg" else "png"
    sid = sample_id(sample)
    return {
        "id": sid,
        "split": split,
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
        "options": encode_options(sample.options),
        "meta": json.dumps(
            {**sample.meta, "attempt": sample.attempt} if sample.attempt else sample.meta, sort_keys=True
        ),
    }


def shard_paths(dataset_dir, split: str | None = None) -> list:
    """The parquet shards of a generated dataset, `data/{split}-{shard:05d}.parquet`, in order."""
    from pathlib import Path

    data = Path(dataset_dir) / "data"
    splits = [split] if split else list(SPLITS)
    return [p for s in splits for p in sorted(data.glob(f"{s}-*.parquet"))]


def read_rows(dataset_dir, split: str | None = None, columns: list[str] | None = None):
    """Iterate the rows of a generated dataset, READ_BATCH_ROWS at a time (memory stays within one
    parquet row group, which the builder bounds in bytes)."""
    import pyarrow.parquet as pq

    for path in shard_paths(dataset_dir, split):
        parquet = pq.ParquetFile(path)
        try:
            for batch in parquet.iter_batches(batch_size=READ_BATCH_ROWS, columns=columns):
                yield from batch.to_pylist()
        finally:
            parquet.close()
