"""What a source is, beyond its name: file fingerprints (for resume) and content hashes (for splits).

- `source_fingerprint(ref)`: size and mtime_ns of each file of a source (rgb, depth, mask), read
  with `stat` only. A resume redoes the shards of a source whose fingerprint changed, and the
  content pre-pass re-hashes it. Synthetic scenes have no files (their pixels follow from the ref).
- `content_hash(source)`: a hash of the decoded pixels (RGB, and depth when present), so the same
  picture under two names, as a symlink or in another lossless format has one hash; for a video or
  image sequence the hash of its files' bytes. The builder
  assigns splits by it and reports (and skips) exact duplicates.
- `HashJob` / `run_hash_job`: the parallel pre-pass, one source decoded at a time per worker (the
  readers' pixel limits apply), results cached in `_progress/content.jsonl` by `ContentCache`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from spatial_ssrl.dataset.pool import Report, no_report
from spatial_ssrl.engine.sample import FrameSequence, Source, SourceError
from spatial_ssrl.sources.discover import SourceRef

FINGERPRINT_FILES = ("rgb", "depth", "mask", "video")  # the SourceRef fields that name files or folders
HASH_BATCH_SOURCES = 16  # sources per pre-pass job (decoded one at a time): few messages, little lost to a crash
MAX_ERROR_CHARS = 500  # of a source error kept in stats.json and the cache: one length, fresh or resumed
MAX_CACHE_LINE = 4096  # bytes; a longer line in content.jsonl is not ours and is skipped


def _folder_stat(folder: str) -> list[int]:
    """[files, total size, newest mtime_ns] of the files under a sequence folder (two levels: color/, depth/...)."""
    count = size = newest = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        if Path(dirpath) != Path(folder):
            dirnames[:] = []  # one level of sub-folders is the sequence layouts' depth
        for f in filenames:
            st = os.stat(os.path.join(dirpath, f))
            count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    return [count, size, newest]


def source_fingerprint(ref: SourceRef) -> dict[str, list[int] | str] | None:
    """{field: [size, mtime_ns]} for each file of the source (a string when it cannot be read), and for a frame
    or posed sequence folder [files, total size, newest mtime_ns]; None for a source without files (a synthetic
    scene or camera path)."""
    files: dict[str, list[int] | str] = {}
    for name in FINGERPRINT_FILES:
        path = getattr(ref, name)
        if path is None:
            continue
        try:
            if name == "video" and os.path.isdir(path):
                files[name] = _folder_stat(path)
                continue
            st = os.stat(path)
        except OSError as err:
            files[name] = f"unavailable: {err.strerror}"
        else:
            files[name] = [st.st_size, st.st_mtime_ns]
    return files or None


def cache_key(ref: SourceRef, fingerprint: dict | None) -> str:
    """The content cache key of a source: its reference and its files' fingerprint."""
    text = json.dumps([asdict(ref), fingerprint], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def content_hash(source: Source | FrameSequence) -> str:
    """A hash of the decoded pixels: the RGB array (shape and bytes) and, when present, the depth. A video's
    is the hash of its files' bytes (`FrameSequence.content_key()`): decoding every frame would cost far more."""
    if isinstance(source, FrameSequence):
        return source.content_key()
    h = hashlib.blake2b(digest_size=16, person=b"ssrl-content")
    for name, array in (("rgb", source.rgb), ("depth", source.depth)):
        if array is None:
            continue
        array = np.ascontiguousarray(array)  # memoryview below hashes without copying
        h.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        h.update(memoryview(array).cast("B"))
    return h.hexdigest()


@dataclass
class HashJob:
    """One pre-pass job: hash these sources' contents. `excluded` maps a source id to the reason it is
    not read (set when reading it killed a worker)."""

    batch: int
    refs: list[SourceRef]
    excluded: dict[str, str] = field(default_factory=dict)
    max_pixels: int | None = None  # the build's per-source budget (None: the readers' default)

    @property
    def label(self) -> str:
        """How messages name the job."""
        return f"content batch {self.batch}"


def run_hash_job(job: HashJob, report: Report = no_report) -> dict:
    """{"batch", "hashes": {id: hash}, "errors": {id: reason}} for the job's sources, read one at a time."""
    hashes: dict[str, str] = {}
    errors: dict[str, str] = {}
    for position, ref in enumerate(job.refs):
        if ref.id in job.excluded:
            errors[ref.id] = job.excluded[ref.id]
            continue
        report(position, "reading this source")
        try:
            source = ref.load(max_pixels=job.max_pixels)
        except SourceError as err:
            errors[ref.id] = str(err)[:MAX_ERROR_CHARS]
            continue
        try:  # a video's hash reads its files now: one changed or vanished since discovery is one bad source
            hashes[ref.id] = content_hash(source)
        except (OSError, SourceError) as err:
            errors[ref.id] = f"{ref.id}: cannot be read ({type(err).__name__}: {err})"[:MAX_ERROR_CHARS]
        del source  # one decoded source at a time
    report(None, "sending the hashes")
    return {"batch": job.batch, "hashes": hashes, "errors": errors}


class ContentCache:
    """`_progress/content.jsonl`: one JSON line per hashed source, {"key", "hash"} or {"key", "error"},
    appended as results arrive so an interrupted pre-pass keeps its work. A torn last line (a crash
    mid-write) or a foreign line is skipped, and that source is hashed again."""

    def __init__(self, path: Path):
        self.path = path

    def load(self, wanted: set[str]) -> dict[str, tuple[str, str]]:
        """{key: ("hash" | "error", value)} for the keys in `wanted` (memory stays bounded by them)."""
        found: dict[str, tuple[str, str]] = {}
        if not self.path.exists():
            return found
        with open(self.path, "rb") as f:
            while line := f.readline(MAX_CACHE_LINE + 1):
                if len(line) > MAX_CACHE_LINE:
                    while line and not line.endswith(b"\n"):  # skip the rest of an overlong line
                        line = f.readline(MAX_CACHE_LINE + 1)
                    continue
                try:
                    entry = json.loads(line)
                    key = entry["key"]
                    kind = "hash" if "hash" in entry else "error"
                    value = entry[kind]
                except (ValueError, KeyError, TypeError):
                    continue
                if key in wanted and isinstance(value, str):
                    found[key] = (kind, value)
        return found

    def append(self, entries: list[tuple[str, str, str]]) -> None:
        """Add (key, "hash" | "error", value) entries, one line each."""
        if not entries:
            return
        lines = "".join(json.dumps({"key": k, kind: v[:MAX_ERROR_CHARS]}) + "\n" for k, kind, v in entries)
        with open(self.path, "ab") as f:
            if f.tell() > 0:  # start on a fresh line after a torn one
                with open(self.path, "rb") as r:
                    r.seek(-1, os.SEEK_END)
                    if r.read(1) != b"\n":
                        lines = "\n" + lines
            f.write(lines.encode())
