"""Items per second of `ssrl eval`'s transformers backend: batched versus one item at a time.

Same tiny random Qwen2.5-VL model (built offline), same 64 generated multiple-choice items (one image
each, four image sizes, so bucketing has something to do), same prompt mode, same number of new
tokens. `min_new_tokens = max_new_tokens` makes every item generate exactly that many tokens in both
runs, so the comparison is of equal work (a random model would otherwise stop at random points).

    python benchmarks/bench_eval.py [--items 64] [--batch-size 16] [--new-tokens 32] [--threads 1]

Timed with one torch thread by default: on a machine whose cores are busy with other work, torch's
thread pool waits on descheduled threads and every step gets 10-100x slower, which drowns the thing
measured here (the per-step overhead that batching amortises).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from spatial_ssrl.evaluate.backends import TransformersBackend
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.train.tiny import build_tiny_model
from tests.fixtures.benchmarks import image_bytes

SIZES = [(64, 48), (96, 72), (112, 84), (128, 96)]


def make_items(n: int) -> list[EvalItem]:
    return [
        EvalItem(
            benchmark="bench",
            id=str(i),
            question=f"Which object is closer to the camera in scene {i}?",
            answer="AB"[i % 2],
            options={"A": "the chair", "B": "the table"},
            images=[image_bytes(i, SIZES[i % len(SIZES)])],
        )
        for i in range(n)
    ]


def items_per_second(backend: TransformersBackend, items: list[EvalItem], mode: str) -> float:
    backend.generate(items[: backend.batch_size], mode)  # warm-up: first-call allocations, lazy imports
    start = time.perf_counter()
    backend.generate(items, mode)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--arch", default="qwen2_5_vl", choices=["qwen2_5_vl", "qwen3_vl"])
    parser.add_argument("--mode", default="direct", choices=["cot", "direct"])
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1: stable timings on a shared machine)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    items = make_items(args.items)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "tiny", args.arch)
        rates = {}
        for batch_size in (1, args.batch_size):
            backend = TransformersBackend(
                str(model),
                device_map="cpu",
                batch_size=batch_size,
                max_new_tokens=args.new_tokens,
                generation_kwargs={"min_new_tokens": args.new_tokens},
            )
            rates[batch_size] = items_per_second(backend, items, args.mode)
    one, batched = rates[1], rates[args.batch_size]
    print(
        f"{args.arch}, {args.items} items, {args.new_tokens} new tokens, {torch.get_num_threads()} CPU threads:\n"
        f"  one at a time : {one:7.2f} items/s\n"
        f"  batch of {args.batch_size:<4d} : {batched:7.2f} items/s\n"
        f"  speed-up      : {batched / one:5.1f}x (target >= 3x)"
    )


if __name__ == "__main__":
    main()
