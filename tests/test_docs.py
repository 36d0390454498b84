"""Links in the README and docs/ point at files that exist (pages, images, configs, examples)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    missing = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"{page.name}: broken links {missing}"


def test_docs_name_shipped_configs_that_exist():
    text = (ROOT / "docs" / "paper_scale.md").read_text(encoding="utf-8")
    configs = set(re.findall(r"configs/[\w/.-]+\.yaml", text))
    assert configs, "the paper-scale guide names the shipped configs"
    for config in configs:
        assert (ROOT / config).exists(), config
