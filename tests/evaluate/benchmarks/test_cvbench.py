"""CV-Bench as VLMEvalKit and the CV-Bench release score it (evaluate/benchmarks/cvbench.py).

Expected values are worked out by hand from the official rules (read, not run):
- open-compass/VLMEvalKit @ e8e78f05, vlmeval/dataset/image_mcq.py `CVBench`: the prompt is the row's
  `prompt`; exact matching (`can_infer`, see test_threedsr.py for its rules); CV-Bench-2D's Overall is
  the mean of the per-source accuracies (`report_accuracy`), CV-Bench-3D's the plain accuracy;
- the release's formula (nyu-visionx/CV-Bench; lmms-eval's cv_bench "original formula"):
  ((ADE20K + COCO) / 2 + Omni3D) / 2;
- paper: the authors' VLMEvalKit copy (InternLM/Spatial-SSRL @ b313fedf), same CVBench class, older can_infer.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, cvbench, rules_for
from spatial_ssrl.evaluate.items import BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import score_benchmark
from spatial_ssrl.evaluate.summary import summarize as generic_summary
from tests.fixtures.benchmarks import image_bytes, write_tsv
from tests.fixtures.vlmevalkit_files import mcq_row

SIDES = {"A": "left", "B": "right"}  # 9 characters: the official text rule reads replies up to 18
BOXES = {"A": "lamp (highlighted by a red box)", "B": "chair (highlighted by a blue box)"}
RELATION_PROMPT = (
    "Considering the relative positions of the chair and the sofa in the image provided, where is the chair "
    "located with respect to the sofa? Select from the following choices.\n(A) left\n(B) right"
)

# (reply, options, answer, official score, paper score, the rule that decides)
CONFORMANCE = [
    ("B", SIDES, "B", 1, 1, "one letter token"),
    ("(B)", SIDES, "B", 1, 1, "the release's own option style"),
    ("(B) right", SIDES, "B", 1, 1, "B is token 0 of 2"),
    ("\\boxed{B}", SIDES, "B", 1, 1, "'{' '}' are separators"),
    ("<think>The chair is on the right.</think>\\boxed{B}", SIDES, "B", 1, 1, "one letter token, the last"),
    ("right", SIDES, "B", 1, 1, "option text alone (5 <= 18)"),
    ("The chair is to the right of the sofa.", SIDES, "B", 0, 1, "38 > 18: official skips the text rule"),
    ("b", SIDES, "B", 0, 0, "lowercase: no option letter"),
    ("A or B", SIDES, "B", 0, 0, "two letters"),
    ("left or right", SIDES, "B", 0, 0, "two option texts"),
    ("The answer is B", SIDES, "B", 1, 1, "B is the last token"),
    ("A", SIDES, "B", 0, 0, "a wrong letter"),
    ("A", BOXES, "A", 1, 1, "one letter token"),
    ("The lamp (highlighted by a red box) is closer.", BOXES, "A", 1, 1, "one option text (46 <= 128)"),
    ("Cannot determine the answer", BOXES, "A", 0, 0, "refusal: Z"),
]


def _item(options=SIDES, answer="B", **kw) -> EvalItem:
    base = {"benchmark": "CV-Bench-2D", "id": "1", "question": "Where is the chair with respect to the sofa?"}
    return EvalItem(**{**base, "answer": answer, "options": dict(options), **kw})


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_conformance_table(protocol):
    rules = rules_for("CV-Bench-2D")
    agree = 0
    for reply, options, answer, official, paper, rule in CONFORMANCE:
        expected = official if protocol == "official" else paper
        got = rules.score(_item(options, answer), reply, ScoringContext(protocol=protocol))["score"]
        assert got == expected, f"{protocol}: {reply!r}: {got}, the official rule gives {expected} ({rule})"
        agree += 1
    assert agree == len(CONFORMANCE) == 15


def test_rules_are_selected_by_name():
    for name in ("CV-Bench-2D", "CV-Bench-3D", "CV-Bench", "cv_bench", "CVBench", "CV-Bench-test_2d"):
        assert rules_for(name).name == "CV-Bench"


def test_question_is_the_rows_prompt():
    item = _item(extra={"tsv": {"prompt": RELATION_PROMPT}})
    assert cvbench.question(item, "official") == cvbench.question(item, "paper") == RELATION_PROMPT
    # a row without a prompt falls back to ImageMCQDataset's prompt
    assert cvbench.question(_item(), "official").startswith("Question: Where is the chair")


# ---------------------------------------------------------------- aggregation


def _scored(rows):
    """rows: (source, split or None, task, hit)."""
    items, records = [], []
    for n, (source, split, task, hit) in enumerate(rows):
        tsv = {"source": source, **({"split": split} if split else {})}
        items.append(_item(id=str(n), category=task, extra={"tsv": tsv}))
        records.append({"id": str(n), "category": task, "subcategory": "", "score": float(hit), "format": 0})
    return items, records


ISSUE_2D = [("ADE20K", "2D", "Relation", 1)] + [("COCO", "2D", "Count", 0)] * 4


def test_2d_is_the_mean_over_sources_not_over_questions():
    # issue 12: the same answers give 0.20 as a mean over questions and 0.50 officially
    items, records = _scored(ISSUE_2D)
    assert generic_summary(records)["score"] == pytest.approx(0.2)
    out = cvbench.summarize(items, records, "official")
    assert out["score"] == 0.5  # VLMEvalKit report_accuracy: (ADE20K 1.0 + COCO 0.0) / 2
    assert out["accuracy"] == pytest.approx(0.2)  # the plain mean is still reported
    table = out["breakdowns"]["CV-Bench (2D = mean over sources, 3D, overall)"]
    assert table == {"2D": {"n": 5, "score": 0.5}, "Overall": {"n": 5, "score": 0.5}}
    assert out["breakdowns"]["by source"] == {"ADE20K": {"n": 1, "score": 1.0}, "COCO": {"n": 4, "score": 0.0}}
    assert out["headline"].startswith("CV-Bench-2D")


def test_3d_is_the_plain_accuracy_and_the_overall_is_the_mean_of_the_halves():
    rows_3d = [("Omni3D", "3D", "Depth", 1), ("Omni3D", "3D", "Depth", 1), ("Omni3D", "3D", "Distance", 0)]
    out = cvbench.summarize(*_scored(rows_3d), "official")
    assert out["score"] == pytest.approx(2 / 3) and out["headline"].startswith("CV-Bench-3D")
    assert out["breakdowns"]["by category"] == {"Depth": {"n": 2, "score": 1.0}, "Distance": {"n": 1, "score": 0.0}}
    # the release's test file (both halves): ((1.0 + 0.0) / 2 + 2/3) / 2, where the item mean is 3/8
    items, records = _scored(ISSUE_2D + rows_3d)
    out = cvbench.summarize(items, records, "official")
    assert out["score"] == pytest.approx((0.5 + 2 / 3) / 2) and out["accuracy"] == pytest.approx(3 / 8)
    table = out["breakdowns"]["CV-Bench (2D = mean over sources, 3D, overall)"]
    assert table["2D"]["score"] == 0.5 and table["3D"]["score"] == pytest.approx(2 / 3) and table["Overall"]["n"] == 8
    assert out["headline"].startswith("(2D + 3D) / 2")


def test_split_comes_from_the_source_when_the_row_has_none():
    items, records = _scored([("ADE20K", None, "Count", 1), ("COCO", None, "Count", 0), ("Omni3D", None, "Depth", 0)])
    out = cvbench.summarize(items, records, "paper")
    assert out["score"] == pytest.approx((0.5 + 0.0) / 2)
    # no source and no split at all: the mean over questions
    bare = [_item(id="0"), _item(id="1")]
    recs = [{"id": i, "category": "", "subcategory": "", "score": s, "format": 0} for i, s in (("0", 1.0), ("1", 0.0))]
    assert cvbench.summarize(bare, recs, "official")["score"] == 0.5


# ---------------------------------------------------------------- files in the official layouts

TSV_COLS = ["index", "image", "question", "prompt", "A", "B", "C", "D", "answer", "category", "split", "source"]


def test_vlmevalkit_tsv(tmp_path):
    rows = [
        mcq_row(
            0,
            "Where is the chair?",
            SIDES,
            "B",
            prompt=RELATION_PROMPT,
            category="Relation",
            split="2D",
            source="ADE20K",
        ),
        mcq_row(
            1,
            "How many cups?",
            {"A": "2", "B": "3", "C": "0"},
            "C",
            prompt="How many cups are in the image? Select from the following choices.\n(A) 2\n(B) 3\n(C) 0",
            category="Count",
            split="2D",
            source="COCO",
        ),
        mcq_row(
            2,
            "How many plates?",
            {"A": "1", "B": "4"},
            "A",
            prompt="How many plates?\n(A) 1\n(B) 4",
            category="Count",
            split="2D",
            source="COCO",
        ),
    ]
    bench = load_benchmark(f"tsv:{write_tsv(tmp_path / 'CV-Bench-2D.tsv', rows, TSV_COLS)}")
    rules = rules_for(bench.rules or bench.name)
    assert rules.name == "CV-Bench" and rules.question(bench.items[0], "official") == RELATION_PROMPT
    records, summary = score_benchmark(bench, {"0": "(B)", "1": "(A) 2", "2": "A"}, rules, ScoringContext())
    assert [r["score"] for r in records] == [1.0, 0.0, 1.0]
    assert summary["score"] == pytest.approx((1.0 + 0.5) / 2)  # ADE20K 1/1, COCO 1/2


def _release_records():
    return [
        {
            "idx": 0,
            "type": "2D",
            "task": "Relation",
            "question": "Where is the chair located with respect to the sofa?",
            "choices": ["left", "right"],
            "answer": "(B)",
            "prompt": RELATION_PROMPT,
            "filename": "img/2D/relation/ade20k_0.png",
            "source": "ADE20K",
        },
        {
            "idx": 1,
            "type": "3D",
            "task": "Depth",
            "question": "Which object is closer to the camera?",
            "choices": list(BOXES.values()),
            "answer": "(A)",
            "prompt": "Which object is closer to the camera taking this photo, the lamp (highlighted by a red box) or "
            "the chair (highlighted by a blue box)?\n(A) lamp (highlighted by a red box)\n(B) chair (highlighted by "
            "a blue box)",
            "filename": "img/3D/depth/omni3d_1.png",
            "source": "Omni3D",
        },
    ]


def _write_parquet(path, records, images=True):
    rows = [
        {**r, "image": {"bytes": image_bytes(n), "path": r["filename"]}} if images else r for n, r in enumerate(records)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_release_parquet_and_sniffing(tmp_path):
    path = _write_parquet(tmp_path / "test.parquet", _release_records())
    for spec in (f"cvbench:{path}", str(path)):  # by kind, and a bare path recognised by its fields
        bench = load_benchmark(spec)
        assert bench.name == "CV-Bench-test" and bench.rules == "CV-Bench"
        first, second = bench.items
        assert (first.options, first.answer, first.category) == (SIDES, "B", "Relation")
        assert (second.answer, second.extra["split"], second.extra["source"]) == ("A", "3D", "Omni3D")
        assert first.images == [image_bytes(0)]
        assert cvbench.question(second, "official").startswith("Which object is closer to the camera taking")
    records, summary = score_benchmark(bench, {"0": "B", "1": "B"}, rules_for(bench.rules), ScoringContext())
    assert summary["score"] == 0.5  # (2D 1.0 + 3D 0.0) / 2
    assert load_benchmark(f"cvbench:{_write_parquet(tmp_path / 'test_2d.parquet', _release_records()[:1])}").name == (
        "CV-Bench-test_2d"
    )


def test_release_jsonl_with_image_files(tmp_path):
    for rec in _release_records():
        (tmp_path / rec["filename"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rec["filename"]).write_bytes(image_bytes(rec["idx"]))
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _release_records()))
    bench = load_benchmark(f"cvbench:{path}")
    assert bench.items[1].images == [str(tmp_path / "img/3D/depth/omni3d_1.png")]
    data_root = tmp_path / "elsewhere"
    (data_root / "img/2D/relation").mkdir(parents=True)
    (data_root / "img/2D/relation/ade20k_0.png").write_bytes(image_bytes(7))
    bench = cvbench.read(path, data_root=data_root)  # --data-root is searched first
    assert bench.items[0].images == [str(data_root / "img/2D/relation/ade20k_0.png")]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"prompt": None}, r"test.jsonl, record 2 \(idx 1\): field 'prompt' is missing"),
        ({"answer": "(E)"}, r"record 2 \(idx 1\): answer letter 'E' is not one of the options A, B"),
        ({"type": "4D"}, r"record 2 \(idx 1\): field 'type' must be 2D or 3D"),
        ({"choices": 3}, r"record 2 \(idx 1\): field 'choices' must be a list"),
        ({"filename": "img/missing.png"}, r"record 2 \(idx 1\): image file 'img/missing.png' not found"),
        ({"source": 5}, r"record 2 \(idx 1\): field 'source' must be a string"),
    ],
)
def test_malformed_release_records_name_file_record_and_field(tmp_path, change, message):
    records = _release_records()
    records[1] = {k: v for k, v in {**records[1], **change}.items() if v is not None}
    (tmp_path / "img/2D/relation").mkdir(parents=True)
    (tmp_path / records[0]["filename"]).write_bytes(image_bytes(0))
    (tmp_path / "img/3D/depth").mkdir(parents=True)
    (tmp_path / "img/3D/depth/omni3d_1.png").write_bytes(image_bytes(1))
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(BenchmarkFormatError, match=message):
        load_benchmark(f"cvbench:{path}")


def test_unreadable_release_files(tmp_path):
    bad = tmp_path / "test.parquet"
    bad.write_bytes(b"not a parquet file at all")
    with pytest.raises(BenchmarkFormatError, match=r"test.parquet: not readable"):
        load_benchmark(f"cvbench:{bad}")
    latin = tmp_path / "test.jsonl"
    latin.write_bytes('{"prompt": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(BenchmarkFormatError, match=r"test.jsonl: not UTF-8"):
        load_benchmark(f"cvbench:{latin}")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"idx": 0, "prompt": \n')
    with pytest.raises(BenchmarkFormatError, match=r"broken.jsonl, line 1: not valid JSON"):
        load_benchmark(f"cvbench:{broken}")
    img = _write_parquet(tmp_path / "noimg.parquet", _release_records(), images=False)
    with pytest.raises(BenchmarkFormatError, match=r"record 1 \(idx 0\): image file 'img/2D/relation/ade20k_0.png'"):
        load_benchmark(f"cvbench:{img}")
