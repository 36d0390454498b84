"""Export a generated dataset to the layout each trainer or evaluator loads (docs/exports.md).

    from spatial_ssrl.export import export
    export("out/ds", "verl", "out/verl")   # -> [out/verl/train.parquet, out/verl/validation.parquet, ...]

Formats: easyr1, verl, trl, llamafactory, vlmevalkit. Each reads the dataset shard by shard
(`schema.shard_paths`), so memory is bounded by one shard, and writes each file atomically.
Splits without shards are skipped. `format_prompt`: None uses each consumer's default (our
instruction appended to the prompt; EasyR1 gets it as a prompt template instead), "" appends
nothing, any other string is appended as the instruction. Command line:
`python -m spatial_ssrl.export DATASET FORMAT OUT [--splits train validation] [--format-prompt TEXT]`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from spatial_ssrl.export import easyr1, llamafactory, trl, verl, vlmevalkit
from spatial_ssrl.export.common import DEFAULT_FORMAT_PROMPT
from spatial_ssrl.schema import SPLITS

Exporter = Callable[[Path, Path, tuple[str, ...], "str | None"], list[Path]]
EXPORTERS: dict[str, Exporter] = {
    "easyr1": easyr1.write,
    "verl": verl.write,
    "trl": trl.write,
    "llamafactory": llamafactory.write,
    "vlmevalkit": vlmevalkit.write,
}

__all__ = ["DEFAULT_FORMAT_PROMPT", "EXPORTERS", "export", "main"]


def export(
    dataset_dir,
    fmt: str,
    out_dir,
    splits: tuple[str, ...] | list[str] = SPLITS,
    format_prompt: str | None = None,
) -> list[Path]:
    """Write `dataset_dir` in format `fmt` under `out_dir`; returns the files written."""
    if fmt not in EXPORTERS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {sorted(EXPORTERS)}")
    if isinstance(splits, str):
        splits = (splits,)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return EXPORTERS[fmt](Path(dataset_dir), out, tuple(splits), format_prompt)


def main(argv: list[str] | None = None, prog: str = "python -m spatial_ssrl.export") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("format", choices=sorted(EXPORTERS))
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--splits", nargs="+", default=list(SPLITS))
    parser.add_argument("--format-prompt", default=None, help="instruction appended to prompts ('' for none)")
    args = parser.parse_args(argv)
    for path in export(args.dataset_dir, args.format, args.out_dir, args.splits, args.format_prompt):
        print(path)
    return 0
