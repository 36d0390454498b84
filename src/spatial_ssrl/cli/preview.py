"""`ssrl preview DATASET`: an HTML gallery of a generated dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from spatial_ssrl.cli._args import CommandError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `preview`."""
    parser = subparsers.add_parser("preview", help="write an HTML gallery of a generated dataset")
    parser.add_argument("dataset", help="dataset folder or parquet file")
    parser.add_argument("--out", default=None, help="output file (default: preview.html next to the data)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the gallery and print its path."""
    import pyarrow as pa

    from spatial_ssrl.dataset.preview import write_preview

    src = Path(args.dataset)
    if not src.exists():
        raise CommandError(f"{src} does not exist")
    out = Path(args.out) if args.out else (src if src.is_dir() else src.parent) / "preview.html"
    try:
        print(write_preview(src, out))
    except (pa.ArrowException, OSError, ValueError) as exc:  # not a parquet file, a file of another schema
        raise CommandError(f"{src}: cannot be read as a dataset ({type(exc).__name__}: {exc})") from exc
    return 0
