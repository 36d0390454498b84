"""`ssrl demo [OUT]`: the whole pipeline on bundled data with a tiny offline model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spatial_ssrl.cli._args import CommandError

# flag -> DemoConfig field; help texts and defaults are the fields' own (DemoConfig.field_help)
OVERRIDES = ("seed", "scenes", "camera_paths", "sft_epochs", "grpo_steps", "eval_limit")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `demo`; its size flags override DemoConfig fields and show their defaults."""
    from spatial_ssrl.demo.config import DemoConfig, field_help

    parser = subparsers.add_parser(
        "demo",
        help="the whole pipeline on bundled data with a tiny offline model: generate, cold-start SFT, GRPO, "
        "evaluate, report (about 7 minutes on 2 CPU cores)",
    )
    default_out = DemoConfig.__dataclass_fields__["out_dir"].default
    parser.add_argument("out", nargs="?", default=default_out, help=f"output folder (default {default_out})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the same stages in well under a minute")
    parser.add_argument("--restart", action="store_true", help="discard a previous demo run in OUT and start over")
    for name in OVERRIDES:
        kind = DemoConfig.__dataclass_fields__[name].type
        value_type = float if "float" in str(kind) else int
        parser.add_argument(f"--{name.replace('_', '-')}", type=value_type, default=None, help=field_help(name))
    return parser


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the demo and print the comparison table."""
    from spatial_ssrl.demo.config import config_from_args
    from spatial_ssrl.demo.pipeline import DemoError, run_demo
    from spatial_ssrl.demo.report import comparison_markdown

    config = config_from_args(args.out, quick=args.quick, **{n: getattr(args, n) for n in OVERRIDES})
    try:
        report = run_demo(config, restart=args.restart)
    except DemoError as exc:
        raise CommandError(str(exc)) from exc
    except KeyboardInterrupt:
        print(f"\ninterrupted: rerun the same command to resume ({config.out_dir}/demo.json keeps finished stages)")
        return 130
    print("\n" + comparison_markdown(report) + "\n", file=sys.stdout)
    print(f"report: {Path(config.out_dir) / 'report.html'} (also report.md, report.json)")
    return 0
