"""ViewSpatial-Bench: conformance with ZJU-REAL/ViewSpatial-Bench evaluate.py ("official") and the authors'
evaluation/ViewSpatial_eval/main.py --CoT ("paper"), the release's JSON layout, errors and breakdowns.

The expected scores below are written from the official rules (quoted in each comment); `official_oracle`
and `paper_oracle` restate those rules as the scripts apply them (a regex on the last line / on the last
box), and every row must agree with the hand-written expectation, the oracle and our scorer.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from spatial_ssrl.contract import RELEASED_CHECKPOINT_FORMAT_PROMPT
from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.benchmarks import viewspatial as vs
from spatial_ssrl.evaluate.items import BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.prompts import render_prompt
from spatial_ssrl.evaluate.runner import score_benchmark
from tests.fixtures.benchmark_files import VIEWSPATIAL_CHOICES, VIEWSPATIAL_OPTIONS, write_viewspatial_release

OPTIONS, CHOICES = VIEWSPATIAL_OPTIONS, VIEWSPATIAL_CHOICES  # the first record of the release fixture
_RULE = re.compile(r"\b([A-D])\b", re.IGNORECASE)


def official_oracle(response: str, answer_field: str) -> float:
    """evaluate.py: extract_option(pred.split("\\n")[-1]) == extract_option(answer)."""

    def extract_option(text):
        m = _RULE.search(text)
        return m.group(1).upper() if m else None

    return float(extract_option(response.split("\n")[-1]) == extract_option(answer_field))


def paper_oracle(response: str, answer_field: str) -> float:
    """main.py --CoT: extract_option(findall(r"\\\\boxed\\{([^}]*)\\}")[-1] or "") == extract_option(answer)."""
    boxes = re.findall(r"\\boxed\{([^}]*)\}", response)
    box = boxes[-1] if boxes else ""
    m, a = _RULE.search(box), _RULE.search(answer_field)
    return float((m.group(1).upper() if m else None) == (a.group(1).upper() if a else None))


def item(answer: str = "A", options: dict | None = None) -> EvalItem:
    options = options or OPTIONS
    return EvalItem(
        benchmark="ViewSpatial",
        id="0",
        question="Could you tell me the location of the counter in comparison to the refrigerator?",
        answer=answer,
        options=options,
        category="Camera perspective - Relative Direction",
        extra={"choices_text": "\n".join(f"{k}. {v}" for k, v in options.items())},
    )


# (response, answer letter, official score). Rule: evaluate.py reads ONLY the last line of the reply
# (split("\n")[-1]) and takes its first standalone A-D letter, case-insensitive (\b([A-D])\b, IGNORECASE).
OFFICIAL = [
    ("A", "A", 1),  # the letter itself
    ("a", "A", 1),  # IGNORECASE: a lowercase letter counts
    ("d", "D", 1),
    ("right", "A", 0),  # option text alone has no letter: 0 (issue: ours gave 1)
    ("back-left", "C", 0),  # "-" splits the words, neither is a single letter
    ("A or B", "A", 1),  # a hedge is credited by its first letter (issue: official 1)
    ("A or B", "B", 0),
    ("B or A", "A", 0),
    ("(B)", "B", 1),
    ("B.", "B", 1),
    ("B. front-up", "B", 1),
    ("[C]", "C", 1),
    ("Option D: front", "D", 1),
    ("The answer is B", "B", 1),  # "The", "answer", "is" are words, B is the first single letter
    ("The answer is C, not A", "C", 1),
    ("The answer is C, not A", "A", 0),
    ("a chair is at the front, so D", "D", 0),  # the article "a" is the first single letter: A
    ("a chair is at the front, so D", "A", 1),
    ("B\n", "B", 0),  # the last line is empty
    ("\\boxed{B}\n", "B", 0),
    ("B\nSo I pick C", "B", 0),  # only the last line counts
    ("B\nSo I pick C", "C", 1),
    ("I think C\nB", "B", 1),  # "I" is not A-D
    ("<think>A is wrong here</think>\n\\boxed{B}", "B", 1),  # the think block is on an earlier line
    ("<think>A is wrong here</think> \\boxed{B}", "A", 1),  # one line: A comes first
    ("<think>hmm</think> \\boxed{B}", "B", 1),  # "think" is a word; "{B}" is a standalone B
    ("\\boxed{B}", "B", 1),
    ("B\r", "B", 1),  # only "\n" splits lines; "\r" is not a word character
    ("AB", "A", 0),  # a word, not a letter
    ("A_", "A", 0),  # "_" is a word character: no boundary
    ("A1", "A", 0),  # digits are word characters
    ("éA", "A", 0),  # Unicode letters are word characters too
    ("\uff21", "A", 0),  # fullwidth A is not [A-D]
    ("E", "A", 0),  # only A-D are letters here
    ("", "A", 0),  # no reply (a failed generation counts as wrong)
]

# (response, answer letter, paper score). Rule: main.py --CoT takes the content of the last \boxed{...}
# (r"\\boxed\{([^}]*)\}", up to the first "}"), "" without one, then its first A-D letter, IGNORECASE.
PAPER = [
    ("<think>the counter is right</think>\n\\boxed{A}", "A", 1),
    ("<think>x</think> \\boxed{b}", "B", 1),  # IGNORECASE
    ("A", "A", 0),  # no box: ""
    ("The answer is B", "B", 0),
    ("\\boxed{A or B}", "A", 1),  # the authors' rule credits a hedge by its first letter
    ("\\boxed{right}", "A", 0),  # option text has no letter
    ("\\boxed{C. back-left}", "C", 1),
    ("\\boxed{A}\n\\boxed{C}", "C", 1),  # the last box
    ("\\boxed{A}\n\\boxed{C}", "A", 0),
    ("<think>\\boxed{A}</think> so \\boxed{D}.", "D", 1),
    ("\\boxed{\\text{B}}", "B", 1),  # content "\\text{B": B is standalone
    ("\\boxed{B", "B", 0),  # never closed: no box
    ("boxed{B}", "B", 0),  # the pattern needs the backslash
    ("\\boxed{}", "A", 0),
    ("\\boxed{B}\n", "B", 1),  # the last line does not matter here
    ("\\boxed{x boxed{A}", "A", 1),  # one group up to the first "}": "x boxed{A"
    ("", "A", 0),
]


@pytest.mark.parametrize("response, letter, expected", OFFICIAL)
def test_official_conformance(response, letter, expected):
    answer_field = f"{letter}. {OPTIONS[letter]}"
    assert official_oracle(response, answer_field) == expected  # the table is the official rule
    got = vs.score(item(letter), response, ScoringContext(protocol="official"))
    assert got["score"] == expected


@pytest.mark.parametrize("response, letter, expected", PAPER)
def test_paper_conformance(response, letter, expected):
    answer_field = f"{letter}. {OPTIONS[letter]}"
    assert paper_oracle(response, answer_field) == expected
    got = vs.score(item(letter), response, ScoringContext(protocol="paper"))
    assert got["score"] == expected


def test_conformance_counts():
    """Every row of both tables agrees with the official rule (the closing note's count)."""
    agree = sum(
        vs.score(item(letter), r, ScoringContext(protocol=p))["score"] == exp
        for p, table in (("official", OFFICIAL), ("paper", PAPER))
        for r, letter, exp in table
    )
    assert agree == len(OFFICIAL) + len(PAPER) == 52


def test_pred_and_format_fields():
    got = vs.score(item("B"), "<think>look</think>\n\\boxed{B}", ScoringContext(protocol="official"))
    assert got == {"score": 1.0, "format": 1, "pred": "B"}
    got = vs.score(item("B"), "right", ScoringContext(protocol="official"))
    assert got == {"score": 0.0, "format": 0, "pred": None}


def test_parsing_is_linear():
    long_line = "x " * 500_000 + "B"
    unclosed = "\\boxed{" * 200_000
    start = time.perf_counter()
    assert vs.official_letter(long_line) == "B"
    assert vs.paper_letter(unclosed) is None
    assert vs.paper_letter("\\boxed{A}" * 100_000 + "\\boxed{C}") == "C"
    assert time.perf_counter() - start < 1.0


def test_official_prompt_is_question_plus_choices_verbatim():
    # evaluate.py: item["question"] + item["choices"] + "\nReply only to the corresponding option.\nAnswer:"
    it = item()
    assert vs.question(it, "official") == (
        "Could you tell me the location of the counter in comparison to the refrigerator?"
        "A. right\nB. front-up\nC. back-left\nD. front\nReply only to the corresponding option.\nAnswer:"
    )
    assert render_prompt(it, vs.question(it, "official"), "direct", "harness") == vs.question(it, "official")


def test_paper_prompt_matches_the_authors_but_one_space():
    # main.py --CoT: question + '\n' + choices + "\nThe final answer should be the option letter from the given
    # choices.\n" + "You FIRST think ..." ; the spatial-ssrl template appends the same sentence after "\n ".
    it = item()
    authors = (
        it.question + "\n" + CHOICES + "\nThe final answer should be the option letter from the given choices.\n"
        "You FIRST think about the reasoning process as an internal monologue and then provide the final answer. "
        "The reasoning process MUST BE enclosed within <think> </think> tags. "
        "The final answer MUST BE put in \\boxed{}."
    )
    ours = render_prompt(it, vs.question(it, "paper"), "cot", "spatial-ssrl")
    assert ours == vs.question(it, "paper") + RELEASED_CHECKPOINT_FORMAT_PROMPT
    assert ours.replace("\n You FIRST", "\nYou FIRST") == authors


# --- the release's layout -------------------------------------------------------------------------
# (written by tests/fixtures/benchmark_files.py write_viewspatial_release)


def test_release_layout_loads(tmp_path):
    path = write_viewspatial_release(tmp_path)
    bench = load_benchmark(f"viewspatial:{path}")
    assert bench.name == "ViewSpatial" and bench.rules == "ViewSpatial" and len(bench.items) == 3
    assert rules_for(bench.rules) is rules_for("ViewSpatial") and rules_for(bench.rules).name == "ViewSpatial"
    first, multi, two = bench.items
    assert first.answer == "A" and first.options == OPTIONS and first.extra["choices_text"] == CHOICES
    assert first.images == [str(tmp_path / "ViewSpatial-Bench/scannetv2_val/scene0011_00/original_images/280.jpg")]
    assert len(multi.images) == 2 and multi.answer == "D"
    assert two.options == {"A": "left", "B": "right"} and two.answer == "B"
    assert [it.id for it in bench.items] == ["0", "1", "2"]
    assert load_benchmark(str(path)).name == "ViewSpatial"  # a bare path: the module's sniff
    assert vs.sniff(path, {"question_type", "image_path", "question", "answer", "choices"})
    assert not vs.sniff(path, {"question", "answer", "choices"})  # e.g. another benchmark's records
    assert not vs.sniff(tmp_path / "x.parquet", {"question_type", "image_path", "question", "answer", "choices"})


def test_names_are_unique_per_file_and_data_root(tmp_path):
    path = write_viewspatial_release(tmp_path)
    other = tmp_path / "elsewhere" / "viewspatial_camera.json"
    other.parent.mkdir()
    other.write_text(path.read_text())
    bench = load_benchmark(f"viewspatial:{other}", data_root=tmp_path)
    assert bench.name == "ViewSpatial-viewspatial_camera" and rules_for(bench.name).name == "ViewSpatial"
    assert load_benchmark(f"viewspatial:{path}:Mine").name == "Mine"


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"question": None}, r"ViewSpatial-Bench.json, record 2 \(id 1\): field 'question' is missing"),
        ({"question": ["q"]}, r"record 2 \(id 1\): field 'question' must be a string"),
        ({"answer": "F. up"}, r"record 2 \(id 1\): answer letter 'F' is not one of the options"),
        ({"choices": ""}, r"record 2 \(id 1\): field 'choices' is missing or empty"),
        ({"choices": 7}, r"record 2 \(id 1\): cannot read options of type int"),
        ({"image_path": [3]}, r"record 2 \(id 1\): field 'image_path' must be a file name or a list"),
        (
            {"image_path": ["ViewSpatial-Bench/nowhere.jpg"]},
            r"record 2 \(id 1\): image file 'ViewSpatial-Bench/nowhere",
        ),
    ],
)
def test_malformed_records_name_file_record_and_field(tmp_path, change, expected):
    path = write_viewspatial_release(tmp_path)
    records = json.loads(path.read_text())
    records[1].update(change)
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=expected):
        load_benchmark(f"viewspatial:{path}")


def test_not_json_is_a_format_error(tmp_path):
    path = write_viewspatial_release(tmp_path)
    path.write_text('[{"question": ')
    with pytest.raises(BenchmarkFormatError, match=r"ViewSpatial-Bench.json: not valid JSON"):
        load_benchmark(f"viewspatial:{path}")


# --- breakdowns --------------------------------------------------------------------------------------


def test_summary_overall_and_per_question_type_in_order_of_appearance():
    types = ["Person perspective - Relative Direction", "Camera perspective - Object View Orientation"]
    cats = [types[0], types[1], types[0], types[0], types[1]]
    scores = [1.0, 0.0, 1.0, 0.0, 1.0]
    records = [
        {"id": str(i), "category": c, "subcategory": "", "kind": "choice", "score": s, "format": 1, "missing": False}
        for i, (c, s) in enumerate(zip(cats, scores))
    ]
    out = vs.summarize([], records, "official")
    assert out["score"] == out["accuracy"] == 3 / 5 and out["n"] == 5
    table = out["breakdowns"]["question type"]
    assert list(table) == types  # evaluate.py prints types in the order they first appear
    assert table[types[0]] == {"n": 3, "score": 2 / 3} and table[types[1]] == {"n": 2, "score": 1 / 2}
    assert "last line" in out["headline"] and "boxed" in vs.summarize([], records, "paper")["headline"]


def test_runner_scores_by_protocol(tmp_path):
    bench = load_benchmark(f"viewspatial:{write_viewspatial_release(tmp_path)}")
    replies = {"0": "right", "1": "<think>x</think>\n\\boxed{D}", "2": "A or B"}
    _, official = score_benchmark(bench, replies, ctx=ScoringContext(protocol="official"))
    _, paper = score_benchmark(bench, replies, ctx=ScoringContext(protocol="paper"))
    # official: "right" -> no letter (0), last line "\boxed{D}" -> D (1), "A or B" -> A, answer B (0)
    assert official["score"] == 1 / 3 and official["rules"] == "ViewSpatial" and official["protocol"] == "official"
    # paper: only the boxed reply counts
    assert paper["score"] == 1 / 3 and paper["breakdowns"]["question type"][
        "Person perspective - Scene Simulation Relative Direction"
    ] == {"n": 1, "score": 1.0}
