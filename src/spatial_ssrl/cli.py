"""`ssrl` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spatial_ssrl import __version__


def _cmd_generate(args: argparse.Namespace) -> int:
    from spatial_ssrl.builder import BuildConfig, build
    from spatial_ssrl.inputs import bundled_photos, photo_files, synthetic

    sources = photo_files(args.inputs) if args.inputs else bundled_photos()
    n_synthetic = args.synthetic if args.synthetic is not None else (0 if args.inputs else 4)
    sources += synthetic(n_synthetic)
    from spatial_ssrl.registry import list_tasks

    config = BuildConfig(
        out_dir=Path(args.out),
        seed=args.seed,
        samples_per_task=args.per_task,
        tasks=args.tasks.split(",") if args.tasks else list_tasks(),
        image_format=args.format,
    )
    stats = build(config, sources)
    print(json.dumps({k: stats[k] for k in ("samples", "per_task", "rejections", "seconds")}, indent=2))
    print(f"wrote {Path(args.out) / 'data' / 'train.parquet'} and {Path(args.out) / 'preview.html'}")
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from spatial_ssrl.preview import write_preview

    src = Path(args.dataset)
    parquet = src / "data" / "train.parquet" if src.is_dir() else src
    out = Path(args.out) if args.out else parquet.parent.parent / "preview.html"
    print(write_preview(parquet, out))
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    from spatial_ssrl.registry import get_task, list_tasks

    for name in list_tasks():
        spec = get_task(name)
        depth = " (needs depth)" if spec.needs_depth else ""
        print(f"{name:12s} {spec.answer_type:16s} variants={list(spec.variants)}{depth}\n    {spec.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssrl", description="Spatial-SSRL: verifiable spatial tasks for VLMs")
    parser.add_argument("--version", action="version", version=f"spatial-ssrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate a dataset (bundled photos + synthetic RGB-D scenes by default)")
    gen.add_argument("out", help="output folder")
    gen.add_argument("--inputs", nargs="*", default=None, help="photo files or folders (recursive)")
    gen.add_argument(
        "--synthetic",
        type=int,
        default=None,
        help="number of synthetic RGB-D scenes (default: 4 without --inputs, else 0)",
    )
    gen.add_argument("--per-task", type=int, default=2, help="accepted samples per source and task")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--tasks", default="", help="comma-separated task names (default: all registered)")
    gen.add_argument("--format", choices=["jpeg", "png"], default="jpeg", help="encoding of output images")
    gen.set_defaults(func=_cmd_generate)

    prev = sub.add_parser("preview", help="write an HTML gallery of a generated dataset")
    prev.add_argument("dataset", help="dataset folder or parquet file")
    prev.add_argument("--out", default=None)
    prev.set_defaults(func=_cmd_preview)

    tasks = sub.add_parser("tasks", help="list registered tasks")
    tasks.set_defaults(func=_cmd_tasks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
