"""BLINK (evaluate/benchmarks/blink.py): VLMEvalKit's ImageMCQDataset rules on a multi-image TSV.
Expected values follow VLMEvalKit @ e8e78f05 (matching_util.can_infer, multiple_choice.build_prompt_blink,
report_acc) and the authors' copy @ b313fedf for the paper protocol."""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import score_benchmark
from tests.fixtures.benchmarks import b64, image_bytes, write_tsv
from tests.fixtures.vlmevalkit_files import circular_rows, mcq_row, py_list

COLS = ["index", "question", "A", "B", "C", "D", "answer", "category", "image"]
POINTS = {"A": "Point A", "B": "Point B"}
SIDES = {"A": "left", "B": "right"}


def _blink(tmp_path, name="BLINK"):
    rows = [
        mcq_row(1, "Which point is closer to the camera?", POINTS, "B", category="Relative_Depth"),
        mcq_row(2, "Which way did the camera move?", SIDES, "A", category="Multi-view_Reasoning"),
        mcq_row(3, "Which point is closer to the camera?", POINTS, "A", category="Relative_Depth"),
    ]
    rows[1]["image"] = py_list([b64(image_bytes(20)), b64(image_bytes(21))])  # two images, as pandas writes them
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / f'{name}.tsv', rows, COLS)}")
    return bench, rules_for(bench.name)


# (reply, options, official, paper): the option can_infer reads
CONFORMANCE = [
    ("(B)", POINTS, "B", "B"),
    ("Point B is closer.", POINTS, "B", "B"),  # one letter token, within the last four
    ("Point A is closer than point B.", POINTS, None, None),  # two letters; two option texts (paper)
    ("B. Point B", POINTS, "B", "B"),
    ("b", POINTS, None, None),  # lowercase is no letter
    ("A or B", POINTS, None, None),
    ("left", SIDES, "A", "A"),  # text rule
    ("The camera moved left.", SIDES, None, "A"),  # official: 22 > 2 * 9, the text rule is skipped
    ("A\n\nIt moved to the left.", SIDES, None, "A"),  # official: A is token 0 of 6
    ("A\n\nIt moved.", SIDES, "A", "A"),
    ("Cannot determine the answer", SIDES, "Z", "Z"),
]


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_conformance(tmp_path, protocol):
    bench, rules = _blink(tmp_path)
    agree = 0
    for reply, options, official, paper in CONFORMANCE:
        item = next(it for it in bench.items if it.options == options)
        got = rules.score(item, reply, ScoringContext(protocol=protocol))
        expected = official if protocol == "official" else paper
        assert got["pred"] == expected, (protocol, reply)
        assert got["score"] == float(expected == item.answer)
        agree += 1
    assert agree == len(CONFORMANCE)


def test_multi_image_rows_and_prompt(tmp_path):
    bench, rules = _blink(tmp_path)
    assert rules.name == "BLINK" and [len(it.images) for it in bench.items] == [1, 2, 1]
    assert bench.items[1].images == [image_bytes(20), image_bytes(21)]
    assert rules.question(bench.items[1], "official") == (
        "Question: Which way did the camera move?\nOptions:\nA. left\nB. right\n"
        "Please select the correct answer from the options above. \n"
    )


def test_summary_per_subtask(tmp_path):
    bench, rules = _blink(tmp_path)
    _, summary = score_benchmark(bench, {"1": "B", "2": "left", "3": "B"}, rules, ScoringContext())
    assert summary["score"] == pytest.approx(2 / 3) and summary["headline"].startswith("accuracy")
    assert summary["breakdowns"]["by category"] == {
        "Multi-view_Reasoning": {"n": 1, "score": 1.0},
        "Relative_Depth": {"n": 2, "score": 0.5},
    }


def test_judge_prompt_is_blinks_own(tmp_path):
    bench, rules = _blink(tmp_path)
    prompts = []
    ctx = ScoringContext(judge=lambda p: prompts.append(p) or "(B)")
    assert rules.score(bench.items[0], "Point A is closer than point B.", ctx)["score"] == 1.0
    assert "(Z) Failed\nAnswer: Point A is closer than point B.\nYour output: " in prompts[0]


def test_blink_circular(tmp_path):
    rows = [
        *circular_rows(1, "Which point is closer?", ["Point A", "Point B"], "B", category="Relative_Depth"),
        *circular_rows(2, "Which way?", ["left", "right", "up"], "A", category="Multi-view_Reasoning"),
    ]
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / 'BLINK_circular.tsv', rows, COLS)}")
    rules = rules_for(bench.name)
    assert rules.name == "BLINK"
    responses = {it.id: it.answer for it in bench.items}
    responses["2000002"] = "B" if responses["2000002"] != "B" else "C"
    prompts = []
    records, summary = score_benchmark(bench, responses, rules, ScoringContext())
    assert summary["score"] == 0.5 and summary["headline"].startswith("CircularEval")
    ctx = ScoringContext(judge=lambda p: prompts.append(p) or "Z")
    rules.score(bench.items[0], "A or B", ctx)
    assert "(Z) Failed" not in prompts[0]  # BLINK_circular gets VLMEvalKit's default judge prompt
