"""Benchmark readers and `load_benchmark(spec)`, which picks one by an explicit kind or the file.

Specs: `pretext:DATASET_DIR[:split]`, `tsv:FILE[:name]`, `viewspatial:FILE[:name]`, `whatsup:FILE[:name]`,
`vsibench:FILE[:name]`; a bare path is recognised by its type (a dataset folder, a `.tsv`, or JSON /
JSON Lines / parquet records whose fields identify the layout).
"""

from __future__ import annotations

from pathlib import Path

from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError
from spatial_ssrl.evaluate.readers.common import read_records
from spatial_ssrl.evaluate.readers.pretext import read_pretext
from spatial_ssrl.evaluate.readers.viewspatial import read_viewspatial
from spatial_ssrl.evaluate.readers.vlmevalkit_tsv import read_tsv
from spatial_ssrl.evaluate.readers.vsibench import read_vsibench
from spatial_ssrl.evaluate.readers.whatsup import read_whatsup

READER_KINDS = ("pretext", "tsv", "viewspatial", "whatsup", "vsibench")  # the `kind:` prefixes of a spec

__all__ = [
    "READER_KINDS",
    "load_benchmark",
    "parse_spec",
    "read_pretext",
    "read_tsv",
    "read_viewspatial",
    "read_vsibench",
    "read_whatsup",
]


def parse_spec(spec: str) -> tuple[str | None, Path, str | None]:
    """(kind or None, path, trailing argument or None) of `kind:PATH[:arg]`."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in READER_KINDS:
        kind, rest = None, spec
    arg = None
    if not Path(rest).exists() and ":" in rest:
        rest, arg = rest.rsplit(":", 1)
    return kind, Path(rest), arg or None


def sniff_kind(path: Path) -> str:
    """The layout of a file given without a kind."""
    if path.is_dir():
        if (path / "data").is_dir():
            return "pretext"
        raise BenchmarkFormatError(f"{path}: a folder is read only as a generated dataset (with data/)")
    if path.suffix.lower() == ".tsv":
        return "tsv"
    if path.suffix.lower() in (".json", ".jsonl", ".parquet"):
        records = read_records(path)
        keys = set(records[0]) if records else set()
        if "caption_options" in keys:
            return "whatsup"
        if keys & {"ground_truth", "scene_name", "video", "video_path"}:
            return "vsibench"
        if keys & {"choices", "image_path"}:
            return "viewspatial"
    raise BenchmarkFormatError(f"{path}: cannot tell the benchmark layout; prefix it with one of {READER_KINDS}")


def load_benchmark(
    spec: str,
    *,
    data_root: str | Path | None = None,
    num_frames: int = 16,
    seed: int = 0,
    limit: int | None = None,
) -> Benchmark:
    """Read the benchmark a spec names; `limit` keeps its first items (a quick look)."""
    kind, path, arg = parse_spec(spec)
    if not path.exists():
        raise FileNotFoundError(f"benchmark {spec!r}: {path} does not exist")
    kind = kind or sniff_kind(path)
    if kind == "pretext":
        bench = read_pretext(path, split=arg or "validation")
    elif kind == "tsv":
        bench = read_tsv(path, name=arg, data_root=data_root)
    elif kind == "viewspatial":
        bench = read_viewspatial(path, name=arg, data_root=data_root)
    elif kind == "whatsup":
        bench = read_whatsup(path, name=arg, data_root=data_root, seed=seed)
    else:
        bench = read_vsibench(path, name=arg, data_root=data_root, num_frames=num_frames)
    if limit is not None:
        bench.items = bench.items[:limit]
    return bench
