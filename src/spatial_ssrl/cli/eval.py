"""`ssrl eval`: evaluate a model on benchmarks (cached per item, resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from spatial_ssrl.cli._args import CommandError, add_import_argument
from spatial_ssrl.cli._model_args import add_model_arguments


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `eval`."""
    parser = subparsers.add_parser("eval", help="evaluate a model on benchmarks (cached per item, resumable)")
    parser.add_argument("--model", default=None, help="hub id or local checkpoint folder (transformers backend)")
    parser.add_argument(
        "--bench",
        action="append",
        required=True,
        help="pretext:DATASET_DIR[:split], tsv:FILE[:name], viewspatial:FILE, whatsup:FILE, vsibench:FILE (repeat)",
    )
    parser.add_argument("--out", required=True, help="run folder: predictions cache and results")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of each benchmark")
    parser.add_argument("--data-root", default=None, help="folder that image/video paths in JSON benchmarks are under")
    parser.add_argument("--seed", type=int, default=0, help="option order of What'sUp")
    parser.add_argument("--backend", choices=["transformers", "openai"], default="transformers")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server, e.g. http://localhost:8000/v1")
    parser.add_argument("--served-model", default=None, help="model name on the server")
    parser.add_argument("--api-key", default=None, help="default: $OPENAI_API_KEY")
    parser.add_argument("--workers", type=int, default=8, help="concurrent HTTP requests (openai backend)")
    parser.add_argument("--temperature", type=float, default=0.0, help="openai backend (0 = greedy)")
    parser.add_argument(
        "--protocol",
        choices=["official", "paper"],
        default="official",
        help="official: each benchmark's own harness and scorer; paper: the Spatial-SSRL authors' settings "
        "(docs/evaluation.md lists the differences)",
    )
    parser.add_argument(
        "--prompt-template",
        default=None,
        metavar="NAME|FILE",
        help="what follows the question: project, spatial-ssrl (the released checkpoints' format prompt), harness "
        "(nothing), or a UTF-8 file with {question} (default: harness in direct mode; in cot mode project "
        "for official, spatial-ssrl for paper)",
    )
    parser.add_argument("--judge-url", default=None, help="OpenAI-compatible server of an LLM judge (off by default)")
    parser.add_argument("--judge-model", default=None, help="the judge's model name on that server")
    parser.add_argument("--judge-api-key", default=None, help="default: $OPENAI_API_KEY")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_arguments(parser)
    add_import_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Load the benchmarks, make the backend, evaluate, print one line per benchmark.

    Raises:
        CommandError: a benchmark that is missing or cannot be read, backend options that do not fit,
            an output folder holding another run's predictions, or a path that would leave it.
    """
    from spatial_ssrl.dataset.paths import UnsafePath
    from spatial_ssrl.evaluate.backends import BackendSetupError, make_backend
    from spatial_ssrl.evaluate.items import BenchmarkFormatError
    from spatial_ssrl.evaluate.judge import make_judge
    from spatial_ssrl.evaluate.load import load_benchmark
    from spatial_ssrl.evaluate.prompts import PromptTemplateError
    from spatial_ssrl.evaluate.runner import RunMismatch, evaluate
    from spatial_ssrl.evaluate.runner import percent_text as percent

    try:
        benchmarks = [
            load_benchmark(spec, data_root=args.data_root, num_frames=args.frames, seed=args.seed, limit=args.limit)
            for spec in args.bench
        ]
    except (BenchmarkFormatError, OSError, ValueError) as exc:  # missing, unreadable, malformed, a bad spec
        raise CommandError(str(exc)) from exc
    try:
        backend = make_backend(
            args.backend,
            model=args.model,
            mode=args.mode,
            max_new_tokens=args.max_new_tokens,
            device=args.device,
            dtype=args.dtype,
            batch_size=args.batch_size,
            max_pixels=args.max_pixels,
            base_url=args.base_url,
            served_model=args.served_model,
            api_key=args.api_key,
            workers=args.workers,
            temperature=args.temperature,
        )
        judge = make_judge(args.judge_url, args.judge_model, args.judge_api_key)
    except (BackendSetupError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    try:
        results = evaluate(
            benchmarks,
            backend,
            args.out,
            mode=args.mode,
            progress=not args.quiet,
            protocol=args.protocol,
            prompt_template=args.prompt_template,
            judge=judge,
            judge_info=judge.describe() if judge else None,
        )
    except (RunMismatch, BenchmarkFormatError, BackendSetupError, UnsafePath, PromptTemplateError) as exc:
        raise CommandError(str(exc)) from exc
    for bench in benchmarks:
        s = results["benchmarks"][bench.name]
        print(
            f"{bench.name:24s} n={s['n']:<6d} score={percent(s['score'])}  format={percent(s['format_rate'])}"
            f"  ({s.get('protocol', '?')}: {s.get('headline') or 'accuracy'})"
        )
        for path in s.get("files", []):
            print(f"  wrote {path}")
    print(f"wrote {Path(args.out) / 'results.json'} and results.md")
    return 0
