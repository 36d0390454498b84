"""Helpers the command modules share: `--import`, flags generated from config dataclasses, value parsers."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any


class CommandError(Exception):
    """A user error a command reports as one line (`error: ...`, exit code 2)."""


def add_import_argument(parser: argparse.ArgumentParser) -> None:
    """`--import MODULE_OR_FILE` (repeatable): modules registering extra tasks, imported before the command runs."""
    parser.add_argument(
        "--import",
        dest="import_modules",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import a module (dotted name or .py file) that registers extra tasks; repeat for several",
    )


def pairs(text: str) -> dict[str, float]:
    """Parse "a=1,b=2" into {"a": 1.0, "b": 2.0} (argparse type)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected name=weight pairs, got {part!r}") from None
    return out


def comma_list(text: str) -> list[str]:
    """Parse "a,b" into ["a", "b"] (argparse type)."""
    return [p.strip() for p in text.split(",") if p.strip()]


_PARSERS = {"pairs": pairs, "list": comma_list}


def _scalar_type(annotation: Any) -> Any:
    """int / float / str for `int`, `int | None`, ... (the field types a flag can carry)."""
    if isinstance(annotation, (types.UnionType,)) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation if annotation in (int, float, str) else str


def add_config_arguments(parser: argparse.ArgumentParser, config_cls: type) -> list[str]:
    """Add a `--flag` for every field of `config_cls` whose metadata names one (`metadata["flag"]`), with the
    field's help text, type, choices and default, so each default is written once, in the dataclass.
    Returns the names of the fields added (their values land under the field name in the namespace)."""
    hints = typing.get_type_hints(config_cls)
    added = []
    for f in dataclasses.fields(config_cls):
        flag = f.metadata.get("flag")
        if not flag:
            continue
        # a factory default (a list or dict) is left to the dataclass: None here means "not given"
        default = None if f.default is dataclasses.MISSING else f.default
        metavar = flag.lstrip("-").upper().replace("-", "_")
        kwargs: dict[str, Any] = {
            "dest": f.name,
            "default": default,
            "help": f.metadata.get("help", ""),
            "metavar": metavar,
        }
        kwargs["type"] = _PARSERS[f.metadata["parse"]] if "parse" in f.metadata else _scalar_type(hints[f.name])
        if "choices" in f.metadata:
            kwargs["choices"] = f.metadata["choices"]
        if "choices" in f.metadata:
            kwargs.pop("metavar")
        shown = f.default_factory() if f.metadata.get("show_default") else default  # a factory without side effects
        if isinstance(shown, dict):
            shown = ",".join(f"{k}={v:g}" for k, v in shown.items())
        if shown is not None and not isinstance(shown, bool):
            kwargs["help"] += f" (default: {shown})"
        parser.add_argument(flag, **kwargs)
        added.append(f.name)
    return added


def config_values(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """The values of the generated flags that were given or have a plain default (None = the field's factory)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}
