"""`ssrl infer`, `ssrl eval` and `ssrl compare`: argument parsing only; the work is in the library.

Registered on the main parser by `spatial_ssrl.cli` with `add_commands(subparsers)`. Heavy imports
(torch, transformers) happen inside the handlers, so `ssrl --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DTYPES = ("auto", "float32", "bfloat16", "float16")
DEFAULT_MAX_NEW_TOKENS = {"cot": 2048, "direct": 128}  # reasoning needs room; a bare answer does not


def _device_map(device: str) -> str | None:
    return None if device == "cpu" else device  # None: plain load on the CPU, no accelerate placement


def _max_new_tokens(args: argparse.Namespace) -> int:
    return args.max_new_tokens or DEFAULT_MAX_NEW_TOKENS[args.mode]


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode", choices=["cot", "direct"], default="cot", help="cot: think + boxed answer; direct: bare answer"
    )
    p.add_argument("--device", default="auto", help="cpu, auto (all visible GPUs, else CPU), or cuda / cuda:N")
    p.add_argument("--dtype", choices=DTYPES, default="auto", help="auto = the checkpoint's dtype")
    p.add_argument("--max-new-tokens", type=int, default=None, help="default 2048 (cot) / 128 (direct)")
    p.add_argument("--max-pixels", type=int, default=None, help="cap image pixels in the processor (Qwen-VL)")
    p.add_argument("--frames", type=int, default=16, help="frames sampled uniformly from a video")


def _cmd_infer(args: argparse.Namespace) -> int:
    from spatial_ssrl.evaluate.backends import TransformersBackend
    from spatial_ssrl.evaluate.items import EvalItem
    from spatial_ssrl.rewards.match import answer_text

    for path in args.image:
        if not Path(path).is_file():
            raise SystemExit(f"--image: {path} does not exist")
    item = EvalItem(
        benchmark="infer",
        id="0",
        question=args.question,
        kind="open",
        images=list(args.image),
        video=args.video,
        num_frames=args.frames,
    )
    backend = TransformersBackend(
        args.model,
        device_map=_device_map(args.device),
        dtype=args.dtype,
        batch_size=1,
        max_new_tokens=_max_new_tokens(args),
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


def _cmd_eval(args: argparse.Namespace) -> int:
    from spatial_ssrl.evaluate.backends import OpenAIBackend, TransformersBackend
    from spatial_ssrl.evaluate.readers import load_benchmark
    from spatial_ssrl.evaluate.runner import evaluate, pct

    benchmarks = [
        load_benchmark(spec, data_root=args.data_root, num_frames=args.frames, seed=args.seed, limit=args.limit)
        for spec in args.bench
    ]
    if args.backend == "openai":
        if not args.base_url or not (args.served_model or args.model):
            raise SystemExit("--backend openai needs --base-url and --served-model (or --model)")
        backend = OpenAIBackend(
            args.base_url,
            args.served_model or args.model,
            api_key=args.api_key or os.environ.get("OPENAI_API_KEY"),
            max_workers=args.workers,
            max_new_tokens=_max_new_tokens(args),
            temperature=args.temperature,
        )
    else:
        if not args.model:
            raise SystemExit("--model is required with the transformers backend")
        backend = TransformersBackend(
            args.model,
            device_map=_device_map(args.device),
            dtype=args.dtype,
            batch_size=args.batch_size,
            max_new_tokens=_max_new_tokens(args),
            max_pixels=args.max_pixels,
        )
    results = evaluate(benchmarks, backend, args.out, mode=args.mode, progress=not args.quiet)
    for bench in benchmarks:
        s = results["benchmarks"][bench.name]
        print(f"{bench.name:24s} n={s['n']:<6d} score={pct(s['score'])}  format={pct(s['format_rate'])}")
    print(f"wrote {Path(args.out) / 'results.json'} and results.md")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from spatial_ssrl.evaluate.report import compare

    names = [n.strip() for n in args.names.split(",")] if args.names else None
    print(compare(args.runs, names=names, out_dir=args.out))
    if args.out:
        print(f"wrote {Path(args.out) / 'compare.md'}, compare.json and compare.png")
    return 0


def add_commands(sub) -> None:
    """Add infer / eval / compare to the `ssrl` subparsers."""
    inf = sub.add_parser("infer", help="answer a question about image(s) with a model (hub id or local folder)")
    inf.add_argument("--model", required=True, help="hub id or local checkpoint folder")
    inf.add_argument("--image", action="append", default=[], help="an image file (repeat for several, in order)")
    inf.add_argument("--video", default=None, help="a video file (frames sampled uniformly)")
    inf.add_argument("--question", required=True)
    inf.add_argument("--json", action="store_true", help="print {response, answer} as JSON")
    _add_model_args(inf)
    inf.set_defaults(func=_cmd_infer)

    ev = sub.add_parser("eval", help="evaluate a model on benchmarks (cached per item, resumable)")
    ev.add_argument("--model", default=None, help="hub id or local checkpoint folder (transformers backend)")
    ev.add_argument(
        "--bench",
        action="append",
        required=True,
        help="pretext:DATASET_DIR[:split], tsv:FILE[:name], viewspatial:FILE, whatsup:FILE, vsibench:FILE (repeat)",
    )
    ev.add_argument("--out", required=True, help="run folder: predictions cache and results")
    ev.add_argument("--batch-size", type=int, default=8)
    ev.add_argument("--limit", type=int, default=None, help="only the first N items of each benchmark")
    ev.add_argument("--data-root", default=None, help="folder that image/video paths in JSON benchmarks are under")
    ev.add_argument("--seed", type=int, default=0, help="option order of What'sUp")
    ev.add_argument("--backend", choices=["transformers", "openai"], default="transformers")
    ev.add_argument("--base-url", default=None, help="OpenAI-compatible server, e.g. http://localhost:8000/v1")
    ev.add_argument("--served-model", default=None, help="model name on the server")
    ev.add_argument("--api-key", default=None, help="default: $OPENAI_API_KEY")
    ev.add_argument("--workers", type=int, default=8, help="concurrent HTTP requests (openai backend)")
    ev.add_argument("--temperature", type=float, default=0.0, help="openai backend (0 = greedy)")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model_args(ev)
    ev.set_defaults(func=_cmd_eval)

    cmp_ = sub.add_parser("compare", help="put several eval runs side by side (Markdown, JSON, PNG)")
    cmp_.add_argument("runs", nargs="+", help="run folders written by ssrl eval (the first is the baseline)")
    cmp_.add_argument("--out", default=None, help="write compare.md, compare.json, compare.png here")
    cmp_.add_argument("--names", default=None, help="comma-separated display names, in run order")
    cmp_.set_defaults(func=_cmd_compare)


if __name__ == "__main__":  # python -m spatial_ssrl.evaluate.commands ...
    parser = argparse.ArgumentParser(prog="ssrl")
    add_commands(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args()
    sys.exit(ns.func(ns))
