"""Model and generation options shared by `ssrl infer` and `ssrl eval`."""

from __future__ import annotations

import argparse

DTYPES = ("auto", "float32", "bfloat16", "float16")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--mode, --device, --dtype, --max-new-tokens, --max-pixels, --frames."""
    parser.add_argument(
        "--mode", choices=["cot", "direct"], default="cot", help="cot: think + boxed answer; direct: bare answer"
    )
    parser.add_argument("--device", default="auto", help="cpu, auto (all visible GPUs, else CPU), or cuda / cuda:N")
    parser.add_argument("--dtype", choices=DTYPES, default="auto", help="auto = the checkpoint's dtype")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: generous for cot, short for direct")
    parser.add_argument("--max-pixels", type=int, default=None, help="cap image pixels in the processor (Qwen-VL)")
    parser.add_argument(
        "--frames",
        type=int,
        default=None,
        help="frames sampled uniformly from a video (default: 16 for infer; for eval the protocol's: "
        "VSI-Bench 32 official, 128 paper)",
    )
