"""A static, self-contained HTML gallery of a generated dataset (thumbnails embedded as data URIs).

The page is templates/preview.html.j2; each sample is the `card` macro of templates/sample_card.html.j2, which
the demo report reuses for its gallery.

A dataset file may be crafted: every text from a row is escaped by the template (autoescape), and every image
is decoded under the project's image limits (`sources.images.DEFAULT_MAX_PIXELS`, checked from the header
before any pixel is decoded; PREVIEW_FORMATS only). An image that cannot be shown (garbage, a decompression
bomb, a format we do not write) becomes a placeholder with the reason in its caption: the page is always
written. Unreadable `meta` / `options` JSON shows as empty.
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

from spatial_ssrl.contract import image_names, video_groups
from spatial_ssrl.dataset.schema import shard_paths
from spatial_ssrl.dataset.templating import macro, render
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS, ImageTooLarge, UnreadableImage, open_image, to_rgb_array

PREVIEW_FORMATS = ("JPEG", "PNG", "WEBP")  # what datasets store (`schema.encode_image`); others are not decoded
MAX_STRIP_FRAMES = 32  # frames drawn in one clip's strip (the tasks show 2-4); more is not a clip of ours
MAX_REASON_CHARS = 120  # a placeholder's caption states why, in at most this many characters
READ_BATCH_ROWS = 64  # rows converted to Python at a time while collecting samples (memory: one batch)
_RESIZABLE = frozenset({"1", "L", "P", "RGB", "RGBA", "LA", "PA", "RGBX", "CMYK", "YCbCr", "I", "F"})
_PLACEHOLDER_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}'>"
    "<rect width='100%' height='100%' fill='#eee' stroke='#bbb'/>"
    "<text x='50%' y='50%' text-anchor='middle' dominant-baseline='middle' font-family='sans-serif' "
    "font-size='14' fill='#777'>image not shown</text></svg>"
)


class ImageNotShown(ValueError):
    """An image of a row that the preview cannot decode within its limits."""


def _decode(data: Any, max_side: int) -> Image.Image:
    """The image of `data` scaled to fit `max_side`, as RGB (the mode policy of `sources.images`).

    Raises:
        ImageNotShown: not bytes, not one of PREVIEW_FORMATS, over DEFAULT_MAX_PIXELS, or corrupt.
    """
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ImageNotShown("no image bytes")
    try:  # the project's safe reader: header size check before decoding, any decoder failure typed
        im, _ = open_image(data, formats=PREVIEW_FORMATS, draft_size=(max_side, max_side))
    except ImageTooLarge:
        raise ImageNotShown(f"declares more than {DEFAULT_MAX_PIXELS} pixels") from None
    except UnreadableImage:
        raise ImageNotShown(f"corrupt, truncated or not a {'/'.join(PREVIEW_FORMATS)} image") from None
    if im.mode not in _RESIZABLE:
        im = Image.fromarray(to_rgb_array(im))
    im.thumbnail((max_side, max_side))
    return Image.fromarray(to_rgb_array(im))


def placeholder_uri(max_side: int) -> str:
    """A grey box of `max_side` x 3/4 `max_side` saying "image not shown", as an SVG data URI."""
    svg = _PLACEHOLDER_SVG.format(w=max_side, h=max(1, max_side * 3 // 4))
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _jpeg_uri(im: Image.Image) -> str:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def strip_uri(frames: list[bytes], height: int) -> str:
    """Frames of a clip side by side, each scaled to `height` px high, as one JPEG data URI (a video task's clip
    reads as a strip). Each frame is decoded under the limits of `_decode`.

    Raises:
        ImageNotShown: a frame is not an image the preview decodes.
    """
    if height < 1 or not frames:
        raise ValueError("a strip needs frames and a height >= 1")
    if len(frames) > MAX_STRIP_FRAMES:
        raise ImageNotShown(f"{len(frames)} frames in one clip, more than {MAX_STRIP_FRAMES}")
    thumbs = []
    for data in frames:
        im = _decode(data, 4 * height)
        # A frame of extreme shape is fitted into a box of 4 x height by height, never widened past it.
        scale = min(height / im.height, 4 * height / im.width)
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        thumbs.append(im.resize(size, Image.Resampling.LANCZOS))
    gap = max(1, height // 32)
    strip = Image.new("RGB", (sum(t.width for t in thumbs) + gap * (len(thumbs) - 1), height), (255, 255, 255))
    x = 0
    for t in thumbs:
        strip.paste(t, (x, (height - t.height) // 2))
        x += t.width + gap
    return _jpeg_uri(strip)


def thumbnail_uri(data: bytes, max_side: int) -> str:
    """An encoded image scaled to fit `max_side`, as a JPEG data URI (pages stay self-contained).

    Raises:
        ImageNotShown: the bytes are not an image the preview decodes (see `_decode`).
    """
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    return _jpeg_uri(_decode(data, max_side))


def _figure(image: Any, caption: str, max_side: int) -> dict[str, str]:
    data = image.get("bytes") if isinstance(image, dict) else image
    try:
        return {"caption": caption, "src": thumbnail_uri(data, max_side)}
    except ImageNotShown as err:
        reason = str(err)[:MAX_REASON_CHARS]
        return {"caption": f"{caption} (not shown: {reason})", "src": placeholder_uri(max_side)}


def _strip_figure(images: list[Any], caption: str, height: int) -> dict[str, str]:
    frames = [im.get("bytes") if isinstance(im, dict) else im for im in images]
    try:
        return {"caption": caption, "src": strip_uri(frames, height)}
    except ImageNotShown as err:
        reason = str(err)[:MAX_REASON_CHARS]
        return {"caption": f"{caption} (not shown: {reason})", "src": placeholder_uri(height)}


def _clip_figures(row: dict, images: list[Any], names: list[str] | None, max_side: int) -> list[dict] | None:
    """A video task's figures: each clip (`meta["videos"]`) as one strip, other frames alone, captioned by the
    task's image names; None for an image task or unusable groups."""
    try:
        groups = video_groups(row)
    except ValueError:
        return None
    if not groups:
        return None
    names = names if names and len(names) == len(images) else [f"image {k + 1}" for k in range(len(images))]
    grouped = {i: g for g in groups for i in g}
    figures, done = [], set()
    for k, im in enumerate(images):
        if k in done:
            continue
        if k in grouped:
            group = grouped[k]
            done.update(group)
            caption = names[group[0]].split(",")[0] + f" ({len(group)} frames)"
            figures.append(_strip_figure([images[i] for i in group], caption, max(1, max_side // 3)))
        else:
            figures.append(_figure(im, names[k], max(1, max_side // 2)))
    return figures


def _json_object(text: Any) -> dict:
    """A row's JSON column as a dict; {} when it is missing or not a JSON object."""
    if not isinstance(text, (str, bytes)) or not text:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


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
        parquet = pq.ParquetFile(path)
        try:
            for batch in parquet.iter_batches(batch_size=READ_BATCH_ROWS):  # one row group in memory, not a file
                for row in batch.to_pylist():
                    task = str(row.get("task", ""))
                    if len(by_task.setdefault(task, [])) < per_task:
                        by_task[task].append(row)
        finally:
            parquet.close()
        if tasks and all(len(by_task.get(t, [])) >= per_task for t in tasks):
            break
    return by_task


def sample_view(row: dict, max_side: int = 384) -> dict[str, Any]:
    """What a card shows of a dataset row: id, variant, figures (caption and thumbnail data URI; the first image
    fits `max_side`, candidates half of it; a video task's clips are strips of frames), problem, answer (with the
    option's text unless it only names a candidate image) and the margins as JSON. Values are raw text: the HTML
    template escapes them. An image that cannot be shown is a placeholder whose caption says why; a missing or
    unreadable field shows empty."""
    meta = _json_object(row.get("meta"))
    options = {str(k): str(v) for k, v in _json_object(row.get("options")).items()}
    images = row.get("images") if isinstance(row.get("images"), list) else []
    captions = [f"image {k + 1}" for k in range(len(images))]
    if len(options) == len(images) - 1:  # candidate images: caption them by letter
        captions[1:] = [f"option {letter}" for letter in options]
    parsed = {**row, "meta": meta}  # parsed once (a crafted meta may be slow or too deep to parse)
    names = image_names(parsed)
    figures = _clip_figures(parsed, images, names, max_side)
    if figures is None:
        if names and len(names) == len(images):  # a video task's separate frames
            captions = names
        figures = [
            _figure(im, cap, max_side if k == 0 else max(1, max_side // 2))
            for k, (im, cap) in enumerate(zip(images, captions))
        ]
    answer = str(row.get("answer", ""))
    if answer in options and not options[answer].startswith("candidate"):
        answer = f"{answer} ({options[answer]})"
    return {
        "id": str(row.get("id", "")),
        "variant": str(row.get("variant", "")),
        "figures": figures,
        "problem": str(row.get("problem", "")),
        "answer": answer,
        "margins": json.dumps(meta.get("margins", {}), default=str),
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
