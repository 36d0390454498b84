"""What'sUp: the release's six subset files, the official metrics of amitakamath/whatsup_vlms
(dataset_zoo/aro_datasets.py evaluate_scores: individual, pair, set and per-preposition accuracy) and the
authors' evaluation/whatsup_eval/main.py --CoT rule ("paper"), errors and breakdowns.

Expected scores are written from the rules quoted in each comment; `paper_oracle` restates the authors'
rule as their script applies it (re.findall on the reply, then `"A" in answer`).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.benchmarks import whatsup as wu
from spatial_ssrl.evaluate.items import BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.readers.whatsup import read_whatsup
from spatial_ssrl.evaluate.runner import check_unique_names, prepare_benchmark, score_benchmark
from tests.fixtures.benchmark_files import write_whatsup_release

CAPTIONS_A = [
    "A mug on a table",
    "A mug under a table",
    "A mug to the left of a table",
    "A mug to the right of a table",
]


def paper_oracle(response: str) -> float:
    """main.py --CoT: ans = re.findall(r"boxed\\{([^}]*)\\}", response)[-1] or ""; hit = "A" in ans."""
    matches = re.findall(r"boxed\{([^}]*)\}", response)
    return float("A" in (matches[-1] if matches else ""))


# --- the release's layout: data/ holds the JSON files and the image folders ---------------------------
# (written by tests/fixtures/benchmark_files.py write_whatsup_release)


def test_every_release_file_loads_with_a_unique_name(tmp_path):
    paths = write_whatsup_release(tmp_path)
    benches = {d: load_benchmark(f"whatsup:{p}") for d, p in paths.items()}
    names = {d: b.name for d, b in benches.items()}
    assert names == {
        "Controlled_Images_A": "WhatsUp-controlled_images",
        "Controlled_Images_B": "WhatsUp-controlled_clevr",
        "COCO_QA_one_obj": "WhatsUp-coco_qa_one_obj",
        "COCO_QA_two_obj": "WhatsUp-coco_qa_two_obj",
        "VG_QA_one_obj": "WhatsUp-vg_qa_one_obj",
        "VG_QA_two_obj": "WhatsUp-vg_qa_two_obj",
    }
    check_unique_names(list(benches.values()))  # subsets A and B in one run: two caches (issue: B reused A's)
    for dataset, bench in benches.items():
        assert bench.rules == "WhatsUp" and rules_for(bench.name).name == "WhatsUp"
        assert {it.extra["subset"] for it in bench.items} == {dataset}
        for it in bench.items:
            assert it.options[it.answer] == it.extra["captions"][0] == it.extra["correct_caption"]
    a = benches["Controlled_Images_A"].items
    assert a[0].images == [str(tmp_path / "data/controlled_images/mug_on_table.jpeg")] and len(a[0].options) == 4
    assert a[0].category == "controlled_images" and a[0].extra["pair"] == "mug/table" and a[0].extra["relation"] == "on"
    coco = benches["COCO_QA_two_obj"].items
    assert coco[2].images == [str(tmp_path / "data/val2017/000000000632.jpg")] and len(coco[2].options) == 2
    assert benches["VG_QA_one_obj"].items[0].images == [str(tmp_path / "data/vg_images/2345.jpg")]
    # official per-preposition labels (evaluate_scores): controlled from the image path; one-object: the
    # caption's last word; two-object COCO: left/right/above else below; VG: left/right/front/behind else top
    assert [it.subcategory for it in a[:4]] == ["on", "under", "left_of", "right_of"]
    assert [it.subcategory for it in benches["Controlled_Images_B"].items] == [
        "in-front_of",
        "behind",
        "left_of",
        "right_of",
    ]
    assert [it.subcategory for it in benches["COCO_QA_one_obj"].items] == ["left", "top"]
    assert [it.subcategory for it in coco] == ["left", "above", "below"]
    assert [it.subcategory for it in benches["VG_QA_two_obj"].items] == ["front", "behind", "top"]


def test_bare_paths_and_sniff(tmp_path):
    paths = write_whatsup_release(tmp_path)
    assert load_benchmark(str(paths["Controlled_Images_B"])).name == "WhatsUp-controlled_clevr"
    for path in paths.values():
        assert wu.sniff(path, None)  # the release's file names, whatever their records look like
    assert wu.sniff(tmp_path / "mine.json", {"image_path", "caption_options"})
    assert not wu.sniff(tmp_path / "mine.json", {"image_path", "question"})


def test_other_file_names(tmp_path):
    paths = write_whatsup_release(tmp_path)
    renamed = tmp_path / "data" / "clevr_subset.json"
    renamed.write_text(paths["Controlled_Images_B"].read_text())
    bench = read_whatsup(renamed)  # controlled records: the subset from the image folder
    assert bench.name == "WhatsUp-clevr_subset" and bench.items[0].extra["subset"] == "Controlled_Images_B"
    small = tmp_path / "data" / "coco_qa_two_obj_small.json"
    small.write_text(paths["COCO_QA_two_obj"].read_text())
    bench = read_whatsup(small)
    assert bench.name == "WhatsUp-coco_qa_two_obj_small" and bench.items[0].extra["subset"] == "COCO_QA_two_obj"
    unknown = tmp_path / "data" / "pairs.json"
    unknown.write_text(paths["VG_QA_one_obj"].read_text())
    with pytest.raises(BenchmarkFormatError, match=r"pairs.json: cannot tell which What'sUp subset"):
        read_whatsup(unknown)


def test_shuffle_is_seeded_and_varies(tmp_path):
    path = write_whatsup_release(tmp_path)["Controlled_Images_A"]
    one, again, other = read_whatsup(path), read_whatsup(path), read_whatsup(path, seed=1)
    assert [it.options for it in one.items] == [it.options for it in again.items]
    assert [it.answer for it in one.items] != [it.answer for it in other.items]
    assert len({it.answer for s in range(6) for it in read_whatsup(path, seed=s).items}) == 4


# --- malformed files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dataset, change, expected",
    [
        (
            "COCO_QA_one_obj",
            [139, "A dog on the left"],
            r"coco_qa_one_obj.json, record 2 \(id 1\): expected \[image_id, correct",
        ),
        (
            "COCO_QA_one_obj",
            [139, "A dog on the left", 5],
            r"record 2 \(id 1\): element 3 \(caption\) must be a non-empty string",
        ),
        ("COCO_QA_one_obj", [None, "a", "b"], r"record 2 \(id 1\): element 1 \(image id\) must be a number or a name"),
        ("COCO_QA_one_obj", [139, "same", "same"], r"record 2 \(id 1\): duplicate captions"),
        (
            "COCO_QA_one_obj",
            [999, "A dog on the left", "A dog on the right"],
            r"record 2 \(id 1\): image file 'val2017/000000000999.jpg' not found",
        ),
        (
            "COCO_QA_one_obj",
            {"image_path": "x.jpg", "caption_options": ["a", "b"]},
            r"record 2: expected a list \(coco_qa_one_obj.json layout\), got dict",
        ),
        (
            "Controlled_Images_A",
            {"image_path": "data/controlled_images/mug_on_table.jpeg"},
            r"controlled_images_dataset.json, record 2 \(id 1\): field 'caption_options' must be a list",
        ),
        ("Controlled_Images_A", {"caption_options": ["a", "b"]}, r"record 2 \(id 1\): field 'image_path' is missing"),
        ("Controlled_Images_A", ["x", "a", "b"], r"record 2: expected an object with image_path and caption_options"),
        (
            "Controlled_Images_A",
            {"image_path": "data/controlled_images/gone.jpeg", "caption_options": ["a", "b"]},
            r"record 2 \(id 1\): image file 'data/controlled_images/gone.jpeg' not found",
        ),
    ],
)
def test_malformed_records_name_file_record_and_field(tmp_path, dataset, change, expected):
    path = write_whatsup_release(tmp_path)[dataset]
    records = json.loads(path.read_text())
    records[1] = change
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=expected):
        load_benchmark(f"whatsup:{path}")


def test_unreadable_files(tmp_path):
    path = write_whatsup_release(tmp_path)["VG_QA_two_obj"]
    path.write_text('[[2345, "A car')
    with pytest.raises(BenchmarkFormatError, match=r"vg_qa_two_obj.json: not valid JSON \(line 1, column"):
        read_whatsup(path)
    path.write_bytes(b'[[2345, "\xff\xfe"]]')
    with pytest.raises(BenchmarkFormatError, match=r"vg_qa_two_obj.json: not UTF-8 text"):
        read_whatsup(path)
    path.write_text('{"a": 1}')
    with pytest.raises(BenchmarkFormatError, match=r"expected a JSON list of What'sUp records"):
        read_whatsup(path)


# --- prompts per protocol -------------------------------------------------------------------------


def test_prompts_per_protocol(tmp_path):
    path = write_whatsup_release(tmp_path)["Controlled_Images_A"]
    bench = load_benchmark(f"whatsup:{path}")
    bench, _ = prepare_benchmark(bench, "cot", "paper", None)  # the paper protocol's own prompt
    first = bench.items[0]
    # main.py: "A: caption" lines in the release's order: the right caption is always A
    assert first.options == dict(zip("ABCD", first.extra["captions"])) and first.answer == "A"
    # main.py --CoT: instruction + reasoning sentence + captions, joined with no separator, as written there
    assert wu.question(first, "paper") == (
        "Based on the image, choose the correct option from the list below."
        + RELEASED_REASONING_SENTENCE
        + "A: A mug on a table\nB: A mug under a table\n"
        + "C: A mug to the left of a table\nD: A mug to the right of a table"
    )
    assert first.prompt == wu.question(first, "paper")
    bench, _ = prepare_benchmark(bench, "cot", "official", "project")  # back to the seeded order
    first = bench.items[0]
    assert first.options == first.extra["shuffled_options"] and first.answer == first.extra["shuffled_answer"]
    assert wu.question(first, "official").startswith("Which caption describes the image correctly?\nOptions:\nA. ")
    assert len({it.answer for it in bench.items}) > 1  # the right caption is not always under one letter


# --- conformance ------------------------------------------------------------------------------------


def item(options: dict[str, str], correct: str) -> EvalItem:
    return EvalItem(
        benchmark="WhatsUp-controlled_images",
        id="0",
        question="Which caption describes the image correctly?",
        answer=next(k for k, v in options.items() if v == correct),
        options=options,
        category="controlled_images",
        extra={"captions": [correct] + [v for v in options.values() if v != correct], "correct_caption": correct},
    )


SHUFFLED = {"A": CAPTIONS_A[1], "B": CAPTIONS_A[0], "C": CAPTIONS_A[3], "D": CAPTIONS_A[2]}  # right one under B

# (response, official score). Metric: right when the caption chosen is the first caption (argmax == 0); the
# choice is read with the project's multiple-choice rule (the official code has no text parser).
OFFICIAL = [
    ("<think>the mug rests on it</think>\\boxed{B}", 1),
    ("B", 1),
    ("b", 1),
    ("The answer is B.", 1),
    ("A mug on a table", 1),  # the caption's text chooses it
    ("\\boxed{A mug on a table}", 1),
    ("A", 0),  # the wrong caption (A mug under a table)
    ("\\boxed{A}", 0),
    ("A or B", 0),  # a hedge chooses nothing
    ("\\boxed{B or C}", 0),
    ("", 0),
]

# (response, paper score). Rule: the last boxed{...} content ("" without one) must CONTAIN "A".
PAPER = [
    ("<think>the mug rests on it</think>\\boxed{A}", 1),
    ("\\boxed{B}", 0),
    ("\\boxed{a}", 0),  # case-sensitive substring
    ("A", 0),  # no box: ""
    ("The answer is A", 0),
    ("boxed{A}", 1),  # the authors' pattern has no backslash
    ("\\boxed{A or B}", 1),  # hedge credited by their rule
    ("\\boxed{A mug on a table}", 1),
    ("\\boxed{B: A mug under a table}", 1),  # any capital A, even in a wrong caption's text
    ("\\boxed{B}\\boxed{A}", 1),  # the last box
    ("\\boxed{A}\\boxed{B}", 0),
    ("\\boxed{\\text{A}}", 1),  # content "\\text{A"
    ("\\boxed{A", 0),  # never closed
    ("<think>A</think>\\boxed{C}", 0),
    ("", 0),
]


@pytest.mark.parametrize("response, expected", OFFICIAL)
def test_official_conformance(response, expected):
    got = wu.score(item(SHUFFLED, CAPTIONS_A[0]), response, ScoringContext(protocol="official"))
    assert got["score"] == expected


@pytest.mark.parametrize("response, expected", PAPER)
def test_paper_conformance(response, expected):
    assert paper_oracle(response) == expected
    released = item(dict(zip("ABCD", CAPTIONS_A)), CAPTIONS_A[0])
    assert wu.score(released, response, ScoringContext(protocol="paper"))["score"] == expected


def test_conformance_counts():
    agree = sum(
        wu.score(item(SHUFFLED, CAPTIONS_A[0]), r, ScoringContext(protocol="official"))["score"] == e
        for r, e in OFFICIAL
    ) + sum(
        wu.score(item(dict(zip("ABCD", CAPTIONS_A)), CAPTIONS_A[0]), r, ScoringContext(protocol="paper"))["score"] == e
        for r, e in PAPER
    )
    assert agree == len(OFFICIAL) + len(PAPER) == 26


def test_paper_parsing_is_linear():
    start = time.perf_counter()
    assert wu.paper_answer("boxed{" * 300_000) == ""
    assert wu.paper_answer("boxed{B}" * 100_000 + "boxed{A}") == "A"
    assert time.perf_counter() - start < 1.0


# --- breakdowns -------------------------------------------------------------------------------------


def _scored(bench, right: dict[str, bool], protocol="official"):
    replies = {}
    for it in bench.items:
        wrong = next(k for k in it.options if k != it.answer)
        replies[it.id] = f"\\boxed{{{it.answer if right[it.id] else wrong}}}"
    return score_benchmark(bench, replies, ctx=ScoringContext(protocol=protocol))


def test_controlled_pair_set_and_preposition_accuracy(tmp_path):
    bench = load_benchmark(f"whatsup:{write_whatsup_release(tmp_path)['Controlled_Images_A']}")
    # mug/table: on, under(wrong), left, right; cup/chair: all four right
    right = {str(i): i != 1 for i in range(8)}
    records, out = _scored(bench, right)
    assert out["score"] == out["accuracy"] == 7 / 8
    # pair: mug/table left+right (1) + cup/chair left+right and on+under (2) = 3, over n/2 = 4
    # set: cup/chair only = 1, over n/4 = 2
    assert out["pair_accuracy"] == 3 / 4 and out["set_accuracy"] == 1 / 2
    assert out["breakdowns"]["pair and set"] == {"pair": {"n": 4, "score": 0.75}, "set": {"n": 2, "score": 0.5}}
    assert out["breakdowns"]["preposition"] == {
        "left_of": {"n": 2, "score": 1.0},
        "on": {"n": 2, "score": 1.0},
        "right_of": {"n": 2, "score": 1.0},
        "under": {"n": 2, "score": 0.5},
    }
    assert "individual accuracy" in out["headline"]


def test_clevr_pairs_use_in_front_and_behind(tmp_path):
    bench = load_benchmark(f"whatsup:{write_whatsup_release(tmp_path)['Controlled_Images_B']}")
    _, out = _scored(bench, {"0": True, "1": True, "2": True, "3": False})
    # in-front+behind right (1 pair), left+right not; n/2 = 2 -> 0.5; no full set
    assert out["pair_accuracy"] == 0.5 and out["set_accuracy"] == 0.0 and out["score"] == 0.75


def test_two_object_preposition_table_and_paper_summary(tmp_path):
    bench = load_benchmark(f"whatsup:{write_whatsup_release(tmp_path)['VG_QA_two_obj']}")
    _, out = _scored(bench, {"0": True, "1": False, "2": True})
    assert out["breakdowns"] == {
        "preposition": {
            "behind": {"n": 1, "score": 0.0},
            "front": {"n": 1, "score": 1.0},
            "top": {"n": 1, "score": 1.0},
        }
    }
    assert "pair_accuracy" not in out and out["score"] == 2 / 3
    prepare_benchmark(bench, "cot", "paper", "spatial-ssrl")
    replies = {"0": "\\boxed{A}", "1": "\\boxed{B}", "2": "A"}  # hit, miss, no box
    _, paper = score_benchmark(bench, replies, ctx=ScoringContext(protocol="paper"))
    assert paper["score"] == 1 / 3 and paper["breakdowns"] == {} and "Mean_Accuracy" in paper["headline"]
