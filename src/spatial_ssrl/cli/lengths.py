"""`ssrl lengths DATASET --processor MODEL`: prompt tokens per task and the trainer settings that fit."""

from __future__ import annotations

import argparse
from pathlib import Path

from spatial_ssrl.cli._args import CommandError
from spatial_ssrl.contract import SPLITS


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `lengths`."""
    parser = subparsers.add_parser(
        "lengths", help="prompt lengths per task for a processor, and the max_prompt_length that fits"
    )
    parser.add_argument("dataset_dir", type=Path, help="a folder written by `ssrl generate`")
    parser.add_argument("--processor", required=True, help="hub id or local folder of the model's processor")
    parser.add_argument("--split", default="train", choices=SPLITS)
    parser.add_argument("--limit", type=int, default=500, help="rows measured (0 = all)")
    parser.add_argument("--min-pixels", type=int, default=None, help="image processor min_pixels (the trainer's)")
    parser.add_argument("--max-pixels", type=int, default=None, help="image processor max_pixels (the trainer's)")
    parser.add_argument("--format-prompt", default=None, help="instruction appended to prompts (default: ours)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Measure, print the table and the settings."""
    from spatial_ssrl.export import lengths

    try:
        processor = lengths.load_processor(args.processor, args.min_pixels, args.max_pixels)
    except OSError as exc:
        raise CommandError(f"--processor {args.processor!r}: {exc}") from exc
    try:
        records = lengths.measure(args.dataset_dir, processor, args.split, args.limit or None, args.format_prompt)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    if not records:
        raise CommandError(f"{args.dataset_dir}: split {args.split!r} has no rows")
    table = lengths.length_table(records)
    print(lengths.table_markdown(table))
    print()
    print(lengths.settings_text(table, args.max_pixels))
    return 0
