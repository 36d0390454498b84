"""VLMEvalKit TSVs in every official layout (readers/vlmevalkit_tsv.py), generated here.

Layouts, as VLMEvalKit's ImageBaseDataset reads them (image_base.py, smp toliststr, localize_df):
base64 `image`; a list of base64 images as a Python literal (pandas' str(list), read with eval) or
JSON; an `image` cell that is another row's index; localized `image_path` (one path, or a Python-literal
/ JSON list); MMBench TEST without `answer`.
"""

from __future__ import annotations

import json

import pytest

from spatial_ssrl.evaluate.items import BenchmarkFormatError
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.readers import read_tsv
from tests.fixtures.benchmarks import b64, image_bytes, write_tsv
from tests.fixtures.vlmevalkit_files import mcq_row, py_list

COLS = ["index", "image", "question", "A", "B", "C", "answer", "category"]
PATH_COLS = ["index", "image_path", "question", "A", "B", "answer"]
OPTS = {"A": "left", "B": "right"}


def test_image_lists_as_python_literal_json_and_reference(tmp_path):
    imgs = [b64(image_bytes(i)) for i in range(3)]
    rows = [
        mcq_row(1, "q1", OPTS, "A") | {"image": py_list(imgs[:2])},  # what pandas writes for a list
        mcq_row(2, "q2", OPTS, "B") | {"image": json.dumps(imgs[1:])},
        mcq_row(3, "q3", OPTS, "A") | {"image": "1"},  # the images of row 1
        mcq_row(4, "q4", OPTS, "B") | {"image": imgs[2]},
    ]
    bench = read_tsv(write_tsv(tmp_path / "BLINK.tsv", rows, COLS))
    got = [it.images for it in bench.items]
    assert got[0] == [image_bytes(0), image_bytes(1)]
    assert got[1] == [image_bytes(1), image_bytes(2)]
    assert got[2] == got[0]
    assert got[3] == [image_bytes(2)]


def test_localized_image_path_lists(tmp_path):
    root = tmp_path / "LMUData" / "images" / "BLINK"
    root.mkdir(parents=True)
    for name in ("1_0.png", "1_1.png", "2.png"):
        (root / name).write_bytes(image_bytes(len(name)))
    moved = "/home/someone/LMUData/images/BLINK"  # localize_df wrote absolute paths on another machine
    rows = [
        {"index": 1, "image_path": py_list([f"{moved}/1_0.png", f"{moved}/1_1.png"]), "question": "q", **OPTS},
        {"index": 2, "image_path": json.dumps(["2.png"]), "question": "q", **OPTS},
        {"index": 3, "image_path": "2.png", "question": "q", **OPTS},
    ]
    for r in rows:
        r["answer"] = "A"
    tsv = write_tsv(tmp_path / "BLINK_local.tsv", rows, PATH_COLS)
    bench = load_benchmark(f"tsv:{tsv}", data_root=root)
    assert [len(it.images) for it in bench.items] == [2, 1, 1]
    assert bench.items[0].images == [str(root / "1_0.png"), str(root / "1_1.png")]
    # relative paths are also found next to the TSV and in its images/ folder
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "x.png").write_bytes(image_bytes(5))
    rows = [{"index": 9, "image_path": "['x.png']", "question": "q", **OPTS, "answer": "B"}]
    assert read_tsv(write_tsv(tmp_path / "rel.tsv", rows, PATH_COLS)).items[0].images == [
        str(tmp_path / "images/x.png")
    ]


@pytest.mark.parametrize(
    "column, cell, message",
    [
        ("image_path", "[a.png, b.png]", r"column 'image_path' starts with '\[' but is not a list"),
        ("image_path", "[1, 2]", r"column 'image_path' must be a non-empty list of strings"),
        ("image_path", "[]", r"column 'image_path' must be a non-empty list of strings"),
        ("image_path", "['missing.png']", r"column 'image_path': file 'missing.png' not found"),
        ("image", "['not base64!']", r"column 'image' is not valid base64"),
        ("image", "[" * 500 + "]" * 500, r"column 'image' (starts with|must be)"),
        ("image", "{'a': 1}", r"column 'image' is not valid base64"),  # not a list: one base64 string
    ],
)
def test_malformed_lists_name_file_row_and_column(tmp_path, column, cell, message):
    cols = PATH_COLS if column == "image_path" else COLS
    rows = [mcq_row(1, "q", OPTS, "A"), mcq_row(2, "q", OPTS, "A") | {column: cell}]
    if column == "image_path":
        (tmp_path / "ok.png").write_bytes(image_bytes(1))
        rows[0]["image_path"] = "ok.png"
    with pytest.raises(BenchmarkFormatError, match=r"bad.tsv, row 2 \(index 2\): " + message):
        read_tsv(write_tsv(tmp_path / "bad.tsv", rows, cols))


def test_list_cells_are_size_capped(tmp_path, monkeypatch):
    import spatial_ssrl.evaluate.readers.vlmevalkit_tsv as mod

    monkeypatch.setattr(mod, "MAX_LIST_CHARS", 100)
    rows = [mcq_row(1, "q", OPTS, "A") | {"image": py_list([b64(image_bytes(1))] * 2)}]
    with pytest.raises(BenchmarkFormatError, match=r"row 1 \(index 1\): column 'image': a list of \d+ characters"):
        read_tsv(write_tsv(tmp_path / "big.tsv", rows, COLS))


def test_numeric_option_columns_read_as_pandas_does(tmp_path):
    cols = ["index", "image", "question", "A", "B", "C", "D", "answer"]
    rows = [
        mcq_row(1, "How many?", {"A": "3", "B": "007", "C": "0.50", "D": "x"}, "A"),
        mcq_row(2, "How many?", {"A": "4", "B": "2", "C": "1"}, "B"),  # D empty
        mcq_row(3, "How many?", {"A": "5", "B": "1", "C": "2", "D": "y"}, "C"),
    ]
    rows[2]["A"] = ""  # column A: integers and an empty cell -> float64
    bench = read_tsv(write_tsv(tmp_path / "n.tsv", rows, cols))
    assert bench.items[0].options == {"A": "3.0", "B": "7", "C": "0.5", "D": "x"}  # B int64, C float64
    assert bench.items[1].options == {"A": "4.0", "B": "2", "C": "1.0"}
    assert bench.items[2].options == {"B": "1", "C": "2.0", "D": "y"}


def test_mmbench_test_without_answer_column(tmp_path):
    cols = ["index", "question", "hint", "A", "B", "category", "image", "l2-category", "split"]
    rows = [mcq_row(i, f"q{i}", OPTS, "", hint="h", category="c", split="test") for i in (1, 1_000_001)]
    rows[1]["image"] = "1"
    bench = read_tsv(write_tsv(tmp_path / "MMBench_TEST_EN_V11.tsv", rows, cols))
    item = bench.items[1]
    assert (item.kind, item.answer, item.extra["no_answer"], item.extra["split"]) == ("choice", "", True, "test")
    assert list(item.extra["row"]) == ["index", "question", "hint", "A", "B", "category", "l2-category", "split"]
    assert item.images == [image_bytes(1)]
    # other benchmarks still need the column
    with pytest.raises(BenchmarkFormatError, match=r"BLINK.tsv: missing column\(s\) 'answer'"):
        read_tsv(write_tsv(tmp_path / "BLINK.tsv", rows, cols))
    # an answerless row needs options
    rows = [mcq_row(1, "q", {}, "")]
    with pytest.raises(BenchmarkFormatError, match=r"row 1 \(index 1\): a row without an answer must have options"):
        read_tsv(write_tsv(tmp_path / "MMBench_TEST_CN.tsv", rows, ["index", "image", "question", "A"]))


def test_circular_columns_are_kept(tmp_path):
    cols = [*COLS, "g_index", "l2-category"]
    rows = [mcq_row(1, "q", OPTS, "A", g_index=1), mcq_row(7, "q", {"A": "right", "B": "left"}, "B", g_index=1)]
    bench = read_tsv(write_tsv(tmp_path / "MMBench_DEV_EN.tsv", rows, cols))
    assert [it.extra.get("g_index") for it in bench.items] == ["1", "1"]


def test_other_columns_are_kept_in_extra(tmp_path):
    cols = [*COLS, "qid", "source", "prompt"]
    rows = [mcq_row(1, "q", OPTS, "A", qid="q-1", source="ADE20K", prompt="")]
    item = read_tsv(write_tsv(tmp_path / "CV-Bench.tsv", rows, cols)).items[0]
    assert item.extra["tsv"] == {"qid": "q-1", "source": "ADE20K"}  # empty cells are left out


def test_unreadable_files(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("index\timage\tquestion\tanswer\n1\tx\tcaf\xe9\tA\n".encode("latin-1"))
    with pytest.raises(BenchmarkFormatError, match=r"latin1.tsv: not UTF-8 text"):
        read_tsv(path)
