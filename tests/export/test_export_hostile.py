"""Exports of a crafted dataset: ids, splits and texts that would leave the output folder or run as a
spreadsheet formula. Nothing is written outside `out`, and every formula-like cell is neutralised while
the columns VLMEvalKit reads back (`index`, `image`) round-trip through pandas as it reads them."""

from __future__ import annotations

import base64
import csv
import io
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from spatial_ssrl.dataset.schema import SCHEMA
from spatial_ssrl.export import FORMATS, export
from spatial_ssrl.export.common import FORMULA_PREFIXES, neutralise_formula
from tests.fixtures.datasets import make_dataset

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(1)", "\t=1", "\r=1"]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> Path:
    """The fixture dataset with hostile ids (path escapes, formulas), a hostile `split` column value,
    a formula-like variant and problems that start like a formula and hold a bare carriage return."""
    root = make_dataset(tmp_path_factory.mktemp("ds"))
    hostile_ids = ["../escaped", "/abs/path", "..", *FORMULAS, "a\\..\\b"]
    k = 0
    for shard in sorted((root / "data").glob("*.parquet")):
        rows = pq.read_table(shard).to_pylist()
        for row in rows:
            row["id"] = hostile_ids[k % len(hostile_ids)] + f"#{k}"
            row["variant"] = "=cmd|' /C calc'!A0"
            row["problem"] = "-" + row["problem"].replace("\n", "\r", 1)  # a formula start, a bare CR
            if k % 2:
                row["split"] = "../../outside"  # the value a row carries, not its shard's split
            k += 1
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), shard)
    return root


def _tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def test_nothing_is_written_outside_the_output_folder(crafted, tmp_path):
    """Every format, from ids like `../escaped` and `/abs/path` and a row split `../../outside`."""
    for fmt in sorted(FORMATS):
        out = tmp_path / fmt / "deep" / "out"
        before = _tree(tmp_path)
        assert export(crafted, fmt, out)
        written = _tree(tmp_path) - before
        assert all(out in p.parents or p == out or p in out.parents for p in written), (fmt, written)
    tsvs = sorted((tmp_path / "vlmevalkit" / "deep" / "out").glob("*.tsv"))
    for row in (row for tsv in tsvs for row in _read_tsv(tsv)):
        names = json.loads(row["image_path"]) if row["image_path"].startswith("[") else [row["image_path"]]
        assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)  # VLMEvalKit writes these
    out = tmp_path / "llamafactory" / "deep" / "out"
    records = json.loads((out / "spatial_ssrl_train.json").read_text())
    assert any(r["id"].startswith("../escaped") for r in records)  # ids are data, kept as they are
    for rel in (rel for rec in records for rel in rec["images"]):
        assert (out / rel).resolve().parent == (out / "images" / "spatial_ssrl_train").resolve()


@pytest.mark.parametrize("split", ["../x", "/abs", "..", "train/../../x", "Train"])
def test_unknown_split_names_are_refused(crafted, tmp_path, split):
    with pytest.raises(ValueError, match="unknown split"):
        export(crafted, "verl", tmp_path / "out", splits=(split,))
    assert not (tmp_path / "x.parquet").exists()


def test_a_planted_link_is_never_written_through(crafted, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for name in ("train.parquet.tmp", "spatial_ssrl_train.tsv.tmp", "spatial_ssrl_train.json.tmp"):
        (out / name).symlink_to(victim)
    (out / "images").mkdir()
    (out / "images" / "spatial_ssrl_train.tmp").symlink_to(tmp_path, target_is_directory=True)
    for fmt in ("verl", "vlmevalkit", "llamafactory"):
        export(crafted, fmt, out, splits=("train",))
    assert victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "victim.txt"]


# ---------------------------------------------------------------------------- formula injection


def _read_tsv(path: Path) -> list[dict]:
    csv.field_size_limit(sys.maxsize)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_neutralise_formula(prefix):
    assert neutralise_formula(prefix + "x") == "'" + prefix + "x"
    assert neutralise_formula("x" + prefix) == "x" + prefix
    assert neutralise_formula(7) == 7 and neutralise_formula("") == ""


def test_vlmevalkit_cells_cannot_run_as_formulas(crafted, tmp_path):
    out = tmp_path / "vlm"
    export(crafted, "vlmevalkit", out)
    rows = [r for tsv in sorted(out.glob("*.tsv")) for r in _read_tsv(tsv)]
    assert rows
    for row in rows:
        for column, cell in row.items():
            if column != "image":
                assert not cell.startswith(FORMULA_PREFIXES), (column, cell)
        assert row["l2-category"] == "'=cmd|' /C calc'!A0"
    assert any(row["id"].startswith("'=HYPERLINK(") for row in rows)
    assert all(row["question"].startswith("'-") and "\r" not in row["question"] for row in rows)


def test_vlmevalkit_reads_index_and_image_back(crafted, tmp_path):
    """VLMEvalKit loads a TSV with `pd.read_csv(path, sep="\\t")`: `index` must stay integers and `image`
    the base64 it decodes; both are left as written."""
    pd = pytest.importorskip("pandas")
    out = tmp_path / "vlm"
    export(crafted, "vlmevalkit", out)
    frame = pd.read_csv(out / "spatial_ssrl_train.tsv", sep="\t")
    assert str(frame["index"].dtype).startswith("int") and list(frame["index"]) == list(range(len(frame)))
    for cell in frame["image"]:
        images = json.loads(cell) if cell.startswith("[") else [cell]
        for b64 in images:
            with Image.open(io.BytesIO(base64.b64decode(b64, validate=True))) as im:
                im.load()
    assert frame["id"].str.startswith("'=HYPERLINK(").any()  # read as text, the quote kept
