"""`ssrl export DATASET FORMAT OUT`: write a dataset for EasyR1, verl, TRL, LLaMA-Factory or VLMEvalKit."""

from __future__ import annotations

import argparse
from pathlib import Path

from spatial_ssrl.cli._args import CommandError, add_import_argument
from spatial_ssrl.contract import SPLITS
from spatial_ssrl.export import FORMATS


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `export`."""
    parser = subparsers.add_parser(
        "export", help="write a dataset for EasyR1, verl, TRL, LLaMA-Factory or VLMEvalKit (DATASET FORMAT OUT)"
    )
    parser.add_argument("dataset_dir", type=Path, help="a folder written by `ssrl generate`")
    parser.add_argument("format", choices=FORMATS, help="the consumer's layout (docs/exports.md)")
    parser.add_argument("out_dir", type=Path, help="output folder")
    parser.add_argument(
        "--splits", nargs="+", default=list(SPLITS), choices=SPLITS, help="splits to export (those with shards)"
    )
    parser.add_argument(
        "--format-prompt", default=None, help="instruction appended to prompts (default: ours; '' for none)"
    )
    parser.add_argument(
        "--video",
        choices=("frames", "native"),
        default="frames",
        help="video tasks' clips as images (frames, every format) or as the trainer's video field (native: "
        "easyr1, verl, llamafactory)",
    )
    add_import_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Export and print the files written."""
    from spatial_ssrl.export import export

    try:
        paths = export(args.dataset_dir, args.format, args.out_dir, args.splits, args.format_prompt, args.video)
    except (FileNotFoundError, ValueError) as exc:  # no shards, a corrupt dataset_info.json, an unsafe path
        raise CommandError(str(exc)) from exc
    for path in paths:
        print(path)
    return 0
