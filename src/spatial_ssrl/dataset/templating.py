"""The package's Jinja2 templates (spatial_ssrl/templates): the preview gallery, the dataset card, the demo report.

    render("card.md.j2", stats=stats, ...)              # a whole page
    macro("macros.j2", "table")(head, rows, "md")       # one macro, called from Python

HTML templates (`*.html.j2`) autoescape, so text a dataset provides cannot inject markup; Markdown, CSS and
macro files do not (macros.j2's `table` turns escaping on itself when it writes HTML).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@functools.cache
def environment() -> Environment:
    """The template environment, built once: a missing variable is an error (StrictUndefined), block tags
    leave no blank lines (trim_blocks, lstrip_blocks) and a template's final newline is kept."""
    return Environment(
        loader=PackageLoader("spatial_ssrl", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> str:
    """The template `name` (relative to spatial_ssrl/templates) rendered with `context`."""
    return environment().get_template(name).render(**context)


def macro(template: str, name: str) -> Callable[..., str]:
    """The macro `name` of `template`, callable from Python with the arguments it takes in a template."""
    return getattr(environment().get_template(template).module, name)
