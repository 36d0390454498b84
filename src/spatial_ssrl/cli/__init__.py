"""`ssrl` command line: a thin layer over the library, one module per command.

Each command module exposes `add_parser(subparsers) -> ArgumentParser` and `run(args) -> int`, and imports
only argparse-level code at the top (the library is imported inside `run`), so `ssrl --help` and every
command load only what they use. A command whose parser sets `passthrough=True` receives the arguments it
does not declare in `args.rest` (the training commands hand them to TRL's parser). `--import` (on every
command that reads tasks) loads user task modules before the command runs.

User errors: a command turns the library's typed errors into `CommandError` (`raise CommandError(msg) from
exc`), printed as one line `error: ...` with exit code 2; `ssrl --debug COMMAND ...` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from spatial_ssrl import __version__
from spatial_ssrl.cli._args import CommandError

COMMANDS = (
    "generate",
    "preview",
    "tasks",
    "export",
    "lengths",
    "coldstart",
    "train",
    "tiny-model",
    "demo",
    "infer",
    "eval",
    "compare",
)
"""The commands, in the order `ssrl --help` lists them; `ssrl X` lives in `spatial_ssrl.cli.X` (dashes as _)."""


def build_parser() -> argparse.ArgumentParser:
    """The `ssrl` parser with every command registered the same way."""
    parser = argparse.ArgumentParser(prog="ssrl", description="Spatial-SSRL: verifiable spatial tasks for VLMs")
    parser.add_argument("--version", action="version", version=f"spatial-ssrl {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"spatial_ssrl.cli.{name.replace('-', '_')}")
        module.add_parser(subparsers).set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `ssrl` with `argv` (default: the process arguments); returns the exit code."""
    from spatial_ssrl.engine.loader import TaskImportError, import_task_modules  # stdlib only

    parser = build_parser()
    try:  # argparse exits on --help, --version and usage errors; return its code instead
        args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
        if rest and not getattr(args, "passthrough", False):
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    args.rest = rest
    try:
        import_task_modules(getattr(args, "import_modules", None))
        return args.run(args)
    except (CommandError, TaskImportError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
