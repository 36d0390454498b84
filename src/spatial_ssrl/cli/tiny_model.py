"""`ssrl tiny-model OUT`: a tiny random Qwen2.5-VL / Qwen3-VL model folder, built offline."""

from __future__ import annotations

import argparse


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
    parser.add_argument("--seed", type=int, default=0)
    return parser


def run(args: argparse.Namespace) -> int:
    """Build the model and print its summary."""
    from spatial_ssrl.train.tiny import build_tiny_model

    sizes = {k: v for k, v in (("hidden", args.hidden), ("layers", args.layers)) if v is not None}
    out = build_tiny_model(args.out, args.arch, seed=args.seed, **sizes)
    print((out / "spatial_ssrl_tiny.json").read_text())
    print(f"wrote {out}")
    return 0
