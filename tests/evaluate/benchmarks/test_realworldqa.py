"""RealWorldQA (evaluate/benchmarks/realworldqa.py): VLMEvalKit's ImageMCQDataset rules. Expected values
follow VLMEvalKit @ e8e78f05 (matching_util.can_infer, report_acc) and the authors' copy @ b313fedf."""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import score_benchmark
from tests.fixtures.benchmarks import write_tsv
from tests.fixtures.vlmevalkit_files import mcq_row

COLS = ["index", "image", "question", "A", "B", "C", "answer", "category"]
COUNT = {"A": "2", "B": "3", "C": "4"}
YESNO = {"A": "Yes", "B": "No"}
DIRS = {"A": "Turn left", "B": "Go straight", "C": "Turn right"}


def _rwqa(tmp_path):
    rows = [
        mcq_row(1, "How many cars are there?", COUNT, "B"),
        mcq_row(2, "Is the light green?", YESNO, "A"),
        mcq_row(3, "Where should the car go to reach the exit?", DIRS, "C"),
        mcq_row(4, "What colour is the sign?", {}, "red"),  # no options: VLMEvalKit never credits it
    ]
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / 'RealWorldQA.tsv', rows, COLS)}")
    return bench, rules_for(bench.name)


# (reply, item id, official, paper): the option can_infer reads
CONFORMANCE = [
    ("B", "1", "B", "B"),
    ("3", "1", "B", "B"),  # text rule: exactly one option text ("3") in the reply
    ("There are 3 cars.", "1", None, "B"),  # official: 17 > 2 * 3, the text rule is skipped
    ("b", "1", None, None),
    ("The answer is B.", "1", "B", "B"),
    ("Yes", "2", "A", "A"),
    ("No.", "2", "B", "B"),
    ("A. Yes", "2", "A", "A"),
    ("Yes or no", "2", None, None),  # both option texts
    ("C", "3", "C", "C"),
    ("Turn right", "3", "C", "C"),
    ("Turn right, then go straight", "3", None, None),  # two option texts
    ("C or A", "3", None, None),
    ("red", "4", None, None),
]


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_conformance(tmp_path, protocol):
    bench, rules = _rwqa(tmp_path)
    by_id = {it.id: it for it in bench.items}
    agree = 0
    for reply, item_id, official, paper in CONFORMANCE:
        got = rules.score(by_id[item_id], reply, ScoringContext(protocol=protocol))
        expected = official if protocol == "official" else paper
        assert got["pred"] == expected, (protocol, reply)
        assert got["score"] == float(expected is not None and expected == by_id[item_id].answer)
        agree += 1
    assert agree == len(CONFORMANCE)


def test_numeric_option_column_quirk(tmp_path):
    # pandas reads an all-integer option column with an empty cell as float64: VLMEvalKit shows and
    # matches "3.0", so the reply "3" is not an option text there
    rows = [mcq_row(1, "How many?", COUNT, "B"), mcq_row(2, "How many?", {"A": "1", "B": "5"}, "A")]
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / 'RealWorldQA.tsv', rows, COLS)}")
    rules = rules_for(bench.name)
    assert bench.items[0].options == {"A": "2", "B": "3", "C": "4.0"}
    assert rules.score(bench.items[0], "4", ScoringContext())["pred"] is None
    assert rules.score(bench.items[0], "3", ScoringContext())["pred"] == "B"


def test_summary(tmp_path):
    bench, rules = _rwqa(tmp_path)
    _, summary = score_benchmark(bench, {"1": "B", "2": "No", "3": "Turn right"}, rules, ScoringContext())
    assert rules.name == "RealWorldQA" and summary["score"] == 0.5 and summary["n"] == 4
    assert summary["breakdowns"] == {}  # no category column: report_acc gives Overall only
    assert rules.question(bench.items[1], "official").endswith(
        "Please select the correct answer from the options above. \n"
    )
