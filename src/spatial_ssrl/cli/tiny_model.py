"""`ssrl tiny-model OUT`: a tiny random Qwen2.5-VL / Qwen3-VL model folder, built offline."""

from __future__ import annotations

import argparse

from spatial_ssrl.cli._args import CommandError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `tiny-model`."""
    parser = subparsers.add_parser(
        "tiny-model", help="build a tiny random Qwen2.5-VL / Qwen3-VL model folder (offline)"
    )
    parser.add_argument("out", help="output folder")
    parser.add_argument("--arch", choices=["qwen2_5_vl", "qwen3_vl"], default="qwen2_5_vl")
    parser.add_argument(
        "--hidden", type=int, default=None, help="hidden size of the language model (default: build_tiny_model's)"
    )
    parser.add_argument("--layers", type=int, default=None, help="language model layers (default: build_tiny_model's)")
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="largest image after the processor's resize, in pixels; a visual token covers 28x28 (default: 28*28*16)",
    )
    parser.add_argument("--vision-hidden", type=int, default=None, help="width of the vision encoder (default: 32)")
    parser.add_argument("--vision-depth", type=int, default=None, help="blocks of the vision encoder (default: 2)")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def run(args: argparse.Namespace) -> int:
    """Build the model and print its summary."""
    from spatial_ssrl.train.tiny import build_tiny_model

    names = ("hidden", "layers", "max_pixels", "vision_hidden", "vision_depth")
    sizes = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    try:
        out = build_tiny_model(args.out, args.arch, seed=args.seed, **sizes)
    except ValueError as err:
        raise CommandError(str(err)) from None
    print((out / "spatial_ssrl_tiny.json").read_text())
    print(f"wrote {out}")
    return 0
