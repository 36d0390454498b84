"""`ssrl coldstart DATASET OUT`: the cold-start SFT set, responses from each sample's construction."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spatial_ssrl.cli._args import CommandError, add_import_argument
from spatial_ssrl.contract import COLDSTART_REASONING


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `coldstart`."""
    parser = subparsers.add_parser(
        "coldstart", help="write the cold-start SFT set with construction-based responses (DATASET OUT)"
    )
    parser.add_argument("dataset_dir", type=Path, help="a folder written by `ssrl generate`")
    parser.add_argument("out_dir", type=Path, help="output folder (LLaMA-Factory JSON + TRL parquet)")
    parser.add_argument(
        "--fraction", type=float, default=None, help="share of the train split in the set (default: the paper's)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the row selection")
    parser.add_argument(
        "--reasoning",
        choices=COLDSTART_REASONING,
        default="full",
        help="full: the construction evidence in <think>; brief: one sentence naming the answer (small models "
        "trained from scratch)",
    )
    add_import_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the set and print its summary as JSON."""
    from spatial_ssrl.export.coldstart import write_coldstart

    try:
        fraction = {} if args.fraction is None else {"fraction": args.fraction}
        summary = write_coldstart(args.dataset_dir, args.out_dir, seed=args.seed, reasoning=args.reasoning, **fraction)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(summary, indent=2))
    return 0
