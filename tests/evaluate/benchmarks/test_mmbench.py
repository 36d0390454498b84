"""MMBench (evaluate/benchmarks/mmbench.py): VLMEvalKit's CircularEval with exact matching, TEST files
and the submission file. Expected values follow VLMEvalKit @ e8e78f05 (multiple_choice.py
mcq_circular_eval / prefetch_circular_group / report_acc; image_mcq.py build_prompt) and, for the
paper protocol, the authors' copy @ b313fedf (matching_util.py before c3371551)."""

from __future__ import annotations

import csv

import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.benchmarks.mmbench import write_submission
from spatial_ssrl.evaluate.items import BenchmarkFormatError
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import score_benchmark
from tests.fixtures.benchmarks import write_tsv
from tests.fixtures.vlmevalkit_files import circular_rows, mcq_row

COLS = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image", "l2-category", "split"]


def _dev(tmp_path, name="MMBench_DEV_EN_V11"):
    rows = [
        *circular_rows(1, "Which is red?", ["apple", "banana", "grape", "kiwi"], "A", category="color",
                       **{"l2-category": "coarse_perception"}, split="dev"),
        *circular_rows(2, "Is it left?", ["left", "right"], "B", category="spatial",
                       **{"l2-category": "relation_reasoning"}, split="dev", hint="From the camera."),
        *circular_rows(3, "Count?", ["one", "two", "three"], "C", category="count",
                       **{"l2-category": "coarse_perception"}, split="dev"),
    ]  # fmt: skip
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / f'{name}.tsv', rows, COLS)}")
    rules = rules_for(bench.name)
    return rules.prepare(bench, "official"), rules


def test_rules_selected_by_vlmevalkit_names():
    for name in ("MMBench", "MMBench_DEV_EN", "MMBench_TEST_EN_V11", "MMBench_DEV_CN_V11", "mmbench_test_cn"):
        assert rules_for(name).name == "MMBench"


def test_prompt_is_build_prompt(tmp_path):
    bench, rules = _dev(tmp_path)
    item = next(it for it in bench.items if it.id == "2")
    assert rules.question(item, "official") == (
        "Hint: From the camera.\nQuestion: Is it left?\nOptions:\nA. left\nB. right\n"
        "Please select the correct answer from the options above. \n"
    )
    assert rules.question(item, "paper") == rules.question(item, "official")


def test_circular_eval_by_hand(tmp_path):
    bench, rules = _dev(tmp_path)
    assert len(bench.items) == 9  # 4 + 2 + 3 copies
    responses = {it.id: it.answer for it in bench.items}  # every copy right ...
    wrong = next(it for it in bench.items if it.id == "1000002")
    responses["1000002"] = "B" if wrong.answer == "A" else "A"  # ... but one copy of question 2 is wrong
    responses["2000003"] = "I think it is C, or maybe A"  # and one copy of question 3 cannot be read (two letters)
    records, summary = score_benchmark(bench, responses, rules, ScoringContext())
    assert summary["score"] == pytest.approx(1 / 3)  # only question 1 is right on every copy
    assert summary["headline"].startswith("CircularEval accuracy over 3 questions")
    assert summary["accuracy"] == pytest.approx(7 / 9)
    overall = summary["breakdowns"]["Overall"]
    assert overall["vanilla (circ0: main rows)"] == {"n": 3, "score": 1.0}
    assert overall["vanilla (all copies)"] == {"n": 9, "score": pytest.approx(7 / 9)}
    # report_acc's tables, over questions, with MMB_abbrs names
    assert summary["breakdowns"]["CircularEval by l2-category"] == {
        "CP": {"n": 2, "score": 0.5},
        "RR": {"n": 1, "score": 0.0},
    }
    assert summary["breakdowns"]["CircularEval by category"] == {
        "color": {"n": 1, "score": 1.0},
        "count": {"n": 1, "score": 0.0},
        "spatial": {"n": 1, "score": 0.0},
    }
    assert summary["by_category"]["color"]["score"] == 1.0 and summary["by_category"]["spatial"]["score"] == 0.0
    assert "by split" not in summary["breakdowns"]  # one split


# (response to every copy, official circular hit, paper circular hit): the letter or text of the right option
CIRCULAR_CONFORMANCE = [
    (lambda it: it.answer, 1, 1),
    (lambda it: f"({it.answer})", 1, 1),
    (lambda it: f"The answer is {it.answer}", 1, 1),
    (lambda it: it.options[it.answer], 1, 1),  # option text: the text rule
    (lambda it: f"{it.answer}. {it.options[it.answer]} is the right option, clearly, as the image shows.", 0, 1),
    (lambda it: it.answer.lower(), 0, 0),  # lowercase: no option
    (lambda it: "A or B", 0, 0),
    (lambda it: f"<think>not {'A' if it.answer != 'A' else 'B'} </think>\\boxed{{{it.answer}}}", 0, 0),  # two letters
    (
        lambda it: f"<think>not {'A' if it.answer != 'A' else 'B'}</think>\\boxed{{{it.answer}}}",
        1,
        1,
    ),  # 'B</think>' is no letter
    (lambda it: "", 0, 0),
]


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_circular_conformance(tmp_path, protocol):
    bench, rules = _dev(tmp_path)
    agree = 0
    for make, official, paper in CIRCULAR_CONFORMANCE:
        responses = {it.id: make(it) for it in bench.items}
        _, summary = score_benchmark(bench, responses, rules, ScoringContext(protocol=protocol))
        expected = official if protocol == "official" else paper
        assert summary["score"] == expected, (protocol, make(bench.items[0]))
        agree += 1
    assert agree == len(CIRCULAR_CONFORMANCE)


def test_judge_resolves_unread_copies(tmp_path):
    bench, rules = _dev(tmp_path)
    responses = {it.id: f"<think>A, B, C</think> {it.options[it.answer]}, so option {it.answer}" for it in bench.items}
    ctx = ScoringContext(judge=lambda prompt: prompt.rsplit("Answer: ", 1)[1].split("option ")[-1][0])
    _, summary = score_benchmark(bench, responses, rules, ctx)
    assert summary["score"] == 1.0 and ctx.judge_calls == 9 and summary["judged"] == 9
    _, no_judge = score_benchmark(bench, responses, rules, ScoringContext())
    assert no_judge["score"] == 0.0


def test_test_split_is_inferred_not_scored_and_submitted(tmp_path):
    cols = ["index", "question", "hint", "A", "B", "category", "image", "l2-category", "split", "comment"]
    rows = [
        mcq_row(5, "Is it left?", {"A": "left", "B": "right"}, "", category="spatial", split="test", comment="c"),
        mcq_row(1_000_005, "Is it left?", {"A": "right", "B": "left"}, "", category="spatial", split="test"),
    ]
    rows[1]["image"] = "5"
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / 'MMBench_TEST_EN_V11.tsv', rows, cols)}")
    rules = rules_for(bench.name)
    bench = rules.prepare(bench, "official")
    responses = {"5": "A", "1000005": 'B\t"left"\nok'}
    records, summary = score_benchmark(bench, responses, rules, ScoringContext())
    assert [r["score"] for r in records] == [None, None] and [r["pred"] for r in records] == ["A", "B"]
    assert summary["score"] is None and "MMBench TEST" in summary["headline"]
    path = write_submission(bench.items, records, tmp_path / "out" / "MMBench_TEST_EN_V11.tsv", responses)
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh, delimiter="\t"))
    assert table[0] == [
        "index",
        "question",
        "hint",
        "A",
        "B",
        "category",
        "l2-category",
        "split",
        "comment",
        "prediction",
    ]
    assert table[1] == ["5", "Is it left?", "", "left", "right", "spatial", "", "test", "c", "A"]
    assert table[2][-1] == 'B\t"left"\nok'  # the reply as given, quoted as pandas quotes it
    letters = write_submission(bench.items, records, tmp_path / "letters.tsv")
    assert letters.read_text().splitlines()[2].endswith("\tB")


def test_non_integer_index_is_a_format_error(tmp_path):
    rows = [mcq_row(1, "q", {"A": "x", "B": "y"}, "A", category="c") | {"index": "q1"}]
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / 'MMBench_DEV_EN.tsv', rows, COLS)}")
    with pytest.raises(BenchmarkFormatError, match=r"MMBench_DEV_EN.tsv: MMBench_DEV_EN/q1: .*integer index"):
        rules_for(bench.name).prepare(bench, "official")
