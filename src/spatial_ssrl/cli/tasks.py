"""`ssrl tasks`: list the registered tasks."""

from __future__ import annotations

import argparse

from spatial_ssrl.cli._args import add_import_argument


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `tasks`."""
    parser = subparsers.add_parser("tasks", help="list registered tasks")
    add_import_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print each task: answer type, variants, video and depth needs, cold-start template, description."""
    import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks)
    from spatial_ssrl.engine.registry import get_task, list_tasks

    for name in list_tasks():
        spec = get_task(name)
        notes = [
            " (video)" if spec.needs_video else "",
            " (needs depth)" if spec.needs_depth else "",
            "" if spec.coldstart else " (no cold-start template)",
        ]
        print(
            f"{name:12s} {spec.answer_type:16s} variants={list(spec.variants)}{''.join(notes)}\n    {spec.description}"
        )
    return 0
