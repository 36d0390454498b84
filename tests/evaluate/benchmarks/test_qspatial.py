"""QSpatial_plus / QSpatial_scannet as VLMEvalKit scores them (official) and as the Spatial-SSRL authors' copy
does (paper): conformance tables, the Hugging Face parquet layouts, malformed files and the breakdowns.

Rules cited as "VK" are open-compass/VLMEvalKit vlmeval/dataset/image_vqa.py `QSpatial` @ e8e78f05;
"SSRL" is InternLM/Spatial-SSRL evaluation/Remaining_Bench_eval/vlmeval/dataset/image_vqa.py @ b313fedf.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext, rules_for
from spatial_ssrl.evaluate.benchmarks import qspatial as qs
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.readers import read_tsv
from tests.fixtures.benchmark_files import QSPATIAL_SCHEMA, qspatial_rows, write_qspatial_parquet
from tests.fixtures.benchmarks import b64, image_bytes, write_tsv

M = "\\distance_unit{meters}"


def item(value: float = 1.0, unit: str = "meters", qtype: str = "distance", id: str = "0") -> EvalItem:
    return EvalItem(
        benchmark="QSpatial_plus",
        id=id,
        question="How far is the mug from the kettle?",
        answer=f"{np.float32(value)!s} {unit}",
        kind="number",
        category=qtype,
        extra={"answer_value": float(np.float32(value)), "answer_unit": unit, "question_type": qtype},
    )


def scores(protocol: str, response: str, value: float = 1.0, unit: str = "meters") -> tuple[float, float]:
    out = qs.score(item(value, unit), response, ScoringContext(protocol=protocol))
    return out["delta_2"], out["delta_1_point_5"]


# (response, reference value, reference unit) -> (delta_2, delta_1_point_5) under VK's regex path.
OFFICIAL = [
    # VK parse_prediction: last scalar{...} group, mean of its \d+\.?\d* numbers; last distance_unit{...}.
    (f"\\scalar{{1}} {M}", 1.0, "meters", (1, 1)),
    (f"I estimate \\scalar{{0.9}} {M}.", 1.0, "meters", (1, 1)),
    # A range is the mean of its numbers: 0.5-1.0 -> 0.75 m (ratio 1.33); the "-0.25 m" must not come back.
    (f"\\scalar{{0.5-1.0}} {M}", 1.0, "meters", (1, 1)),
    (f"\\scalar{{0.5-0.6}} {M}", 1.0, "meters", (1, 0)),  # 0.55 m: ratio 1.82
    (f"\\scalar{{0.5 to 1.0}} {M}", 1.0, "meters", (1, 1)),
    # No \scalar{} or no \distance_unit{}: IndexError -> 1e-8 cm, never a success.
    ("1.6 meters", 1.6, "meters", (0, 0)),
    ("160", 160.0, "centimeters", (0, 0)),
    ("\\boxed{1.6 m}", 1.6, "meters", (0, 0)),
    ("<think>about 1 m</think> \\boxed{1 meters}", 1.0, "meters", (0, 0)),
    ("\\scalar{1}", 1.0, "meters", (0, 0)),
    (M, 1.0, "meters", (0, 0)),
    ("", 1.0, "meters", (0, 0)),
    ("None", 1.0, "meters", (0, 0)),  # pandas NaN (VK itself crashes on it)
    # VK get_multiplier: meters/meter/m/metre/metres, centimeters/centimeter/cm, feet/foot/ft,
    # inch/inches/in, mm; unit.lower() (not stripped); anything else x 0.
    ("\\scalar{100} \\distance_unit{centimeters}", 1.0, "meters", (1, 1)),
    ("\\scalar{100} \\distance_unit{cm}", 1.0, "meters", (1, 1)),
    ("\\scalar{1} \\distance_unit{metre}", 1.0, "meters", (1, 1)),
    ("\\scalar{1} \\distance_unit{Meters}", 1.0, "meters", (1, 1)),
    ("\\scalar{1} \\distance_unit{M}", 1.0, "meters", (1, 1)),
    ("\\scalar{3.3} \\distance_unit{feet}", 1.0, "meters", (1, 1)),
    ("\\scalar{40} \\distance_unit{inches}", 1.0, "meters", (1, 1)),
    ("\\scalar{1000} \\distance_unit{mm}", 1.0, "meters", (1, 1)),
    ("\\scalar{100} \\distance_unit{centimetres}", 1.0, "meters", (0, 0)),  # we used to credit these four
    ("\\scalar{0.001} \\distance_unit{km}", 1.0, "meters", (0, 0)),
    ("\\scalar{1.1} \\distance_unit{yd}", 1.0, "meters", (0, 0)),
    ("\\scalar{1000} \\distance_unit{millimeters}", 1.0, "meters", (0, 0)),
    ("\\scalar{1} \\distance_unit{ meters}", 1.0, "meters", (0, 0)),  # not stripped
    ("\\scalar{1} \\distance_unit{\\text{m}}", 1.0, "meters", (0, 0)),  # the group is "\text{m"
    # Reference units go through the same table (feet, inches, mm, cm).
    ("\\scalar{0.6} \\distance_unit{m}", 2.0, "feet", (1, 1)),
    ("\\scalar{30} \\distance_unit{cm}", 12.0, "inches", (1, 1)),
    ("\\scalar{10} \\distance_unit{cm}", 100.0, "mm", (1, 1)),
    # Success: max(pred/gt, gt/pred) < 2 (and < 1.5), strict, after +1e-8; the reference stays float32.
    (f"\\scalar{{2}} {M}", 1.0, "meters", (0, 0)),  # 2x: (200 + 1e-8) / 100 > 2
    (f"\\scalar{{0.5}} {M}", 1.0, "meters", (1, 0)),  # 0.5x: 100 / (50 + 1e-8) < 2
    (f"\\scalar{{1.99}} {M}", 1.0, "meters", (1, 0)),
    (f"\\scalar{{2.01}} {M}", 1.0, "meters", (0, 0)),
    (f"\\scalar{{1.5}} {M}", 1.0, "meters", (1, 0)),  # 1.5x: just above 1.5
    (f"\\scalar{{1}} {M}", 1.5, "meters", (1, 1)),  # gt/pred = 150 / (100 + 1e-8) < 1.5
    (f"\\scalar{{0.15}} {M}", 0.3, "meters", (0, 0)),  # float32 0.3 m = 30.000002 cm: ratio just above 2
    (f"\\scalar{{0.6}} {M}", 0.3, "meters", (1, 0)),
    # Hedges inside one scalar are averaged, and VK credits the mean; several scalars: the last one counts.
    (f"\\scalar{{0.5 or 1.5}} {M}", 1.0, "meters", (1, 1)),
    (f"\\scalar{{1 or 4}} {M}", 1.0, "meters", (0, 0)),
    (f"<think>\\scalar{{5}} {M}</think> \\scalar{{1}} {M}", 1.0, "meters", (1, 1)),
    (f"\\scalar{{1}} {M} then \\scalar{{5}} {M}", 1.0, "meters", (0, 0)),
    ("\\scalar{1} \\distance_unit{km} or \\distance_unit{meters}", 1.0, "meters", (1, 1)),
    # Numbers have no sign or exponent; a thousands comma splits a number.
    (f"\\scalar{{-1}} {M}", 1.0, "meters", (1, 1)),
    ("\\scalar{1,000} \\distance_unit{mm}", 1.0, "meters", (0, 0)),  # mean(1, 0) = 0.5 mm
    (f"\\scalar{{}} {M}", 1.0, "meters", (0, 0)),  # no number: NaN
    (f"\\scalar{{about one}} {M}", 1.0, "meters", (0, 0)),
    # Boxed notation: VK reads the groups wherever they are.
    (f"\\boxed{{\\scalar{{1}} {M}}}", 1.0, "meters", (1, 1)),
    ("\\boxed{1 meters}", 1.0, "meters", (0, 0)),
]

# The authors' parse_prediction where it differs (SSRL): boxed{ -> scalar{, unit fallbacks, stripped units.
PAPER = [
    (f"\\scalar{{1}} {M}", 1.0, "meters", (1, 1)),
    (f"\\scalar{{0.5-1.0}} {M}", 1.0, "meters", (1, 1)),
    ("1.6 meters", 1.6, "meters", (0, 0)),
    ("160", 160.0, "centimeters", (0, 0)),
    ("\\scalar{100} \\distance_unit{centimetres}", 1.0, "meters", (0, 0)),
    ("\\scalar{1} \\distance_unit{ meters }", 1.0, "meters", (1, 1)),  # SSRL get_multiplier strips
    ("\\scalar{1}\\unit{meters}", 1.0, "meters", (1, 1)),  # fallback: last unit{...}
    ("\\scalar{1} {meters}", 1.0, "meters", (1, 1)),  # fallback: last {...}
    ("\\scalar{1} \\text{1} \\meters", 1.0, "meters", (1, 1)),  # a numeric unit: letters after the last "\"
    (f"\\boxed{{\\scalar{{1}} {M}}}", 1.0, "meters", (1, 1)),  # rewritten; the scalar group is "\scalar{1"
    ("\\boxed{1 meters}", 1.0, "meters", (0, 0)),  # -> "\scalar{1} meters": unit "1" -> letters "scalar"
    ("\\boxed{1}\\meters", 1.0, "meters", (0, 0)),  # -> "\scalar{1\meters": no scalar group
    (f"\\scalar{{2}} {M}", 1.0, "meters", (0, 0)),
    (f"\\scalar{{0.5}} {M}", 1.0, "meters", (1, 0)),
    ("", 1.0, "meters", (0, 0)),
]


@pytest.mark.parametrize(("response", "value", "unit", "expected"), OFFICIAL)
def test_official_conformance(response, value, unit, expected):
    assert scores("official", response, value, unit) == expected


@pytest.mark.parametrize(("response", "value", "unit", "expected"), PAPER)
def test_paper_conformance(response, value, unit, expected):
    assert scores("paper", response, value, unit) == expected


def test_official_and_paper_differ_where_the_authors_changed_the_parser():
    for response in ("\\scalar{1}\\unit{meters}", "\\scalar{1} {meters}", "\\scalar{1} \\distance_unit{ meters}"):
        assert scores("official", response) == (0, 0)
        assert scores("paper", response) == (1, 1)


def test_the_prediction_is_cut_where_the_xlsx_cell_ends():
    answer = f"\\scalar{{1}} {M}"
    fits = "x" * (qs.XLSX_CELL_CHARS - len(answer)) + answer
    assert scores("official", fits) == (1, 1)
    assert scores("official", "x" + fits) == (0, 0)  # the closing brace of the unit is cut off


def test_score_record_details():
    out = qs.score(item(1.0), f"<think>look</think> \\scalar{{0.5-1.0}} {M}", ScoringContext())
    assert out["pred"] == "0.75 meters" and out["pred_cm"] == 75.0 and out["gt_cm"] == 100.0
    assert out["parse_error"] == 0 and out["score"] == 1.0 and out["question_type"] == "distance"
    bad = qs.score(item(1.0), "1 meter", ScoringContext())
    assert bad["pred"] is None and bad["pred_cm"] is None and bad["parse_error"] == 1 and bad["score"] == 0.0
    assert (
        qs.score(item(1.0), "<think>a</think> \\boxed{\\scalar{1} \\distance_unit{m}}", ScoringContext())["format"] == 1
    )


def test_question_is_the_official_prompt():
    text = qs.question(item(), "official")
    assert text.startswith("You will be provided with a question and a 2D image.")
    assert (
        '"""\\scalar{scalar} \\distance_unit{distance unit}""" at the end of your response.\nQuestion: How far' in text
    )
    assert text.endswith(
        "\nLet's thinkg step by step and start by finding good reference objects or object parts in the image."
    )
    assert qs.question(item(), "paper") == text


def test_rules_are_selected_by_name():
    for name in ("QSpatial_plus", "qspatial_scannet", "QSpatial-mine", "QSpatial"):
        assert rules_for(name).name == "QSpatial"
    assert rules_for("QSpatialX").name != "QSpatial"


# ---- the Hugging Face layouts -------------------------------------------------------------------------
# (written by tests/fixtures/benchmark_files.py write_qspatial_parquet)


def test_reads_the_hf_split_file(tmp_path):
    path = write_qspatial_parquet(tmp_path / "data" / "QSpatial_plus-00000-of-00001.parquet", qspatial_rows())
    bench = qs.read(path)
    assert (bench.name, bench.rules, [it.id for it in bench.items]) == ("QSpatial_plus", "QSpatial", ["0", "1", "2"])
    first = bench.items[0]
    assert first.answer == "0.3 meters" and first.extra["answer_value"] == float(np.float32(0.3))
    assert first.category == "height" and first.images == [image_bytes(0)] and first.kind == "number"
    assert qs.score(first, f"\\scalar{{0.3}} {M}", ScoringContext())["score"] == 1.0


@pytest.mark.parametrize("spec", ["qspatial:{p}", "{p}"])
def test_load_benchmark_by_kind_and_by_sniffing_a_bare_path(tmp_path, spec):
    path = write_qspatial_parquet(tmp_path / "QSpatial_plus-00000-of-00001.parquet", qspatial_rows())
    bench = load_benchmark(spec.format(p=path))  # a bare path used to be taken for ViewSpatial (UnicodeDecodeError)
    assert bench.rules == "QSpatial" and bench.name == "QSpatial_plus" and len(bench.items) == 3
    assert qs.sniff(path, None) and not qs.sniff(tmp_path / "x.json", {"question", "answer_value", "answer_unit"})


def test_scannet_images_come_from_data_root(tmp_path):
    path = write_qspatial_parquet(
        tmp_path / "data" / "QSpatial_scannet-00000-of-00001.parquet", qspatial_rows("QSpatial_scannet", 2, False)
    )
    root = tmp_path / "Q-Spatial-Bench-code"
    for i in range(2):
        (root / "QSpatial_scannet" / "images").mkdir(parents=True, exist_ok=True)
        (root / "QSpatial_scannet" / "images" / f"{i}.png").write_bytes(image_bytes(i))
    bench = load_benchmark(f"qspatial:{path}", data_root=root)
    assert bench.name == "QSpatial_scannet" and bench.items[1].images == [str(root / "QSpatial_scannet/images/1.png")]
    with pytest.raises(BenchmarkFormatError, match=r"row 1 \(index 0\).*image file 'QSpatial_scannet/images/0.png'"):
        qs.read(path)


def test_the_parquet_converter_layout_is_named_by_its_folder(tmp_path):
    path = write_qspatial_parquet(tmp_path / "default" / "QSpatial_plus" / "0000.parquet", qspatial_rows())
    assert qs.read(path).name == "QSpatial_plus"
    other = write_qspatial_parquet(tmp_path / "mine.parquet", [{**r, "image_path": None} for r in qspatial_rows()])
    assert qs.read(other).name == "QSpatial-mine"


def test_one_file_with_both_subsets_is_filtered_by_name_as_the_authors_did(tmp_path):
    rows = qspatial_rows("QSpatial_scannet", 2) + qspatial_rows("QSpatial_plus", 3)
    path = write_qspatial_parquet(tmp_path / "train-00000-of-00001.parquet", rows)
    with pytest.raises(BenchmarkFormatError, match="QSpatial_plus and QSpatial_scannet; name the subset"):
        qs.read(path)
    bench = load_benchmark(f"qspatial:{path}:QSpatial_plus")
    assert bench.name == "QSpatial_plus" and [it.id for it in bench.items] == ["0", "1", "2"]
    assert all("QSpatial_plus" in it.extra["image_path"] for it in bench.items)


def test_malformed_files_name_file_row_and_column(tmp_path):
    not_parquet = tmp_path / "QSpatial_plus.parquet"
    not_parquet.write_bytes(b"\xff\xfe not a parquet file")
    with pytest.raises(BenchmarkFormatError, match="not a readable parquet file"):
        qs.read(not_parquet)
    no_unit = pa.schema([f for f in QSPATIAL_SCHEMA if f.name != "answer_unit"])
    path = write_qspatial_parquet(tmp_path / "a" / "QSpatial_plus.parquet", [{**r} for r in qspatial_rows()], no_unit)
    with pytest.raises(BenchmarkFormatError, match="missing column\\(s\\) 'answer_unit'"):
        qs.read(path)
    cases = [
        ({"answer_value": None}, r"row 2 \(index 1\): column 'answer_value'"),
        ({"answer_unit": " "}, r"row 2 \(index 1\): column 'answer_unit'"),
        ({"question": ""}, r"row 2 \(index 1\): column 'question'"),
        ({"image": {"bytes": b"not an image", "path": None}}, r"row 2 \(index 1\): column 'image' does not hold"),
    ]
    for k, (change, message) in enumerate(cases):
        rows = qspatial_rows()
        rows[1].update(change)
        bad = write_qspatial_parquet(tmp_path / f"b{k}" / "QSpatial_plus.parquet", rows)
        with pytest.raises(BenchmarkFormatError, match=f"QSpatial_plus.parquet, {message}"):
            qs.read(bad)


# ---- VLMEvalKit-style TSVs -------------------------------------------------------------------------------


def test_a_qspatial_tsv_is_selected_by_name_and_prepared(tmp_path):
    columns = ["index", "image", "question", "answer", "category"]
    rows = [
        {
            "index": 0,
            "image": b64(image_bytes(0)),
            "question": "How tall?",
            "answer": "(0.3, 'meters')",
            "category": "h",
        },
        {
            "index": 1,
            "image": b64(image_bytes(1)),
            "question": "How far?",
            "answer": "96.0 centimeters",
            "category": "d",
        },
        {  # VLMEvalKit's own answer column under numpy 2
            "index": 2,
            "image": b64(image_bytes(2)),
            "question": "How wide?",
            "answer": "(np.float32(2.5), 'feet')",
            "category": "w",
        },
    ]
    bench = read_tsv(write_tsv(tmp_path / "QSpatial_plus.tsv", rows, columns))
    rules = rules_for(bench.rules or bench.name)
    assert rules.name == "QSpatial"
    bench = rules.prepare(bench, "official")
    assert [(it.extra["answer_value"], it.extra["answer_unit"]) for it in bench.items] == [
        (float(np.float32(0.3)), "meters"),
        (96.0, "centimeters"),
        (2.5, "feet"),
    ]
    assert [it.extra["question_type"] for it in bench.items] == ["h", "d", "w"]
    assert rules.score(bench.items[1], "\\scalar{1} \\distance_unit{m}", ScoringContext())["score"] == 1.0
    assert rules.score(bench.items[2], "\\scalar{80} \\distance_unit{cm}", ScoringContext())["score"] == 1.0


def test_reference_forms_and_refusals():
    assert qs.parse_reference("(np.float32(96.0), 'centimeters')") == (96.0, "centimeters")
    assert qs.parse_reference("(2.5, 'feet')") == (2.5, "feet")
    assert qs.parse_reference("1.5 meters") == (1.5, "meters")
    for bad in ("1.5", "meters", "(1.5)", "-1 m", "x" * 300):
        assert qs.parse_reference(bad) is None
    bench = Benchmark(
        name="QSpatial_plus", items=[EvalItem(benchmark="QSpatial_plus", id="7", question="q", answer="2", kind="text")]
    )
    with pytest.raises(BenchmarkFormatError, match="item 7: column 'answer' must be a length with its unit"):
        qs.prepare(bench, "official")


# ---- breakdowns ------------------------------------------------------------------------------------------


def test_summary_reports_vlmevalkit_keys_and_question_type_tables():
    items = [item(1.0, qtype="height", id="0"), item(1.0, qtype="height", id="1"), item(1.0, qtype="distance", id="2")]
    items.append(item(1.0, qtype="distance", id="3"))
    responses = [
        f"\\scalar{{1}} {M}",
        f"\\scalar{{1.8}} {M}",
        f"\\scalar{{3}} {M}",
        "1 m",
    ]  # d2: 1 1 0 0, d1.5: 1 0 0 0
    records = []
    for it, resp in zip(items, responses):
        out = qs.score(it, resp, ScoringContext())
        records.append(
            {
                "id": it.id,
                "category": it.category,
                "subcategory": "",
                "kind": "number",
                "answer": it.answer,
                "missing": False,
                **out,
            }
        )
    summary = qs.summarize(items, records, "official")
    assert summary["score"] == summary["delta_2"] == 0.5 and summary["delta_1_point_5"] == 0.25
    assert summary["official_scores"] == {
        "delta_2": 0.5,
        "delta_1_point_5": 0.25,
        "distance_delta_2": 0.0,
        "distance_delta_1_point_5": 0.0,
        "height_delta_2": 1.0,
        "height_delta_1_point_5": 0.5,
    }
    tables = list(summary["breakdowns"].values())
    assert tables[0] == {"distance": {"n": 2, "score": 0.0}, "height": {"n": 2, "score": 1.0}}
    assert tables[1] == {"distance": {"n": 2, "score": 0.0}, "height": {"n": 2, "score": 0.5}}
    assert summary["parse_errors"] == 1 and summary["n"] == 4 and summary["unknown_reference_units"] == 0
    assert "delta_2" in summary["headline"]
