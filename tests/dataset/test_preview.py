"""The HTML preview is a valid, self-contained page with every task, image and answer."""

from __future__ import annotations

from html.parser import HTMLParser

from spatial_ssrl.dataset.builder import BuildConfig, build
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
