"""Spatial457 as VLMEvalKit scores it (official) and as the Spatial-SSRL authors' copy does (paper):
conformance tables, the prompt with its allowed-answer list, the TSV layout and the per-level breakdown.

"VK" = open-compass/VLMEvalKit vlmeval/dataset/spatial457.py + dataset/utils/spatial457.py @ e8e78f05;
"SSRL" = InternLM/Spatial-SSRL evaluation/Remaining_Bench_eval/vlmeval/dataset/spatial457.py @ b313fedf.
"""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.benchmarks import spatial457 as sp
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.readers import read_tsv
from tests.fixtures.benchmark_files import write_spatial457_tsv


def item(answer: str, level: str = "L1_single", id: str = "0") -> EvalItem:
    return EvalItem(
        benchmark="Spatial457", id=id, question="How many buses are there?", answer=answer, kind="text", category=level
    )


# (reference answer, response) -> official score. The same table holds for the paper protocol (SSRL changed
# only the prompt).
CONFORMANCE = [
    # VK evaluate: the JSON template's answer (Answer': '...', then Answer": "...", then Answer': <digit>).
    ("2", "{'Reasoning': 'two buses', 'Answer': '2'}", 1),
    ("2", '{"Reasoning": "two buses", "Answer": "2"}', 1),
    ("2", "{'Reasoning': 'x', 'Answer': 2}", 1),
    ("2", "{'Reasoning': 'x', 'Answer': 25}", 1),  # one digit only: "2"
    ("2", "{\"Answer\": \"2\"} {'Answer': '3'}", 0),  # Answer': '...' is tried first
    ("2", "{'Answer': '2\n'}", 0),  # no quote before the newline: no JSON answer, the whole reply is compared
    # ROBUST: no JSON answer -> the whole reply is the answer, compared raw (no stripping, no box reading).
    ("2", "2", 1),
    ("2", " 2", 0),
    ("2", "2.", 0),
    ("2", "The answer is 2", 0),
    ("2", "<think>I count two.</think> \\boxed{2}", 0),
    # is_correct equivalences: case, number words, "0" = "No", "none" = "no", a digit 1-9 for "yes".
    ("red", "Red", 1),
    ("Red", "{'Answer': 'red'}", 1),
    ("red", "red\n", 0),
    ("2", "two", 1),
    ("2", "{'Answer': 'Two'}", 1),
    ("10", "ten", 1),
    ("3", "three buses", 0),
    ("No", "0", 1),
    ("No", "{'Answer': '0'}", 1),
    ("no", "0", 0),  # "0" = "No" only for the capitalised reference
    ("no", "none", 1),
    ("no", "{'Answer': 'None'}", 1),
    ("no", "None", 0),  # a bare "None" is pandas' NaN after the xlsx round trip: "nan"
    ("Yes", "3", 1),
    ("yes", "{'Answer': '9'}", 1),
    ("Yes", "10", 0),
    ("Yes", "0", 0),
    ("Yes", "yes", 1),
    # category_correct: first words in one shape family (jet/aeroplane = airliner, school bus = double bus, ...).
    ("airliner", "jet", 1),
    ("airliner", "Jet", 1),
    ("airliner", "{'Answer': 'fighter jet'}", 1),
    ("airliner", "aeroplane", 1),
    ("double bus", "school bus", 1),
    ("double bus", "bus", 1),
    ("sedan", "truck", 1),
    ("mountain bike", "road bike", 1),
    ("dirtbike", "scooter", 1),
    ("airliner", "Jet or fighter", 1),  # VK credits a reply whose first word is a same-family shape
    ("airliner", "sedan", 0),
    ("airliner", "jet.", 0),
    ("school bus", "bicycle", 0),
    ("small", "Small", 1),
    ("left", "{'Reasoning': 'it faces left', 'Answer': 'Left'}", 1),
    ("left", "{'Reasoning': 'it faces left', 'Answer': 'right'}", 0),
]


@pytest.mark.parametrize("protocol", ["official", "paper"])
@pytest.mark.parametrize(("answer", "response", "expected"), CONFORMANCE)
def test_conformance(protocol, answer, response, expected):
    assert sp.score(item(answer), response, ScoringContext(protocol=protocol))["score"] == expected


def test_format_error_and_pred():
    ok = sp.score(item("2"), "{'Reasoning': 'r', 'Answer': '2'}", ScoringContext())
    assert ok["format_error"] == 0 and ok["pred"] == "2" and ok["level"] == "L1_single"
    robust = sp.score(item("2"), "x" * 1000, ScoringContext())
    assert robust["format_error"] == 1 and robust["pred"] == "x" * sp.MAX_PRED_CHARS
    assert sp.score(item("2"), "<think>count</think> \\boxed{2}", ScoringContext())["format"] == 1


def test_the_prediction_is_cut_where_the_xlsx_cell_ends():
    answer = "{'Answer': '2'}"
    fits = "x" * (sp.XLSX_CELL_CHARS - len(answer)) + answer
    assert sp.score(item("2"), fits, ScoringContext())["score"] == 1
    assert sp.score(item("2"), "xx" + fits, ScoringContext())["score"] == 0  # the closing quote is cut off


def test_prompt_lists_the_allowed_answers_and_the_json_template():
    text = sp.question(item("2", "L4_pose"), "official")
    assert text.startswith("You are an intelligent chatbot designed to answer questions based on an image.")
    assert (
        "their facing direction in 3D space from the camera view, and then determine the answer to the question.\n"
        "How many buses are there?First, you should identify" in text
    )
    assert "following options: Small, Large, Airliner, Dirtbike, Road bike, Tandem bike, Suv, Wagon," in text
    assert (
        "Utility bike, Regular bus, Biplane, Gray, Blue, Purple, Brown, Green, Cyan, Red, Yellow, Left, Right, "
        "Front, Back, or (2) an integer [0-10]" in text
    )
    assert text.endswith(
        "\n\nWrite your response into this json template: {'Reasoning': '<your reasons>', 'Answer': '<Your answer>'}"
    )
    paper = sp.question(item("2", "L4_pose"), "paper")
    assert paper == text[: -len(sp.JSON_TEMPLATE)] and paper.endswith("fits the question.\n\n")
    assert sp.question(item("2", "L9_unknown"), "official").startswith("How many buses are there?First")
    assert all(level in sp.LEVEL_INSTRUCTIONS for level in sp.LEVELS)


def test_tsv_is_read_and_selected_by_name(tmp_path):
    bench = read_tsv(write_spatial457_tsv(tmp_path))
    rules = rules_for(bench.rules or bench.name)
    assert rules.name == "Spatial457" and rules_for("spatial457").name == "Spatial457"
    replies = ["{'Answer': '4'}", "{'Answer': 'two'}", "{'Answer': 'jet'}"]
    got = [rules.score(it, r, ScoringContext())["score"] for it, r in zip(bench.items, replies)]
    assert got == [1.0, 1.0, 1.0]


def test_summary_is_correct_over_total_with_seven_levels():
    items = [item("2", "L1_single", "0"), item("2", "L1_single", "1"), item("No", "L4_occ", "2"), item("x", "L9", "3")]
    replies = ["{'Answer': '2'}", "3", "0", "x"]
    records = []
    for it, reply in zip(items, replies):
        out = sp.score(it, reply, ScoringContext())
        records.append(
            {
                "id": it.id,
                "category": it.category,
                "subcategory": "",
                "kind": "text",
                "answer": it.answer,
                "missing": False,
                **out,
            }
        )
    summary = sp.summarize(items, records, "official")
    assert summary["score"] == 0.75 and summary["accuracy"] == 0.75 and summary["format_error"] == 3
    table = summary["breakdowns"]["level"]
    assert list(table)[:7] == list(sp.LEVELS)
    assert table["L1_single"] == {"n": 2, "score": 0.5} and table["L4_occ"] == {"n": 1, "score": 1.0}
    assert table["L5_collision"] == {"n": 0, "score": 0.0} and table["L9"] == {"n": 1, "score": 1.0}
    official = summary["official_scores"]
    assert (official["correct"], official["total"], official["L1_single_score"]) == (3.0, 4, 0.5)
