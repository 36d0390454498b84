"""One evaluation question, whatever benchmark it came from, and the benchmark that holds it.

Readers turn each benchmark layout into `EvalItem`s; prompts, backends, scoring and reports only
ever see `EvalItem`s. Images stay encoded (bytes or a file path) until a backend needs pixels, so a
benchmark of thousands of questions costs its compressed size in memory, not its decoded size.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

# How an answer is scored (evaluate/scoring.py). "pretext:<answer_type>" scores one of our own tasks
# with the training reward; "open" is a question with no reference answer (ssrl infer).
KINDS = ("choice", "yesno", "number", "text", "open")

ImageLike = Any  # PIL.Image.Image | bytes | str | Path | {"bytes": ..., "path": ...}


class BenchmarkFormatError(ValueError):
    """A benchmark file that cannot be read as its layout; the message names the file and the row."""


@dataclass
class EvalItem:
    """One question. `answer` is the reference in the benchmark's own terms: an option letter for
    "choice", yes/no, a quantity such as `2.5 meters` for "number", or our canonical answer string
    for "pretext:*". `extra` holds scoring parameters (metric, unit, tolerance) and provenance."""

    benchmark: str
    id: str
    question: str
    answer: str = ""
    kind: str = "choice"
    images: list[ImageLike] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    category: str = ""
    subcategory: str = ""
    hint: str = ""
    video: str | None = None  # a video file; its frames are sampled when a backend needs them
    num_frames: int = 16
    extra: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None  # the text after the images, rendered by the runner (benchmark module + template)

    def __post_init__(self) -> None:
        if self.kind not in KINDS and not self.kind.startswith("pretext:"):
            raise ValueError(f"{self.benchmark}/{self.id}: unknown answer kind {self.kind!r}")

    @property
    def is_video(self) -> bool:
        """True when the item shows a video rather than images."""
        return self.video is not None

    def visuals(self) -> list[Image.Image]:
        """Decoded RGB images, or the sampled frames of the video."""
        if self.video is not None:
            from spatial_ssrl.evaluate.video import sample_frames

            return list(sample_frames(self.video, self.num_frames, self.extra.get("frame_rule", "round")))
        return [load_image(im) for im in self.images]

    def visual_sizes(self) -> tuple[tuple[int, int], ...]:
        """(width, height) of every image, read from the file headers only (cheap): for bucketing."""
        if self.video is not None:
            from spatial_ssrl.evaluate.video import video_size

            return (video_size(self.video),) * self.num_frames
        return tuple(image_size(im) for im in self.images)


@dataclass
class Benchmark:
    """The items of one benchmark and how its overall score is formed: "micro" = mean over items;
    "macro" = mean over categories, each the mean of its subcategories when it has some (VSI-Bench)."""

    name: str
    items: list[EvalItem]
    aggregate: str = "micro"
    source: str = ""
    rules: str = ""  # the benchmark module that scores it (evaluate/benchmarks); "" = chosen by `name`

    def __post_init__(self) -> None:
        seen: set[str] = set()
        dups = [it.id for it in self.items if it.id in seen or seen.add(it.id)]
        if dups:
            raise BenchmarkFormatError(f"{self.source or self.name}: duplicate item ids {dups[:5]}")
        if self.aggregate not in ("micro", "macro"):
            raise ValueError(f"aggregate must be 'micro' or 'macro', got {self.aggregate!r}")


def _image_digest(image: ImageLike) -> str:
    if isinstance(image, dict):
        image = image.get("bytes") or image.get("path")
    if isinstance(image, (bytes, bytearray)):
        return hashlib.sha256(image).hexdigest()
    if isinstance(image, (str, Path)):
        return f"path:{image}"
    return f"object:{id(image)}"  # an in-memory PIL image: unique to this run


def item_key(item: EvalItem) -> str:
    """A short digest of what the model is shown for `item` (prompt or question, options, hint, images or
    video): the predictions cache records it, so an answer is never reused for another question that
    happens to have the same id."""
    payload = json.dumps(
        [
            item.prompt if item.prompt is not None else item.question,
            item.options,
            item.hint,
            [_image_digest(im) for im in item.images],
            str(item.video) if item.video is not None else None,
            item.num_frames if item.video is not None else None,
        ],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _open(image: ImageLike) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, dict):
        image = image.get("bytes") or image.get("path")
    if isinstance(image, (bytes, bytearray)):
        return Image.open(io.BytesIO(image))
    if isinstance(image, (str, Path)):
        return Image.open(image)
    raise TypeError(f"not an image: {type(image).__name__}")


def load_image(image: ImageLike) -> Image.Image:
    """An RGB PIL image from any of the forms items hold."""
    im = _open(image)
    return im if im.mode == "RGB" else im.convert("RGB")


def image_size(image: ImageLike) -> tuple[int, int]:
    """(width, height) of an image in any of the forms items hold, without decoding its pixels."""
    return _open(image).size  # PIL reads the header; pixels are decoded only on load


def encoded_image(image: ImageLike) -> tuple[bytes, str]:
    """(bytes, mime type) for sending an image over HTTP: stored bytes as they are, else PNG."""
    data: bytes | None = None
    if isinstance(image, dict):
        image = image.get("bytes") or image.get("path")
    if isinstance(image, (bytes, bytearray)):
        data = bytes(image)
    elif isinstance(image, (str, Path)):
        data = Path(image).read_bytes()
    if data is not None:
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return data, "image/png"
        if data[:3] == b"\xff\xd8\xff":
            return data, "image/jpeg"
        image = Image.open(io.BytesIO(data))  # another format: re-encode as PNG
    buf = io.BytesIO()
    load_image(image).save(buf, format="PNG")
    return buf.getvalue(), "image/png"
