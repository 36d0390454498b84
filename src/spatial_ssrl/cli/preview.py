"""`ssrl preview DATASET`: an HTML gallery of a generated dataset."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `preview`."""
    parser = subparsers.add_parser("preview", help="write an HTML gallery of a generated dataset")
    parser.add_argument("dataset", help="dataset folder or parquet file")
    parser.add_argument("--out", default=None, help="output file (default: preview.html next to the data)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the gallery and print its path."""
    from spatial_ssrl.dataset.preview import write_preview

    src = Path(args.dataset)
    out = Path(args.out) if args.out else (src if src.is_dir() else src.parent) / "preview.html"
    print(write_preview(src, out))
    return 0
