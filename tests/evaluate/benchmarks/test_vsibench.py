"""VSI-Bench conformance: the official rules (thinking-in-space lmms_eval/tasks/vsibench/utils.py) and the
Spatial-SSRL authors' rules (evaluation/VSI-bench_eval/vsi_infer.py + check_accuracy.py), the loaders of
every layout (official parquet / jsonl / json, the authors' vsi_bench.json with mp4_path), malformed
files, breakdowns and frame sampling. Every expected score is written from the rule cited next to it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.benchmarks import vsibench as vsi
from spatial_ssrl.evaluate.items import BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.readers.vsibench import read_vsibench
from spatial_ssrl.evaluate.video import frame_indices, sample_frames
from tests.fixtures.benchmark_files import (
    vsibench_authors_records,
    vsibench_records,
    write_vsibench_records,
    write_vsibench_video,
)
from tests.fixtures.benchmarks import write_vsibench_fixture

RULES = rules_for("VSI-Bench")


def choice_item(answer: str = "B", qtype: str = "object_rel_direction_easy") -> EvalItem:
    return EvalItem(
        benchmark="VSI-Bench",
        id="0",
        question="If I am standing by the stove and facing the sofa, is the tv to the left or the right of the sofa?",
        answer=answer,
        kind="choice",
        options={"A": "left", "B": "right"},
        category=vsi_category(qtype),
        subcategory=qtype,
        extra={"option_lines": ["A. left", "B. right"], "question_type": qtype},
    )


def number_item(answer: str, qtype: str = "object_counting") -> EvalItem:
    return EvalItem(
        benchmark="VSI-Bench",
        id="1",
        question="How many chair(s) are in this room?",
        answer=answer,
        kind="number",
        category=qtype,
        subcategory=qtype,
        extra={"metric": "mra", "question_type": qtype},
    )


def vsi_category(qtype: str) -> str:
    return "object_rel_direction" if qtype.startswith("object_rel_direction") else qtype


def official(item: EvalItem, response: str) -> float:
    return RULES.score(item, response, ScoringContext(protocol="official"))["score"]


def paper(item: EvalItem, response: str, mode: str = "cot") -> float:
    ctx = ScoringContext(protocol="paper")
    ctx.mode = mode  # the run's mode (cot = the authors' --cot True)
    return RULES.score(item, response, ctx)["score"]


def test_the_module_is_selected_by_its_names():
    for name in ("VSI-Bench", "vsibench", "VSI-Bench-debiased", "vsi_bench"):
        assert rules_for(name).name == "VSI-Bench"


# ---------------------------------------------------------------------------- official: multiple choice
# fuzzy_matching(pred) = pred.split(' ')[0].rstrip('.').strip(); exact_match = pred.lower() == gt.lower().
# Responses are trimmed first (the lmms-eval model wrappers return `.strip()`ped text).
OFFICIAL_CHOICE = [
    ("B", 1.0),  # the letter
    ("b", 1.0),  # exact_match lowercases both sides
    ("B.", 1.0),  # trailing dots are removed
    ("B...", 1.0),
    ("b.", 1.0),
    ("B. The sofa is to the right.", 1.0),  # first word "B." -> "B"
    ("  B  ", 1.0),  # trimmed by the model wrapper
    ("\nB\n", 1.0),
    ("B\t", 1.0),
    ("B or A", 1.0),  # a hedge: its first word is B, and the official rule credits it (documented)
    ("(B)", 0.0),  # the case: parentheses are kept
    ("B)", 0.0),
    ("B,", 0.0),
    ("B:", 0.0),
    ("The answer is B", 0.0),  # first word "The"
    ("Answer: B", 0.0),
    ("right", 0.0),  # the option's text is not the letter
    ("B. right", 1.0),
    ("\\boxed{B}", 0.0),  # boxed answers score 0
    ("<think>The tv is right of the sofa.</think> \\boxed{B}", 0.0),  # a think block comes first
    ("B\n\nBecause the tv is on the right.", 0.0),  # split on ' ' only: first word "B\n\nBecause"
    ("B\tC", 0.0),
    ("B.C", 0.0),  # only trailing dots go
    ("A", 0.0),  # the wrong letter
    ("", 0.0),
    (".", 0.0),
    ("Β", 0.0),  # Greek capital beta
    ("B" + "x" * 40_000, 0.0),  # a first word over MAX_ANSWER_TEXT_CHARS is not read
]


@pytest.mark.parametrize(("response", "expected"), OFFICIAL_CHOICE)
def test_official_first_word_rule(response, expected):
    assert official(choice_item("B"), response) == expected


def test_official_pred_is_the_first_word():
    out = RULES.score(choice_item("B"), "B. because", ScoringContext(protocol="official"))
    assert out["pred"] == "B" and out["score"] == 1.0 and out["format"] == 0.0


# ---------------------------------------------------------------------------- official: numbers
# to_float(fuzzy_matching(pred)); MRA = mean over θ in linspace(.5, .95, 10) of abs(pred-gt)/gt <= 1-θ.
# Values near a threshold are the float results of that expression (1-θ is 0.10000000000000009 for θ=.9,
# 0.050000000000000044 for θ=.95), so 10% off still counts for θ=.9 and 5% off for θ=.95.
OFFICIAL_NUMBER = [
    ("4", "4", 1.0),
    ("4.0", "4", 1.0),
    ("4.", "4", 1.0),  # trailing dot removed (and float("4.") is 4 anyway)
    ("+4", "4", 1.0),
    ("4e0", "4", 1.0),  # Python float syntax
    ("1_0", "10", 1.0),  # float() accepts digit separators
    ("4 chairs", "4", 1.0),  # first word
    ("3 or 4", "4", 0.6),  # a hedge is read by its first word (documented): 3 is 25% off, <= 1-θ for θ .50-.75
    ("6", "4", 0.1),  # exactly 50% off: `<=` keeps θ = 0.50 only
    ("2", "4", 0.1),
    ("11", "10", 0.9),  # 10% off: counts up to θ = 0.90 (1-θ = 0.10000000000000009)
    ("9", "10", 0.9),
    ("1.05", "1", 1.0),  # rel 0.050000000000000044 == 1-0.95: counts (<=)
    ("10.5", "10", 1.0),  # rel 0.05 < 0.050000000000000044
    ("1.45", "1", 0.2),  # rel 0.44999999999999996 == 1-0.55: counts
    ("8", "4", 0.0),  # 100% off
    ("0", "4", 0.0),
    ("-4", "4", 0.0),
    ("4m", "4", 0.0),  # not a number
    ("4,0", "4", 0.0),
    ("four", "4", 0.0),  # no number words in the benchmark authors' code
    ("About 4", "4", 0.0),
    ("\\boxed{4}", "4", 0.0),
    ("<think>4</think>4", "4", 0.0),
    ("0x4", "4", 0.0),
    ("inf", "4", 0.0),
    ("nan", "4", 0.0),
    ("", "4", 0.0),
    # No unit conversion: the number is taken as given (the case).
    ("0.4 m", "40", 0.0),  # object_size_estimation asks in cm: 0.4 is 99% off
    ("40 cm", "40", 1.0),
    ("250 cm", "2.5", 0.0),
]


@pytest.mark.parametrize(("response", "truth", "expected"), OFFICIAL_NUMBER)
def test_official_numeric_mra(response, truth, expected):
    assert official(number_item(truth, "object_size_estimation"), response) == pytest.approx(expected, abs=0)


def test_official_mra_thresholds_are_the_official_ten():
    assert len(vsi.OFFICIAL_THRESHOLDS) == 10
    assert vsi.OFFICIAL_THRESHOLDS[0] == 0.5 and vsi.OFFICIAL_THRESHOLDS[-1] == 0.95
    assert vsi.official_mra(None, 4.0) == 0.0


# ---------------------------------------------------------------------------- paper (the authors' scripts)
# extract = last match of \\boxed\{([^}]*)\} ('' if none); a single alphabetic char -> lower() == answer.lower();
# else mra: count θ = 0.5 + i*0.05, i < 20, with abs(pred-gt)/gt < 1-θ, over 10 (0 on any exception).
PAPER_CHOICE = [
    ("<think>It is on the right.</think> \\boxed{B}", 1.0),
    ("\\boxed{b}", 1.0),  # lowercased both sides
    ("\\boxed{A} then \\boxed{B}", 1.0),  # the last box
    ("\\boxed{B} then \\boxed{A}", 0.0),
    ("\\boxed{B} \\boxed{A", 1.0),  # an unclosed box is no match: the last match is B
    ("\\boxed{B.}", 0.0),  # two characters: goes to MRA, not a number
    ("\\boxed{(B)}", 0.0),
    ("\\boxed{ B }", 0.0),
    ("\\boxed{\\text{B}}", 0.0),  # [^}]* stops at the first }: "\\text{B"
    ("\\boxed{B or C}", 0.0),  # hedges are never credited
    ("\\boxed {B}", 0.0),  # no match with a space
    ("\\boxed{B", 0.0),
    ("B", 0.0),  # no box: '' is the answer
    ("The answer is B", 0.0),
    ("\\boxed{2}", 0.0),  # a number for a letter: float('B') fails
    ("", 0.0),
]


@pytest.mark.parametrize(("response", "expected"), PAPER_CHOICE)
def test_paper_boxed_letter(response, expected):
    assert paper(choice_item("B"), response) == expected


PAPER_NUMBER = [
    ("\\boxed{4}", "4", 1.0),
    ("\\boxed{ 4 }", "4", 1.0),  # float() trims spaces
    ("\\boxed{4.0}", "4", 1.0),
    ("\\boxed{6}", "4", 0.0),  # exactly 50% off: strict < counts nothing (official: 0.1)
    ("\\boxed{2}", "4", 0.0),
    ("\\boxed{11}", "10", 0.8),  # 1-0.9 = 0.09999999999999998 < 0.1: θ = .9 does not count (official: 0.9)
    ("\\boxed{1.05}", "1", 0.9),  # rel == 1-0.95 in floats: strict < drops it (official: 1.0)
    ("\\boxed{10.5}", "10", 1.0),
    ("\\boxed{3}", "4", 0.5),  # 25% off: θ = .5, .55, .6, .65, .7 (1-.75 = .25 is not < .25)
    ("\\boxed{4 m}", "4", 0.0),
    ("\\boxed{1 m or 4 m}", "4", 0.0),
    ("\\boxed{A}", "4", 0.0),  # a letter for a number: 'a' != '4'
    ("4", "4", 0.0),  # no box
    ("\\boxed{inf}", "4", 0.0),
]


@pytest.mark.parametrize(("response", "truth", "expected"), PAPER_NUMBER)
def test_paper_strict_mra(response, truth, expected):
    assert paper(number_item(truth), response) == expected


@pytest.mark.parametrize(
    ("item", "response", "expected"),
    [
        (choice_item("B"), "B", 1.0),  # run_nocot.sh: the whole (stripped) answer
        (choice_item("B"), " b\n", 1.0),
        (choice_item("B"), "B.", 0.0),
        (choice_item("B"), "\\boxed{B}", 0.0),
        (number_item("4"), "4", 1.0),
        (number_item("4"), "6", 0.0),
        (number_item("4"), "4 chairs", 0.0),
    ],
)
def test_paper_direct_mode_reads_the_whole_answer(item, response, expected):
    assert paper(item, response, mode="direct") == expected


def test_boxed_scan_is_linear():
    import time

    text = "\\boxed{" * 50_000  # quadratic for a backtracking scan
    started = time.perf_counter()
    assert vsi.authors_boxed(text) == ""
    assert paper(choice_item("B"), text) == 0.0
    assert official(choice_item("B"), "B" * 100_000) == 0.0
    assert time.perf_counter() - started < 1.0


# ---------------------------------------------------------------------------- prompts


def test_official_prompts():
    assert RULES.question(choice_item("B"), "official") == (
        "These are frames of a video.\n"
        "If I am standing by the stove and facing the sofa, is the tv to the left or the right of the sofa?\n"
        "Options:\nA. left\nB. right\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert RULES.question(number_item("4"), "official") == (
        "These are frames of a video.\nHow many chair(s) are in this room?\n"
        "Please answer the question using a single word or phrase."
    )


def test_paper_prompts_as_the_authors_script_builds_them():
    # fix_prompt: intro, question, then "A. " + the A column ("A. left") with no separator, then the answer line.
    assert RULES.question(choice_item("B"), "paper") == (
        "Watch the given video and anser the following question.\n\n"
        "If I am standing by the stove and facing the sofa, is the tv to the left or the right of the sofa?"
        "A. A. leftB. B. right\n"
        "The final answer should be the option letter from the given choices."
    )
    assert RULES.question(number_item("4"), "paper") == (
        "Watch the given video and anser the following question.\n\n"
        "How many chair(s) are in this room?\nThe final answer should be a number(integer or decimal)."
    )


# ---------------------------------------------------------------------------- summaries


def _records(items: list[EvalItem], scores: list[float]) -> list[dict]:
    return [
        {
            "id": str(k),
            "category": it.category,
            "subcategory": it.subcategory,
            "kind": it.kind,
            "answer": it.answer,
            "pred": None,
            "score": s,
            "format": 0.0,
            "missing": False,
        }
        for k, (it, s) in enumerate(zip(items, scores))
    ]


SUMMARY_SET = [
    ("object_rel_direction_easy", 1.0),
    ("object_counting", 1.0),
    ("object_rel_direction_easy", 1.0),
    ("object_rel_direction_medium", 0.0),
    ("object_rel_direction_hard", 1.0),
    ("object_counting", 0.1),
    ("route_planning", 0.0),
]


def _summary(protocol: str) -> dict:
    items = [
        choice_item("B", q) if "direction" in q or q == "route_planning" else number_item("4", q)
        for q, _ in SUMMARY_SET
    ]
    return RULES.summarize(items, _records(items, [s for _, s in SUMMARY_SET]), protocol)


def test_official_summary_is_the_mean_over_types_with_levels_merged():
    out = _summary("official")
    # object_rel_direction = mean(easy 1.0, medium 0.0, hard 1.0) = 2/3 (the item mean would be 3/4);
    # object_counting = (1 + 0.1) / 2 = 0.55; route_planning = 0; overall = mean of the three types.
    table = out["breakdowns"]["per question type (object_rel_direction = mean of its 3 levels)"]
    assert list(table) == ["object_counting", "object_rel_direction", "route_planning"]  # the official order
    assert table["object_rel_direction"] == {"n": 4, "score": pytest.approx(2 / 3)}
    assert table["object_counting"] == {"n": 2, "score": pytest.approx(0.55)}
    assert out["score"] == pytest.approx((2 / 3 + 0.55 + 0.0) / 3)
    assert out["accuracy"] == pytest.approx(4.1 / 7) and out["n"] == 7
    assert out["by_subcategory"]["object_rel_direction_easy"]["score"] == 1.0
    assert out["headline"]


def test_paper_summary_is_the_item_mean_with_levels_apart():
    out = _summary("paper")
    assert out["score"] == pytest.approx(4.1 / 7)  # score / cnt_all
    table = out["breakdowns"]["per question type (check_accuracy.py, levels apart)"]
    assert list(table) == [  # the authors' dict: first appearance order
        "object_rel_direction_easy",
        "object_counting",
        "object_rel_direction_medium",
        "object_rel_direction_hard",
        "route_planning",
    ]
    assert table["object_rel_direction_easy"] == {"n": 2, "score": 1.0}
    assert table["object_counting"] == {"n": 2, "score": pytest.approx(0.55)}


def test_scored_end_to_end_official_vs_paper():
    items = [choice_item("B"), choice_item("A", "object_rel_distance"), number_item("4"), number_item("10")]
    responses = ["B.", "\\boxed{A}", "6", "11"]
    for protocol, expected in (("official", [1.0, 0.0, 0.1, 0.9]), ("paper", [0.0, 1.0, 0.0, 0.0])):
        ctx = ScoringContext(protocol=protocol)
        got = [RULES.score(it, r, ctx)["score"] for it, r in zip(items, responses)]
        assert got == expected, protocol


# ---------------------------------------------------------------------------- loaders


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory) -> Path:
    """`arkitscenes/scene0.mp4` (20 frames of a square moving left to right)."""
    root = tmp_path_factory.mktemp("vsi_videos")
    write_vsibench_video(root)
    return root


def _check_official(bench):
    assert [it.kind for it in bench.items] == ["choice", "number", "number"]
    first = bench.items[0]
    assert first.answer == "B" and first.options == {"A": "left", "B": "right"}
    assert first.extra["option_lines"] == ["A. left", "B. right"]
    assert first.category == "object_rel_direction" and first.subcategory == "object_rel_direction_easy"
    assert bench.items[2].question.endswith("estimate.") and "? \nIf" in bench.items[2].question  # verbatim
    assert Path(first.video).name == "scene0.mp4" and bench.rules == "VSI-Bench" and bench.aggregate == "macro"


def test_official_parquet(tmp_path, video_dir):
    path = write_vsibench_records(tmp_path / "test.parquet", vsibench_records())
    bench = load_benchmark(str(path), data_root=video_dir)  # recognised without `vsibench:`
    assert bench.name == "VSI-Bench"
    _check_official(bench)
    debiased = write_vsibench_records(tmp_path / "test_debiased.parquet", vsibench_records())
    assert load_benchmark(f"vsibench:{debiased}", data_root=video_dir).name == "VSI-Bench-debiased"


def test_official_jsonl_and_json(tmp_path, video_dir):
    jsonl = write_vsibench_records(tmp_path / "test.jsonl", vsibench_records())
    _check_official(load_benchmark(f"vsibench:{jsonl}", data_root=video_dir))
    other = write_vsibench_records(tmp_path / "mine.json", vsibench_records())
    bench = load_benchmark(str(other), data_root=video_dir)
    _check_official(bench)
    assert bench.name == "VSI-Bench-mine"  # another file, another name (and cache folder)


def test_authors_vsi_bench_json(tmp_path, video_dir):
    folder = tmp_path / "VSIBench"
    folder.mkdir()
    path = folder / "vsi_bench.json"
    path.write_text(json.dumps(vsibench_authors_records(), indent=4))
    bench = load_benchmark(str(path), data_root=video_dir)  # sniffed by mp4_path; found by its trailing parts
    assert bench.name == "VSI-Bench" and [it.id for it in bench.items] == ["0", "1"]
    count, direction = bench.items
    assert count.kind == "number" and count.answer == "4" and count.options == {}
    assert direction.kind == "choice" and direction.answer == "C"
    assert direction.options == {"A": "back", "B": "right", "C": "left"}  # stops at the empty D
    assert Path(direction.video) == video_dir / "arkitscenes" / "scene0.mp4"
    assert "A. A. backB. B. rightC. C. left\n" in RULES.question(direction, "paper")
    assert "Options:\nA. back\nB. right\nC. left\n" in RULES.question(direction, "official")
    # Without --data-root the videos are looked for next to the file.
    (folder / "arkitscenes").mkdir()
    (folder / "arkitscenes" / "scene0.mp4").write_bytes((video_dir / "arkitscenes" / "scene0.mp4").read_bytes())
    assert Path(read_vsibench(path).items[0].video).parent == folder / "arkitscenes"


def test_fixture_layout_and_legacy_fields(tmp_path):
    bench = load_benchmark(f"vsibench:{write_vsibench_fixture(tmp_path)}", num_frames=8)
    assert bench.name == "VSI-Bench" and len(bench.items) == 5
    assert all(it.num_frames == 8 and it.extra["frames_given"] for it in bench.items)


# ---------------------------------------------------------------------------- malformed files


def _write(tmp_path, records) -> Path:
    return write_vsibench_records(tmp_path / "test.json", records)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ground_truth": "C"}, r"test\.json, record 1 \(id 0\): answer letter 'C'.*field 'ground_truth'"),
        ({"question": ""}, r"test\.json, record 1 \(id 0\): field 'question'"),
        ({"ground_truth": None}, r"record 1 \(id 0\): field 'ground_truth'"),
        ({"options": None}, r"record 1 \(id 0\): question type 'object_rel_direction_easy' is multiple choice"),
        ({"options": 5}, r"record 1 \(id 0\): field 'options' of type int"),
        (
            {"scene_name": "nowhere"},
            r"record 1 \(id 0\): video file 'arkitscenes/nowhere\.mp4'.*field 'dataset/scene_name'",
        ),
        ({"scene_name": None, "dataset": None}, r"record 1 \(id 0\): no video"),
    ],
)
def test_malformed_records_name_file_record_and_field(tmp_path, video_dir, change, message):
    records = vsibench_records()
    records[0].update(change)
    with pytest.raises(BenchmarkFormatError, match=message):
        read_vsibench(_write(tmp_path, records), data_root=video_dir)


@pytest.mark.parametrize(
    ("truth", "message"),
    [
        ("four", r"record 2 \(id 1\): field 'ground_truth': 'four' of a numeric question is not a number"),
        ("0", r"record 2 \(id 1\): field 'ground_truth': '0' is not a positive finite number"),
        ("-3", "not a positive finite number"),
        ("nan", "not a positive finite number"),
    ],
)
def test_malformed_numeric_truth(tmp_path, video_dir, truth, message):
    records = vsibench_records()
    records[1]["ground_truth"] = truth
    with pytest.raises(BenchmarkFormatError, match=message):
        read_vsibench(_write(tmp_path, records), data_root=video_dir)


def test_authors_layout_errors_name_the_field(tmp_path, video_dir):
    records = vsibench_authors_records()
    records[1]["answer"] = "D"  # D is null in this record
    path = tmp_path / "vsi_bench.json"
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=r"record 2 \(id 1\): answer letter 'D'.*field 'answer'"):
        read_vsibench(path, data_root=video_dir)
    records = vsibench_authors_records()
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=r"record 1 \(id 0\): video file .*scene0\.mp4.*field 'mp4_path'"):
        read_vsibench(path, data_root=tmp_path / "empty")


def test_unreadable_files_are_format_errors(tmp_path):
    bad = tmp_path / "test.parquet"
    bad.write_bytes(b"not a parquet file at all")
    with pytest.raises(BenchmarkFormatError, match=r"test\.parquet: not a readable VSI-Bench file"):
        read_vsibench(bad)
    lines = tmp_path / "test.jsonl"
    lines.write_text('{"question": "q"}\n{not json\n')
    with pytest.raises(BenchmarkFormatError, match=r"test\.jsonl, line 2: not valid JSON"):
        read_vsibench(lines)
    lines.write_text("[1, 2]\n")
    with pytest.raises(BenchmarkFormatError, match=r"test\.jsonl, record 1: expected an object"):
        read_vsibench(lines)
    latin = tmp_path / "test.json"
    latin.write_bytes('[{"question": "caf\u00e9"}]'.encode("latin-1"))
    with pytest.raises(BenchmarkFormatError, match=r"test\.json: not a readable VSI-Bench file"):
        read_vsibench(latin)


# ---------------------------------------------------------------------------- frames


def test_prepare_sets_the_protocols_frames(tmp_path, video_dir):
    path = _write(tmp_path, vsibench_records())
    official_bench = RULES.prepare(read_vsibench(path, data_root=video_dir), "official")
    assert {(it.num_frames, it.extra["frame_rule"]) for it in official_bench.items} == {(32, "floor")}
    paper_bench = RULES.prepare(read_vsibench(path, data_root=video_dir), "paper")
    assert {(it.num_frames, it.extra["frame_rule"]) for it in paper_bench.items} == {(128, "round")}
    given = RULES.prepare(read_vsibench(path, data_root=video_dir, num_frames=8), "paper")
    assert {it.num_frames for it in given.items} == {8}  # --frames wins; the rule is still the protocol's


def test_frame_rules():
    # Official: np.linspace(0, T-1, min(n, T), dtype=int) truncates; paper: .round() (halves to even).
    assert frame_indices(20, 8, "floor") == [0, 2, 5, 8, 10, 13, 16, 19]
    assert frame_indices(20, 8, "round") == [0, 3, 5, 8, 11, 14, 16, 19]
    assert frame_indices(20, 32, "floor") == list(range(20)) == frame_indices(20, 128, "round")  # every frame
    assert frame_indices(2347, 128, "round") == np.linspace(0, 2346, 128).round().astype(int).tolist()
    assert frame_indices(2347, 32, "floor") == np.linspace(0, 2346, 32, dtype=int).tolist()
    with pytest.raises(ValueError, match="frame rule"):
        frame_indices(20, 8, "nearest")


def test_sampled_frames_follow_the_rule(video_dir):
    video = video_dir / "arkitscenes" / "scene0.mp4"
    floor, rounded = sample_frames(video, 8, "floor"), sample_frames(video, 8, "round")
    assert len(floor) == len(rounded) == 8

    def column(frame) -> int:  # where the white square is in the middle row
        return int(np.argmax(np.asarray(frame)[32].mean(axis=1) > 200))

    # Frame 2 (floor) comes before frame 3 (round): the square has moved right.
    assert column(floor[1]) < column(rounded[1])
    assert column(floor[0]) == column(rounded[0]) and column(floor[-1]) == column(rounded[-1])
