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
