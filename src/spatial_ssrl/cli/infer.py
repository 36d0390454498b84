"""`ssrl infer`: answer a question about image(s) or a video with a model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spatial_ssrl.cli._args import CommandError
from spatial_ssrl.cli._model_args import add_model_arguments


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `infer`."""
    parser = subparsers.add_parser(
        "infer", help="answer a question about image(s) with a model (hub id or local folder)"
    )
    parser.add_argument("--model", required=True, help="hub id or local checkpoint folder")
    parser.add_argument("--image", action="append", default=[], help="an image file (repeat for several, in order)")
    parser.add_argument("--video", default=None, help="a video file (frames sampled uniformly)")
    parser.add_argument("--question", required=True)
    parser.add_argument("--json", action="store_true", help="print {response, answer} as JSON")
    add_model_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Generate one response and print it (with the extracted answer)."""
    from spatial_ssrl.evaluate.backends import make_backend
    from spatial_ssrl.evaluate.items import EvalItem
    from spatial_ssrl.rewards.match import answer_text

    for path in args.image:
        if not Path(path).is_file():
            raise CommandError(f"--image: {path} does not exist")
    item = EvalItem(
        benchmark="infer",
        id="0",
        question=args.question,
        kind="open",
        images=list(args.image),
        video=args.video,
        num_frames=args.frames or 16,
    )
    backend = make_backend(
        "transformers",
        model=args.model,
        mode=args.mode,
        max_new_tokens=args.max_new_tokens,
        device=args.device,
        dtype=args.dtype,
        batch_size=1,
        max_pixels=args.max_pixels,
    )
    response = backend.generate([item], args.mode)[0]
    if args.json:
        print(json.dumps({"response": response, "answer": answer_text(response)}, ensure_ascii=False))
    else:
        print(response)
        if args.mode == "cot":
            print(f"\nanswer: {answer_text(response)}")
    return 0
