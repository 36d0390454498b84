"""`ssrl compare RUN...`: put several eval runs side by side."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `compare`."""
    parser = subparsers.add_parser(
        "compare", help="put several eval runs side by side: Table 1 of the paper, all benchmarks, breakdowns"
    )
    parser.add_argument("runs", nargs="+", help="run folders written by ssrl eval (the first is the baseline)")
    parser.add_argument("--out", default=None, help="write compare.md, compare.json, compare.png, breakdowns.md here")
    parser.add_argument("--names", default=None, help="comma-separated display names, in run order")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the comparison table (and write the files with --out)."""
    from spatial_ssrl.evaluate.report import compare

    names = [n.strip() for n in args.names.split(",")] if args.names else None
    print(compare(args.runs, names=names, out_dir=args.out))
    if args.out:
        print(f"wrote {Path(args.out) / 'compare.md'}, compare.json, compare.png and breakdowns.md")
    return 0
