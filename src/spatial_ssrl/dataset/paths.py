"""Names that come from data or from a user's spec, made safe to use as one path component.

Benchmark names, split names and sample ids end up in file and folder names (`ssrl eval`'s per-benchmark
folders, exported image and TSV names). A name such as `..`, `../x`, `/abs`, `a\\b`, `CON` or one with a NUL
would escape its output folder or fail on some file system, so every such name goes through
`safe_component`, and every path is checked with `confined` before anything is written to it.

    safe_component("tiny_bench")  -> "tiny_bench"                 (already safe: unchanged)
    safe_component("..")          -> "_~<12 hex digits>"          (stem + "~" + a hash of the name)
    safe_component("My Bench")    -> "My_Bench~<12 hex digits>"

A safe name never contains `~` and a rewritten one always does, so two distinct names never share a
component (barring a 48-bit hash collision between two rewritten names). Case is kept: on a
case-insensitive file system `Bench` and `bench` are one folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

MAX_COMPONENT_CHARS = 100  # longer names are shortened (with their hash); file systems allow 255 bytes
_STEM_CHARS = 64  # the readable part kept from a rewritten name
_HASH_CHARS = 12  # hex digits of SHA-256 that keep rewritten names distinct
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")  # no leading dot or dash, ASCII only, no separators
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._+-]+")
# Windows refuses these as a file name, with or without an extension (`con.txt`).
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "123456789"}
)


class UnsafePath(ValueError):
    """A path that would land outside the folder it is meant to be in."""


def _is_safe(name: str) -> bool:
    return (
        len(name) <= MAX_COMPONENT_CHARS
        and _SAFE.fullmatch(name) is not None
        and not name.endswith(".")  # Windows drops trailing dots: `a.` and `a` would be one file
        and name.split(".", 1)[0].upper() not in _RESERVED
    )


def safe_component(name: object) -> str:
    """`name` as one path component that stays inside its folder on every common file system.

    A name of ASCII letters, digits and `._+-` (not starting with `.` or `-`, not ending with `.`, not
    a reserved device name, at most MAX_COMPONENT_CHARS) is returned unchanged. Any other name becomes
    its safe characters (others replaced by `_`, leading dots and dashes dropped, at most 64 kept), then
    `~` and 12 hex digits of the SHA-256 of the original, so distinct names stay distinct.
    """
    text = str(name)
    if _is_safe(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    # A bounded prefix is enough for the readable stem (the hash covers the whole name).
    stem = _UNSAFE_RUN.sub("_", text[: 4 * _STEM_CHARS]).lstrip(".-")[:_STEM_CHARS].rstrip(".") or "_"
    if stem.split(".", 1)[0].upper() in _RESERVED:
        stem = "_" + stem
    return f"{stem}~{digest}"


def confined(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """`path`, after checking that it resolves (symbolic links followed) to `root` or below it.

    Raises:
        UnsafePath: it does not; the message names both.
    """
    base = Path(root).resolve()
    target = Path(path).resolve()
    if target != base and base not in target.parents:
        raise UnsafePath(f"refusing to write {path}: it resolves to {target}, outside {base}")
    return Path(path)
