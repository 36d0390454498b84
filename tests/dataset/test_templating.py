"""The template environment: every template compiles, HTML autoescapes and Markdown does not, missing variables
fail, and the one `table` macro writes the same cells as Markdown or HTML."""

from __future__ import annotations

import pytest
from jinja2 import ChoiceLoader, DictLoader, UndefinedError

from spatial_ssrl.dataset.templating import environment, macro, render

HEAD = ["task", "n"]
ROWS = [["a<b>|", 1], ["all", 2]]


def test_every_template_compiles_and_the_environment_is_shared():
    env = environment()
    assert env is environment()
    names = env.list_templates()
    assert {"macros.j2", "preview.html.j2", "sample_card.html.j2", "card.md.j2", "report.html.j2"} <= set(names)
    for name in names:
        env.get_template(name)


def test_markdown_table_is_plain_text():
    table = macro("macros.j2", "table")
    assert table(HEAD, ROWS, "md") == "| task | n |\n|---|---|\n| a<b>| | 1 |\n| all | 2 |"
    assert table(HEAD, ROWS, "md", total_last=True, numeric=True).splitlines()[1:] == [
        "|---|---:|",
        "| a<b>| | 1 |",
        "| **all** | 2 |",
    ]
    assert table(HEAD, [], "md") == "| task | n |\n|---|---|"


def test_html_table_escapes_its_cells():
    html = macro("macros.j2", "table")(HEAD, ROWS, "html", table_id="t", total_last=True)
    assert html.startswith("<table id='t'><thead><tr><th>task</th><th>n</th></tr></thead><tbody>")
    assert "<td>a&lt;b&gt;|</td><td>1</td>" in html
    assert "<tr class='total'><td>all</td><td>2</td></tr>" in html
    assert html.endswith("</tbody></table>")


def _page(name: str, source: str, **context) -> str:
    """Render `source` as if it were the package template `name` (its extension decides the escaping)."""
    env = environment()
    env = env.overlay(loader=ChoiceLoader([DictLoader({name: source}), env.loader]))
    return env.get_template(name).render(**context)


def test_escaping_follows_the_page_format_and_happens_once():
    source = '{% import "macros.j2" as m %}{{ m.table(head, rows, fmt) }}\n{{ text }}'
    html = _page("page.html.j2", source, head=HEAD, rows=ROWS, fmt="html", text="<i>")
    assert "<td>a&lt;b&gt;|</td>" in html and "&amp;" not in html  # the macro's markup is not escaped again
    assert html.startswith("<table>") and html.endswith("&lt;i&gt;")
    md = _page("page.md.j2", source, head=HEAD, rows=ROWS, fmt="md", text="<i>")
    assert "| a<b>| | 1 |" in md and md.endswith("<i>")


def test_preview_page_escapes_dataset_names():
    page = render("preview.html.j2", per_task=1, dataset_name="<ds>", tasks={"t<x>": []})
    assert "<code>&lt;ds&gt;</code>" in page and "<h2 id='t&lt;x&gt;'>t&lt;x&gt;</h2>" in page


def test_a_missing_variable_is_an_error():
    with pytest.raises(UndefinedError):
        render("preview.html.j2", per_task=1, tasks={})
