"""The HTML preview is a valid, self-contained page with every task, image and answer."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from spatial_ssrl.dataset.builder import BuildConfig, build
from spatial_ssrl.dataset.preview import sample_card, write_preview
from spatial_ssrl.dataset.schema import read_rows
from spatial_ssrl.sources.discover import synthetic


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.imgs: list[dict] = []
        self.h2: list[str] = []
        self.errors: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        elif tag not in ("meta", "br"):
            self.stack.append(tag)
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()
        self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)


def test_preview_page_is_valid_and_complete(tmp_path):
    build(BuildConfig(tmp_path, samples_per_task=1), synthetic(2, size=(320, 240)))
    rows = list(read_rows(tmp_path))
    page = (tmp_path / "preview.html").read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(page)
    assert not parser.errors and parser.stack == []
    assert {h.split(" ")[0] for h in parser.h2} == {r["task"] for r in rows}
    assert len(parser.imgs) == sum(len(r["images"]) for r in rows)
    assert all(img["src"].startswith("data:image/jpeg;base64,") for img in parser.imgs)  # self-contained
    assert "option D" in page  # crop candidates captioned by letter
    for r in rows:
        assert f"<span class='answer'>{r['answer']}" in page


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def test_dataset_text_is_escaped(tmp_path):
    """Problem, id, variant, answer and option text come from a dataset: the page shows them, never runs them."""
    row = {
        "id": "x<i>1",
        "task": "position<b>",
        "variant": "v'1",
        "images": [{"bytes": _png(), "path": None}],
        "problem": "<image>\n<script>alert(1)</script> Which side?",
        "answer": "A",
        "options": json.dumps({"A": "left & <u>up</u>", "B": "right"}),
        "meta": json.dumps({"margins": {"gap": 0.5}}),
    }
    shard = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([row]), shard)
    page = write_preview(shard, tmp_path / "preview.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Which side?" in page
    assert "<pre>&lt;image&gt;\n" in page
    assert "<span class='answer'>A (left &amp; &lt;u&gt;up&lt;/u&gt;)</span>" in page
    assert "x&lt;i&gt;1 &middot; variant v&#39;1" in page
    assert "<h2 id='position&lt;b&gt;'>position&lt;b&gt;</h2>" in page
    parser = _Collector()
    parser.feed(page)
    assert not parser.errors and parser.stack == [] and len(parser.imgs) == 1

    # markup a caller adds under the answer is trusted; the row's text still is not
    card = sample_card(row, max_side=64, extra_html="<ul class='pred'><li>ok</li></ul>")
    assert "<ul class='pred'><li>ok</li></ul>" in card and "<script>" not in card


def _write_rows(tmp_path, rows: list[dict]):
    shard = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), shard)
    return shard


def _row(**overrides) -> dict:
    row = {
        "id": "r1",
        "task": "position",
        "variant": "v",
        "images": [{"bytes": _png(), "path": None}],
        "problem": "<image>\nWhich side?",
        "answer": "A",
        "options": json.dumps({"A": "left", "B": "right"}),
        "meta": json.dumps({"margins": {}}),
    }
    return {**row, **overrides}


def test_option_keys_cannot_break_out_of_an_attribute(tmp_path):
    """Candidate images are captioned by option key, in the img alt attribute: a key holding `'><script>`
    stays text inside the attribute (regression guard: the templates autoescape)."""
    key = "'><script>alert(1)</script>"
    images = [{"bytes": _png(), "path": None}] * 3
    row = _row(images=images, problem="<image>\nPick.\nA. <image>\nB. <image>", answer="A",
               options=json.dumps({"A": "candidate a", key: "candidate b"}))  # fmt: skip
    page = write_preview(_write_rows(tmp_path, [row]), tmp_path / "preview.html").read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(page)
    assert not parser.errors and parser.stack == [] and "<script>" not in page
    assert [img["alt"] for img in parser.imgs] == ["image 1", "option A", f"option {key}"]


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height pixels, with one tiny data chunk (a bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="GIF")
    return buf.getvalue()


def _noise_png_cut() -> bytes:
    """A PNG whose header is whole but whose pixel data stops half way."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48).save(buf, format="PNG")
    data = buf.getvalue()
    return data[: len(data) // 2]


BAD_IMAGES = {
    "garbage": b"not an image at all",
    "pixels_cut_short": _noise_png_cut(),
    "empty": b"",
    "truncated_png": _png()[:40],
    "bomb_over_pillow_limit": _png_declaring(100_000, 100_000),
    "bomb_over_our_limit": _png_declaring(9_000, 9_000),  # 81 M pixels: under Pillow's 179 M, over 64 M
    "gif_not_a_dataset_format": _gif(),
    "no_bytes": None,
}


def test_images_that_cannot_be_shown_become_placeholders(tmp_path):
    rows = [_row(id=name, images=[{"bytes": data, "path": None}]) for name, data in BAD_IMAGES.items()]
    rows.append(_row(id="good"))
    out = write_preview(_write_rows(tmp_path, rows), tmp_path / "preview.html", per_task=len(rows))
    page = out.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(page)
    assert not parser.errors and parser.stack == []
    srcs = [img["src"] for img in parser.imgs]
    assert len(srcs) == len(rows)
    assert sum(s.startswith("data:image/svg+xml;base64,") for s in srcs) == len(BAD_IMAGES)
    assert sum(s.startswith("data:image/jpeg;base64,") for s in srcs) == 1
    assert page.count("(not shown: ") == 2 * len(BAD_IMAGES)  # in the alt text and the caption
    assert "outside 1..64000000" in page or "declares more than" in page


def test_unreadable_row_fields_show_empty(tmp_path):
    rows = [
        _row(id="bad_meta", meta="{not json"),
        _row(id="bad_options", options="[1, 2"),
        _row(id="list_options", options="[1, 2]"),
        _row(id="deep_meta", meta="[" * 100_000 + "]" * 100_000),
    ]
    out = write_preview(_write_rows(tmp_path, rows), tmp_path / "preview.html", per_task=len(rows))
    assert all(f"{r['id']} &middot;" in out.read_text(encoding="utf-8") for r in rows)
