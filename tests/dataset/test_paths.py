"""Names from data or user specs become one safe path component; paths are checked to stay under their root."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl.dataset.paths import MAX_COMPONENT_CHARS, UnsafePath, confined, safe_component


@pytest.mark.parametrize("name", ["tiny_bench", "VSI-Bench", "pretext-validation", "train", "a.b+c", "_x", "0"])
def test_safe_names_are_unchanged(name):
    assert safe_component(name) == name


HOSTILE = [
    "..", ".", "...", "", "../x", "/abs", "a/b", "a\\b", "C:\\x", "x\x00y", "tab\there", "line\nbreak",
    ".hidden", "-rf", "trailing.", "CON", "con.txt", "LPT1", "nul", "x" * 1000, "é漢😀", "\ud800",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_become_one_plain_component(name, tmp_path):
    out = safe_component(name)
    assert out and len(out) <= MAX_COMPONENT_CHARS
    assert out not in (".", "..") and not out.startswith((".", "-")) and not out.endswith(".")
    assert "/" not in out and "\\" not in out and out.isascii() and out.isprintable()
    assert out.split(".", 1)[0].upper() not in ("CON", "NUL", "LPT1")
    assert "~" in out  # rewritten names are marked, so they never equal a name kept as it is
    assert (tmp_path / out).parent == tmp_path
    (tmp_path / out).mkdir()  # the file system takes it


def test_distinct_names_stay_distinct():
    names = HOSTILE + ["_", "a_b", "a b", "A", "a", "x" * 1001, "..."[:2] + "/", "tiny_bench"]
    assert len({safe_component(n) for n in names}) == len(set(names))


@settings(deadline=None, max_examples=300)
@given(a=st.text(max_size=120), b=st.text(max_size=120))
def test_components_are_safe_and_injective(a, b):
    ca, cb = safe_component(a), safe_component(b)
    assert "/" not in ca and ca not in ("", ".", "..") and len(ca) <= MAX_COMPONENT_CHARS
    assert (ca == cb) == (a == b)


def test_confined_accepts_paths_below_and_refuses_the_rest(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    assert confined(root, root / "a" / "b.json") == root / "a" / "b.json"
    assert confined(root, root) == root
    for escape in (root / ".." / "x", tmp_path / "elsewhere", root / "a" / ".." / ".." / "x"):
        with pytest.raises(UnsafePath, match="outside"):
            confined(root, escape)
    (root / "link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(UnsafePath):
        confined(root, root / "link" / "x")
