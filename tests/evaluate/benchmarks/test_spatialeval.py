"""SpatialEval as VLMEvalKit scores it (evaluate/benchmarks/spatialeval.py): a plain ImageMCQDataset.

Expected scores are worked out by hand from the official rules (read, not run):
- official: open-compass/VLMEvalKit @ e8e78f05: `ImageMCQDataset` ('SpatialEval' entry), exact matching
  with vlmeval/utils/matching_util.py `can_infer` (a lone option letter among the last four tokens; else
  "answer is X", case-insensitive; else the one option text the reply contains, if the reply is at most
  twice the options' total length), `report_acc`;
- paper: InternLM/Spatial-SSRL @ b313fedf, evaluation/Remaining_Bench_eval: the older `can_infer` (a lone
  letter anywhere, no "answer is X", a text rule without length limit), the same report.
"""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for, spatialeval
from spatial_ssrl.evaluate.items import BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import score_benchmark
from tests.fixtures.benchmark_files import write_spatialeval_tsv
from tests.fixtures.vlmevalkit_files import mcq_row

COUNTS = {"A": "3", "B": "5", "C": "2", "D": "4"}  # 4 characters: the official text rule reads replies up to 8
YES_NO = {"A": "Yes", "B": "No"}  # 5 characters: up to 10
COUNT_COT = "<think>Counting row by row: 2 in the first row and 3 in the second, so 5.</think> \\boxed{B}"

# (reply, options, answer, official score, paper score, issue 12 case?, the rule that decides)
CONFORMANCE = [
    ("B", COUNTS, "B", 1, 1, False, "one letter token"),
    ("B. 5", COUNTS, "B", 1, 1, True, "B is token 0 of 2 (the issue's 'B. <text>')"),
    ("5", COUNTS, "B", 1, 1, False, "option text alone"),
    ("There are 5 cats in the grid.", COUNTS, "B", 0, 1, False, "29 > 8: official skips the text rule"),
    ("<think>I count 5.</think>\\boxed{5}", COUNTS, "B", 0, 1, False, "no letter; 33 > 8"),
    (COUNT_COT, COUNTS, "B", 1, 1, False, "one letter token, the last"),
    ("B\n\nThere are five cats in total.", COUNTS, "B", 0, 1, True, "B is token 0 of 7: official too early"),
    ("B\n\nFive cats.", COUNTS, "B", 1, 1, True, "B is token 0 of 3"),
    ("a", COUNTS, "A", 0, 0, True, "lowercase: no option letter (issue: credited by us)"),
    ("(b)", COUNTS, "B", 0, 0, False, "lowercase"),
    ("A or B", COUNTS, "B", 0, 0, False, "two letters"),
    ("I'd say 3 or 5", COUNTS, "B", 0, 0, False, "official: 14 > 8; paper: two option texts"),
    ("The answer is B", COUNTS, "B", 1, 1, False, "B is the last token"),
    ("the answer is b", COUNTS, "B", 1, 0, False, "official: 'answer is X' ignores case; paper: nothing"),
    ("Cannot determine the answer", COUNTS, "B", 0, 0, False, "refusal: Z"),
    ("C", COUNTS, "B", 0, 0, False, "a wrong letter"),
    ("", COUNTS, "B", 0, 0, False, "an empty prediction is read back as 'nan'"),
    ("yes", YES_NO, "A", 1, 1, False, "option text, matched lower-cased"),
    ("No", YES_NO, "B", 1, 1, False, "option text: 'No' is no option letter"),
    ("I don't know", YES_NO, "B", 0, 1, False, "official: 12 > 10; paper: 'know' contains 'no'"),
]


def _item(options=COUNTS, answer="B", **kw) -> EvalItem:
    base = {"benchmark": "SpatialEval", "id": "1", "question": "How many cats are in the grid?"}
    return EvalItem(**{**base, "answer": answer, "options": dict(options), **kw})


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_conformance_table(protocol):
    rules = rules_for("SpatialEval")  # through the registry: the generic rules here would fail the table
    agree = 0
    for reply, options, answer, official, paper, _, rule in CONFORMANCE:
        expected = official if protocol == "official" else paper
        got = rules.score(_item(options, answer), reply, ScoringContext(protocol=protocol))["score"]
        assert got == expected, f"{protocol}: {reply!r}: {got}, the official rule gives {expected} ({rule})"
        agree += 1
    assert agree == len(CONFORMANCE) == 20
    assert sum(issue for *_, issue, _ in CONFORMANCE) == 4


def test_question_is_build_prompts_text():
    item = _item(hint="The grid has 3 rows.")
    expected = (
        "Hint: The grid has 3 rows.\nQuestion: How many cats are in the grid?\nOptions:\nA. 3\nB. 5\nC. 2\nD. 4\n"
        "Please select the correct answer from the options above. \n"
    )
    assert spatialeval.question(item, "official") == spatialeval.question(item, "paper") == expected


def test_report_acc_by_category_and_l2_category():
    cats = [("spatialmap", "vqa", 1), ("spatialmap", "vqa", 0), ("mazenav", "vtqa", 1), ("spatialgrid", "vtqa", 1)]
    items = [_item(id=str(n), category=c, subcategory=l2) for n, (c, l2, _) in enumerate(cats)]
    records = [
        {"id": str(n), "category": c, "subcategory": l2, "score": float(h), "format": 0}
        for n, (c, l2, h) in enumerate(cats)
    ]
    out = spatialeval.summarize(items, records, "official")
    assert out["score"] == 0.75 and out["n"] == 4
    assert out["breakdowns"]["by category"] == {
        "mazenav": {"n": 1, "score": 1.0},
        "spatialgrid": {"n": 1, "score": 1.0},
        "spatialmap": {"n": 2, "score": 0.5},
    }
    assert out["breakdowns"]["by l2-category"] == {"vqa": {"n": 2, "score": 0.5}, "vtqa": {"n": 2, "score": 1.0}}
    assert "accuracy" in out["headline"]


def test_tsv_end_to_end(tmp_path):
    bench = load_benchmark(f"tsv:{write_spatialeval_tsv(tmp_path)}")
    rules = rules_for(bench.rules or bench.name)
    assert rules.name == "SpatialEval"
    predictions = {"0": "5", "1": "Looking at the map, the zoo is directly north of the bank.", "2": "The answer is C."}
    records, summary = score_benchmark(bench, predictions, rules, ScoringContext(protocol="official"))
    # 1: no letter; 58 characters > 2 * 17: the official text rule is skipped; the paper copy finds "zoo"
    # (option texts are matched lower-cased) and credits it
    assert [r["score"] for r in records] == [1.0, 0.0, 1.0] and summary["score"] == pytest.approx(2 / 3)
    records, summary = score_benchmark(bench, predictions, rules, ScoringContext(protocol="paper"))
    assert [r["score"] for r in records] == [1.0, 1.0, 1.0]


def test_a_file_named_circular_is_still_vanilla(tmp_path):
    rows = [mcq_row(1, "q", {"A": "x", "B": "y"}, "A"), mcq_row(1000001, "q", {"A": "y", "B": "x"}, "B")]
    bench = load_benchmark(f"tsv:{write_spatialeval_tsv(tmp_path, rows, 'SpatialEval_circular.tsv')}")
    rules = rules_for(bench.name)
    assert rules.name == "SpatialEval"
    _, summary = score_benchmark(bench, {"1": "A", "1000001": "A"}, rules, ScoringContext())
    assert summary["score"] == 0.5 and "circular_groups" not in summary


def test_malformed_tsv_names_file_row_and_column(tmp_path):
    rows = [mcq_row(0, "q", COUNTS, "B"), mcq_row(1, "q", COUNTS, "E")]
    with pytest.raises(BenchmarkFormatError, match=r"SpatialEval.tsv, row 2 \(index 1\): answer letter 'E'"):
        load_benchmark(f"tsv:{write_spatialeval_tsv(tmp_path, rows)}")
