"""`load_benchmark(spec)`: read the benchmark a `--bench` spec names, with the loader of its module.

Specs are `kind:PATH[:name]`. `pretext` (a dataset folder from `ssrl generate`, the arg is the split)
and `tsv` (VLMEvalKit's TSV layout) are read by `evaluate.readers`; every other kind (`viewspatial`,
`whatsup`, `vsibench`, `qspatial`, ...) belongs to the benchmark module that declares it in its
`spec_kinds` (`evaluate.benchmarks`). A bare path is recognised by its type: a dataset folder, a `.tsv`,
or records whose fields a module's `sniff` recognises.
"""

from __future__ import annotations

from pathlib import Path

from spatial_ssrl.evaluate.benchmarks import registered_benchmarks
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError
from spatial_ssrl.evaluate.readers import (
    read_pretext,
    read_records,
    read_tsv,
)

BUILTIN_KINDS = ("pretext", "tsv")  # read by evaluate.readers; other kinds come from benchmark modules


def _module_readers() -> dict:
    readers = {}
    for rules in registered_benchmarks().values():
        for kind in rules.spec_kinds:
            if rules.read is not None:
                readers[kind] = rules
    return readers


def spec_kinds() -> tuple[str, ...]:
    """Every `kind:` prefix a spec may start with."""
    return (*BUILTIN_KINDS, *sorted(_module_readers()))


def parse_spec(spec: str) -> tuple[str | None, Path, str | None]:
    """(kind or None, path, trailing argument or None) of `kind:PATH[:arg]`."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in spec_kinds():
        kind, rest = None, spec
    arg = None
    if not Path(rest).exists() and ":" in rest:
        rest, arg = rest.rsplit(":", 1)
    return kind, Path(rest), arg or None


def _parquet_columns(path: Path) -> set[str]:
    """The column names of a parquet file, from its footer only (a benchmark table can be 100+ MB).

    Raises:
        BenchmarkFormatError: the file is not parquet.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return set(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as err:
        raise BenchmarkFormatError(f"{path}: not a parquet file ({err})") from None


def sniff_kind(path: Path) -> str:
    """The layout of a file given without a kind.

    Raises:
        BenchmarkFormatError: no layout recognises it.
    """
    if path.is_dir():
        if (path / "data").is_dir():
            return "pretext"
        raise BenchmarkFormatError(f"{path}: a folder is read only as a generated dataset (with data/)")
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        return "tsv"
    modules = _module_readers()
    keys: set[str] | None = None
    if suffix == ".parquet":
        keys = _parquet_columns(path)
    elif suffix in (".json", ".jsonl"):
        try:
            records = read_records(path)
            keys = set(records[0]) if records and isinstance(records[0], dict) else set()
        except BenchmarkFormatError:
            keys = None  # not a list of records (What'sUp's COCO/GQA files are lists of lists): sniff by name
    for kind, rules in sorted(modules.items()):
        if rules.sniff is not None and rules.sniff(path, keys):
            return kind
    raise BenchmarkFormatError(f"{path}: cannot tell the benchmark layout; prefix it with one of {spec_kinds()}")


def load_benchmark(
    spec: str,
    *,
    data_root: str | Path | None = None,
    num_frames: int | None = None,
    seed: int = 0,
    limit: int | None = None,
) -> Benchmark:
    """Read the benchmark a spec names; `limit` keeps its first items (a quick look). `num_frames` None
    leaves the frame count of videos to the benchmark's protocol (its module's `prepare`).

    Raises:
        FileNotFoundError: the path does not exist.
        BenchmarkFormatError: the file is not in the layout of its kind (the message names file, row, column).
    """
    kind, path, arg = parse_spec(spec)
    if not path.exists():
        raise FileNotFoundError(f"benchmark {spec!r}: {path} does not exist")
    kind = kind or sniff_kind(path)
    modules = _module_readers()
    if kind == "pretext":
        bench = read_pretext(path, split=arg or "validation")
    elif kind == "tsv":
        bench = read_tsv(path, name=arg, data_root=data_root)
    else:  # parse_spec and sniff_kind only give kinds a module reads
        bench = modules[kind].read(path, name=arg, data_root=data_root, num_frames=num_frames, seed=seed)
    if limit is not None:
        bench.items = bench.items[:limit]
    return bench
