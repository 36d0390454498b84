"""Benchmark readers: every layout read from fixture files generated here, and malformed files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spatial_ssrl.evaluate.items import BenchmarkFormatError
from spatial_ssrl.evaluate.load import load_benchmark, parse_spec
from spatial_ssrl.evaluate.readers import read_tsv, read_whatsup
from tests.fixtures.benchmarks import (
    b64,
    image_bytes,
    tsv_rows,
    write_tsv,
    write_tsv_fixture,
    write_viewspatial_fixture,
    write_vsibench_fixture,
    write_whatsup_fixture,
)


def test_tsv_counts_kinds_and_images(tmp_path):
    bench = load_benchmark(f"tsv:{write_tsv_fixture(tmp_path)}:Tiny")
    assert bench.name == "Tiny" and len(bench.items) == 8
    kinds = [it.kind for it in bench.items]
    assert kinds == ["choice"] * 4 + ["yesno"] * 2 + ["number"] * 2
    by_id = {it.id: it for it in bench.items}
    assert by_id["1"].hint == "Answer from the camera's viewpoint." and by_id["1"].answer == "C"
    assert len(by_id["2"].images) == 2 and by_id["2"].images[1] == image_bytes(3)  # JSON list of base64
    assert by_id["3"].images == by_id["0"].images  # `image` = "0": the image of the row with index 0
    assert by_id["3"].options == {"A": "taller", "B": "shorter", "C": "the same"}  # empty D is not an option
    assert by_id["6"].extra == {"metric": "within_factor", "factor": 2.0}
    assert by_id["7"].answer == "80 centimeters"  # QSpatial's ("80", 'centimeters') tuple
    assert by_id["0"].category == "depth" and by_id["0"].subcategory == "relation"


def test_tsv_answer_as_option_text_counts_and_text_kinds(tmp_path):
    rows = [
        {"index": 10, "image": b64(image_bytes(1)), "question": "q", "A": "left", "B": "right", "answer": "right"},
        {"index": 11, "image": b64(image_bytes(2)), "question": "How many chairs?", "answer": "3"},
        {"index": 12, "image": b64(image_bytes(3)), "question": "What colour?", "answer": "red"},
    ]
    bench = read_tsv(write_tsv(tmp_path / "b.tsv", rows))
    assert [(it.kind, it.answer) for it in bench.items] == [("choice", "B"), ("number", "3"), ("text", "red")]
    assert bench.items[1].extra == {"metric": "exact"}  # a count is exact, not within a factor of 2


def test_tsv_image_path_column(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(image_bytes(9))
    rows = [{"index": 0, "image_path": "a.png", "question": "q?", "answer": "yes"}]
    bench = read_tsv(write_tsv(tmp_path / "p.tsv", rows, ["index", "image_path", "question", "answer"]))
    assert bench.items[0].images == [str(tmp_path / "images" / "a.png")]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"image": "not*base64!"}, r"row 2 \(index 1\).*'image' is not valid base64"),
        ({"image": b64(b"plain text, not an image")}, r"row 2 \(index 1\).*does not hold an image"),
        ({"answer": "E"}, r"row 2 \(index 1\).*answer letter 'E' is not one of the options A, B, C, D"),
        ({"answer": "sideways"}, r"row 2 \(index 1\).*neither an option letter nor one option's text"),
        ({"image": "99"}, r"row 2 \(index 1\).*'image' is not valid base64"),
        ({"image": "3"}, r"row 2 \(index 1\).*'image' refers to row index 3, which holds no image"),
        ({"answer": ""}, r"row 2 \(index 1\).*'answer' is empty"),
    ],
)
def test_tsv_malformed_rows_name_the_row(tmp_path, change, expected):
    rows = tsv_rows()
    rows[1] = {**rows[1], **change}
    with pytest.raises(BenchmarkFormatError, match=expected):
        read_tsv(write_tsv(tmp_path / "bad.tsv", rows))


def test_tsv_missing_column_and_short_row(tmp_path):
    path = write_tsv(tmp_path / "nocol.tsv", tsv_rows(), ["index", "image", "question", "A", "B"])
    with pytest.raises(BenchmarkFormatError, match=r"nocol.tsv: missing column\(s\) 'answer'"):
        read_tsv(path)
    path = write_tsv(tmp_path / "short.tsv", tsv_rows()[:2], ["index", "image", "question", "answer"])
    lines = path.read_text().splitlines()
    lines[2] = "\t".join(lines[2].split("\t")[:3])  # second data row loses its answer cell
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchmarkFormatError, match=r"row 2 \(index 1\): column 'answer' is missing"):
        read_tsv(path)


def test_viewspatial_layout_and_aliases(tmp_path):
    path = write_viewspatial_fixture(tmp_path)
    bench = load_benchmark(str(path))  # recognised without a kind prefix
    assert bench.name == "ViewSpatial" and len(bench.items) == 6
    first = bench.items[0]
    assert first.answer == "A" and first.options["A"] == "left"
    assert first.category == "Camera perspective - Relative Direction"
    assert {it.category for it in bench.items} == {
        "Camera perspective - Relative Direction",
        "Person perspective - Object View Orientation",
    }
    # Aliases: `options` as a list, `image` as a string, answer as option text.
    records = json.loads(path.read_text())
    records[0] = {
        "question_type": "x",
        "image": records[0]["image_path"][0],
        "question": "q",
        "answer": "right",
        "options": ["left", "right"],
    }
    path.write_text(json.dumps(records))
    item = load_benchmark(f"viewspatial:{path}").items[0]
    assert item.options == {"A": "left", "B": "right"} and item.answer == "B"


def test_viewspatial_errors_name_the_record(tmp_path):
    path = write_viewspatial_fixture(tmp_path)
    records = json.loads(path.read_text())
    records[2]["answer"] = "F. up"
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=r"record 3 \(id 2\): answer letter 'F'"):
        load_benchmark(f"viewspatial:{path}")
    records[2]["answer"], records[3]["image_path"] = "A. left", ["ViewSpatial-Bench/missing.jpg"]
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=r"record 4 \(id 3\): image file 'ViewSpatial-Bench/missing.jpg'"):
        load_benchmark(f"viewspatial:{path}")


def test_whatsup_shuffles_deterministically(tmp_path):
    path = write_whatsup_fixture(tmp_path)
    bench = load_benchmark(f"whatsup:{path}")
    assert len(bench.items) == 5 and bench.items[0].category == "controlled_images"
    for item, record in zip(bench.items, json.loads(path.read_text())):
        assert len(item.options) == 4
        assert item.options[item.answer] == record["caption_options"][0]  # the first caption is correct
        assert sorted(item.options.values()) == sorted(record["caption_options"])
    again = read_whatsup(path)
    assert [(it.options, it.answer) for it in again.items] == [(it.options, it.answer) for it in bench.items]
    other = read_whatsup(path, seed=1)
    assert [it.answer for it in other.items] != [it.answer for it in bench.items]
    letters = [it.answer for seed in range(8) for it in read_whatsup(path, seed=seed).items]
    assert set(letters) == set("ABCD")  # the correct caption is not always in one place


def test_vsibench_records_and_frames(tmp_path):
    path = write_vsibench_fixture(tmp_path)
    bench = load_benchmark(str(path), num_frames=8)
    assert bench.name == "VSI-Bench" and bench.aggregate == "macro" and len(bench.items) == 5
    kinds = {it.subcategory: (it.kind, it.extra.get("metric")) for it in bench.items}
    assert kinds["obj_appearance_order"] == ("choice", None)
    assert kinds["object_counting"] == ("number", "mra")
    assert bench.items[1].category == "object_rel_direction"  # difficulty levels merge into one type
    assert bench.items[4].extra["unit"] == "cm"
    frames = bench.items[0].visuals()
    assert len(frames) == 8 and frames[0].size == (96, 64)
    # The white square moves left to right: its column in the middle row increases over the frames.
    cols = [int(np.argmax(np.asarray(f)[32].mean(axis=1) > 200)) for f in frames]
    assert cols == sorted(cols) and cols[-1] > cols[0] + 40


def test_vsibench_errors_name_the_record(tmp_path):
    path = write_vsibench_fixture(tmp_path)
    records = json.loads(path.read_text())
    records[1]["ground_truth"] = "C"
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=r"record 2 \(id 1\): answer letter 'C'"):
        load_benchmark(f"vsibench:{path}")
    records[1]["ground_truth"], records[2]["scene_name"] = "B", "nowhere"
    path.write_text(json.dumps(records))
    with pytest.raises(BenchmarkFormatError, match=r"record 3 \(id 2\): video file 'arkitscenes/nowhere.mp4'"):
        load_benchmark(f"vsibench:{path}")


def test_pretext_split(tmp_path):
    from spatial_ssrl.dataset.builder import BuildConfig, build
    from spatial_ssrl.dataset.schema import read_rows
    from spatial_ssrl.sources.discover import synthetic

    config = BuildConfig(
        tmp_path / "ds", samples_per_task=1, splits={"train": 0.5, "validation": 0.5, "test": 0.0}, preview=False
    )
    build(config, synthetic(4, size=(160, 120)))
    rows = list(read_rows(tmp_path / "ds", "validation"))
    bench = load_benchmark(f"pretext:{tmp_path / 'ds'}")
    assert bench.name == "pretext-validation" and len(bench.items) == len(rows) > 0
    assert {it.kind for it in bench.items} <= {"pretext:permutation", "pretext:label_direction", "pretext:choice"}
    assert all(it.question.count("<image>") == len(it.images) for it in bench.items)
    assert {it.category for it in bench.items} == {r["task"] for r in rows}
    with pytest.raises(BenchmarkFormatError, match="no 'test' shards"):
        load_benchmark(f"pretext:{tmp_path / 'ds'}:test")


def test_parse_spec(tmp_path):
    assert parse_spec("tsv:/x/y.tsv:Name") == ("tsv", tmp_path.__class__("/x/y.tsv"), "Name")
    assert parse_spec("pretext:/d") == ("pretext", tmp_path.__class__("/d"), None)
    with pytest.raises(FileNotFoundError):
        load_benchmark("tsv:/does/not/exist.tsv")
