"""`ssrl` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spatial_ssrl import __version__


def _pairs(text: str, what: str) -> dict[str, float]:
    """Parse "a=1,b=2" into {"a": 1.0, "b": 2.0}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise SystemExit(f"--{what}: expected name=weight pairs, got {part!r}")
        out[key.strip()] = float(value)
    return out


def _cmd_generate(args: argparse.Namespace) -> int:
    from spatial_ssrl.builder import BuildConfig, build
    from spatial_ssrl.inputs import bundled_photos, discover, synthetic
    from spatial_ssrl.registry import list_tasks

    sources = [ref for spec in args.inputs for ref in discover(spec)] if args.inputs else bundled_photos()
    n_synthetic = args.synthetic if args.synthetic is not None else (0 if args.inputs else 4)
    sources += synthetic(n_synthetic)
    config = BuildConfig(
        out_dir=Path(args.out),
        seed=args.seed,
        total=args.total,
        samples_per_task=args.per_task,
        tasks=args.tasks.split(",") if args.tasks else list_tasks(),
        image_format=args.format,
        workers=args.workers,
        engine=args.engine,
        samples_per_shard=args.shard_size,
        max_side=args.max_side,
    )
    if args.mix:
        config.task_mix = _pairs(args.mix, "mix")
    if args.splits:
        config.splits = _pairs(args.splits, "splits")
    stats = build(config, sources)
    keys = ("samples", "per_task", "per_split", "shortfall", "rejections", "seconds", "samples_per_second")
    print(json.dumps({k: stats[k] for k in keys}, indent=2))
    print(f"wrote {Path(args.out) / 'data'}, README.md, stats.json and preview.html")
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from spatial_ssrl.preview import write_preview

    src = Path(args.dataset)
    out = Path(args.out) if args.out else (src if src.is_dir() else src.parent) / "preview.html"
    print(write_preview(src, out))
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    from spatial_ssrl.registry import get_task, list_tasks

    for name in list_tasks():
        spec = get_task(name)
        depth = " (needs depth)" if spec.needs_depth else ""
        print(f"{name:12s} {spec.answer_type:16s} variants={list(spec.variants)}{depth}\n    {spec.description}")
    return 0


def _cmd_tiny_model(args: argparse.Namespace) -> int:
    from spatial_ssrl.train.tiny import build_tiny_model

    out = build_tiny_model(args.out, args.arch, hidden=args.hidden, layers=args.layers, seed=args.seed)
    print((out / "spatial_ssrl_tiny.json").read_text())
    print(f"wrote {out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from spatial_ssrl.demo.pipeline import DemoError, config_from_args, run_demo
    from spatial_ssrl.demo.report import comparison_markdown

    config = config_from_args(
        args.out,
        quick=args.quick,
        seed=args.seed,
        scenes=args.scenes,
        sft_epochs=args.sft_epochs,
        grpo_steps=args.grpo_steps,
        eval_limit=args.eval_limit,
    )
    try:
        report = run_demo(config, restart=args.restart)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: rerun the same command to resume ({config.out_dir}/demo.json keeps finished stages)")
        return 130
    print("\n" + comparison_markdown(report) + "\n")
    print(f"report: {Path(config.out_dir) / 'report.html'} (also report.md, report.json)")
    return 0


TRAIN_HELP = """usage: ssrl train {sft,grpo,merge} ...

  ssrl train sft   --config configs/sft/tiny-cpu.yaml  [--key value ...]   supervised cold start (TRL SFTTrainer)
  ssrl train grpo  --config configs/grpo/tiny-cpu.yaml [--key value ...]   GRPO with the task rewards (TRL GRPOTrainer)
  ssrl train merge ADAPTER_DIR OUT_DIR                                     merge a LoRA into a full model folder

`ssrl train sft --help` lists every option (ours, TRL's config and ModelConfig); docs/training.md has recipes."""


def _train(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(TRAIN_HELP)
        return 0 if argv else 2
    sub, rest = argv[0], argv[1:]
    if sub == "sft":
        from spatial_ssrl.train.sft import main as sft_main

        return sft_main(rest, prog="ssrl train sft")
    if sub == "grpo":
        from spatial_ssrl.train.grpo import main as grpo_main

        return grpo_main(rest, prog="ssrl train grpo")
    if sub == "merge":
        from spatial_ssrl.train.merge import main as merge_main

        return merge_main(rest, prog="ssrl train merge")
    print(f"ssrl train: unknown command {sub!r}\n\n{TRAIN_HELP}", file=sys.stderr)
    return 2


def _delegate(name: str, argv: list[str]) -> int:
    if name == "train":
        return _train(argv)
    if name == "export":
        from spatial_ssrl.export import main as export_main

        return export_main(argv, prog="ssrl export")
    from spatial_ssrl.coldstart import main as coldstart_main

    return coldstart_main(argv, prog="ssrl coldstart")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssrl", description="Spatial-SSRL: verifiable spatial tasks for VLMs")
    parser.add_argument("--version", action="version", version=f"spatial-ssrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate a dataset (bundled photos + synthetic RGB-D scenes by default)")
    gen.add_argument("out", help="output folder")
    gen.add_argument(
        "--inputs",
        nargs="*",
        default=None,
        help="sources: photos:DIR, diode:DIR, megadepth:DIR, manifest:FILE[@ROOT], synthetic:N[xWxH], bundled, "
        "or a plain file/folder of photos (default: bundled photos + 4 synthetic scenes)",
    )
    gen.add_argument(
        "--synthetic",
        type=int,
        default=None,
        help="number of synthetic RGB-D scenes (default: 4 without --inputs, else 0)",
    )
    gen.add_argument("--total", type=int, default=None, help="total samples over all tasks (default: per-source)")
    gen.add_argument("--per-task", type=int, default=2, help="samples per source and task when --total is not given")
    gen.add_argument("--mix", default="", help="task weights for --total, e.g. shuffle=1,flip=1 (default: paper)")
    gen.add_argument("--splits", default="", help="split fractions, default train=0.98,validation=0.01,test=0.01")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--tasks", default="", help="comma-separated task names (default: all registered)")
    gen.add_argument("--format", choices=["jpeg", "png"], default="jpeg", help="encoding of output images")
    gen.add_argument("--workers", type=int, default=1, help="worker processes (output is identical for any number)")
    gen.add_argument("--engine", choices=["local", "ray"], default="local", help="ray: run shards on a Ray cluster")
    gen.add_argument("--shard-size", type=int, default=256, help="planned samples per shard")
    gen.add_argument("--max-side", type=int, default=None, help="downscale sources whose long side exceeds this")
    gen.set_defaults(func=_cmd_generate)

    prev = sub.add_parser("preview", help="write an HTML gallery of a generated dataset")
    prev.add_argument("dataset", help="dataset folder or parquet file")
    prev.add_argument("--out", default=None)
    prev.set_defaults(func=_cmd_preview)

    # export and coldstart own their arguments (their modules also run as `python -m ...`).
    for name, help_text in [
        ("export", "write a dataset for EasyR1, verl, TRL, LLaMA-Factory or VLMEvalKit (DATASET FORMAT OUT)"),
        ("coldstart", "write the cold-start SFT set with construction-based responses (DATASET OUT)"),
        ("train", "train a model: sft (cold start), grpo, merge (LoRA -> full model); see docs/training.md"),
    ]:
        delegated = sub.add_parser(name, help=help_text, add_help=False)
        delegated.add_argument("rest", nargs=argparse.REMAINDER)
        delegated.set_defaults(func=lambda args, name=name: _delegate(name, args.rest))

    tiny = sub.add_parser("tiny-model", help="build a tiny random Qwen2.5-VL / Qwen3-VL model folder (offline)")
    tiny.add_argument("out", help="output folder")
    tiny.add_argument("--arch", choices=["qwen2_5_vl", "qwen3_vl"], default="qwen2_5_vl")
    tiny.add_argument("--hidden", type=int, default=64, help="hidden size of the language model")
    tiny.add_argument("--layers", type=int, default=2, help="language model layers")
    tiny.add_argument("--seed", type=int, default=0)
    tiny.set_defaults(func=_cmd_tiny_model)

    demo = sub.add_parser(
        "demo",
        help="the whole pipeline on bundled data with a tiny offline model: generate, cold-start SFT, GRPO, "
        "evaluate, report (about 4 minutes on 2 CPU cores)",
    )
    demo.add_argument("out", nargs="?", default="outputs/demo", help="output folder (default outputs/demo)")
    demo.add_argument("--quick", action="store_true", help="tiny sizes: the same stages in well under a minute")
    demo.add_argument("--restart", action="store_true", help="discard a previous demo run in OUT and start over")
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument("--scenes", type=int, default=None, help="synthetic RGB-D scenes (default 40)")
    demo.add_argument("--sft-epochs", type=float, default=None, help="cold-start epochs (default 5)")
    demo.add_argument("--grpo-steps", type=int, default=None, help="GRPO steps (default 60)")
    demo.add_argument("--eval-limit", type=int, default=None, help="evaluate on the first N test items only")
    demo.set_defaults(func=_cmd_demo)

    tasks = sub.add_parser("tasks", help="list registered tasks")
    tasks.set_defaults(func=_cmd_tasks)

    from spatial_ssrl.evaluate.commands import add_commands as add_evaluation_commands

    add_evaluation_commands(sub)  # infer, eval, compare
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("export", "coldstart", "train"):  # their own parsers, so `--help` reaches them
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
