"""Cold-start responses from each sample's construction, the stratified train-only selection, the writers."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from spatial_ssrl.dataset.coldstart import NAME, response_for, select_coldstart
from spatial_ssrl.dataset.schema import SCHEMA, read_rows
from spatial_ssrl.engine.registry import get_task, list_tasks
from spatial_ssrl.export.coldstart import write_coldstart
from spatial_ssrl.rewards import score
from spatial_ssrl.rewards.extract import parse_response
from tests.fixtures.datasets import TASKS, make_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("ds"))


@pytest.fixture(scope="module")
def rows(dataset) -> list[dict]:
    return list(read_rows(dataset))


def _rescored(row: dict, response: str) -> dict:
    return score(response, row["answer"], row["answer_type"], row["options"])


def test_every_template_response_thinks_then_scores_one(rows):
    assert {r["task"] for r in rows} == TASKS == {t for t in list_tasks() if get_task(t).coldstart}
    for row in rows:
        response = response_for(row)
        parsed = parse_response(response)
        assert parsed.think_ok and response.lstrip().startswith("<think>")
        assert response.rstrip().endswith(f"\\boxed{{{row['answer']}}}")
        assert _rescored(row, response) == {"overall": 1.0, "format": 1.0, "accuracy": 1.0}, row["id"]


def test_responses_state_the_construction_evidence(rows):
    by_task = {}
    for r in rows:
        by_task.setdefault(r["task"], r)
    text = {t: response_for(r) for t, r in by_task.items()}
    flip_meta = json.loads(by_task["flip"]["meta"])
    assert f"Piece {flip_meta['flipped_label']}" in text["flip"]
    assert ("vertical flip" if flip_meta["direction"] == 0 else "horizontal flip") in text["flip"]
    assert "edge of" in text["shuffle"]  # which seams match
    crop_kinds = json.loads(by_task["crop"]["meta"])["option_kinds"]
    assert all(f"{letter} " in text["crop"] for letter in crop_kinds)
    assert "times as far" in text["depth_order"] and "nearest" in text["depth_order"]
    pos_meta = json.loads(by_task["position"]["meta"])
    assert "facing" in text["position"] and "offset" in text["position"] and pos_meta["answer_text"] in text["position"]


def test_brief_reasoning_names_the_answer_and_still_scores_one(rows):
    for row in rows:
        response = response_for(row, reasoning="brief")
        assert response == f"<think>\nThe answer is {row['answer']}.\n</think>\n\\boxed{{{row['answer']}}}"
        assert _rescored(row, response) == {"overall": 1.0, "format": 1.0, "accuracy": 1.0}, row["id"]
        assert len(response) < len(response_for(row))  # the evidence is gone
    flip = next(r for r in rows if r["task"] == "flip")
    wrong = dict(flip, answer="3-1" if flip["answer"] != "3-1" else "0-0")
    with pytest.raises(ValueError, match="meta gives"):  # the template still guards the row in the brief style
        response_for(wrong, reasoning="brief")
    with pytest.raises(ValueError, match="reasoning must be one of"):
        response_for(flip, reasoning="long")


def test_template_rejects_meta_that_contradicts_the_answer(rows):
    row = next(r for r in rows if r["task"] == "flip")
    wrong = dict(row, answer="3-1" if row["answer"] != "3-1" else "0-0")
    with pytest.raises(ValueError, match="meta gives"):
        response_for(wrong)
    with pytest.raises(KeyError):
        response_for(dict(row, task="not_a_task"))


def _big_dataset(root: Path, rows: list[dict], copies: int) -> Path:
    """Many rows for selection tests (selection reads only id / task / source_id)."""
    data = root / "data"
    data.mkdir(parents=True)
    train = [r for r in rows if r["split"] == "train"]
    out = []
    for k in range(copies):
        for r in train:
            out.append(dict(r, id=f"{r['id']}#{k}", source_id=f"{r['source_id']}#{k}", images=[]))
    held = [dict(r, split="validation", images=[]) for r in rows if r["split"] == "validation"]
    # One train row that shares its source with validation must never be picked.
    leak = dict(train[0], id="leak:row", source_id=held[0]["source_id"], images=[])
    half = len(out) // 2
    for name, part in (("train-00000", out[:half]), ("train-00001", out[half:] + [leak]), ("validation-00000", held)):
        pq.write_table(pa.Table.from_pylist(part, schema=SCHEMA), data / f"{name}.parquet")
    return root


def test_selection_is_stratified_train_only_and_deterministic(rows, tmp_path):
    root = _big_dataset(tmp_path / "big", rows, copies=150)
    train = list(read_rows(root, "train", columns=["id", "task", "source_id"]))
    held_sources = {r["source_id"] for r in read_rows(root, "validation", columns=["source_id"])}
    eligible = Counter(r["task"] for r in train if r["source_id"] not in held_sources)
    n = sum(eligible.values())

    ids = select_coldstart(root)
    assert ids == select_coldstart(root) == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert "leak:row" not in ids
    task_of = {r["id"]: r["task"] for r in train}
    assert set(ids) <= set(task_of)  # train only
    picked = Counter(task_of[i] for i in ids)
    assert set(picked) == TASKS
    for task, count in eligible.items():
        assert picked[task] == max(1, math.floor(0.044 * count + 0.5))
    assert abs(len(ids) - 0.044 * n) <= len(eligible) / 2  # within per-task rounding
    assert select_coldstart(root, seed=1) != ids
    assert len(select_coldstart(root, fraction=0.1)) > len(ids)
    with pytest.raises(ValueError):
        select_coldstart(root, fraction=0)


def test_every_task_is_represented_on_a_tiny_dataset(dataset):
    ids = select_coldstart(dataset)
    train = {r["id"]: r["task"] for r in read_rows(dataset, "train", columns=["id", "task"])}
    assert {train[i] for i in ids} == TASKS


def test_write_coldstart_llamafactory_and_trl(dataset, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "cs"
    summary = write_coldstart(dataset, out)
    ids = select_coldstart(dataset)
    assert summary["selected"] == summary["written"] == len(ids) and summary["dropped"] == {}
    by_id = {r["id"]: r for r in read_rows(dataset, "train")}

    info = json.loads((out / "dataset_info.json").read_text())
    assert info[NAME]["file_name"] == f"{NAME}.json" and info[NAME]["formatting"] == "alpaca"
    records = json.loads((out / f"{NAME}.json").read_text())
    assert sorted(r["id"] for r in records) == ids
    for rec in records:
        src = by_id[rec["id"]]
        assert rec["instruction"].count("<image>") == len(rec["images"])
        assert all((out / p).is_file() for p in rec["images"])
        assert rec["output"] == response_for(src)
        assert _rescored(src, rec["output"])["overall"] == 1.0

    ds = datasets.load_dataset("parquet", data_files=str(out / f"{NAME}.parquet"), cache_dir=str(tmp_path / "c"))
    ds = ds["train"]
    assert sorted(list(ds["id"])) == ids
    for ex in ds:
        user, assistant = ex["messages"]
        assert user["role"] == "user" and assistant["role"] == "assistant"
        assert sum(p["type"] == "image" for p in user["content"]) == len(ex["images"])
        assert all(isinstance(im, Image.Image) for im in ex["images"])
        assert assistant["content"] == [{"type": "text", "text": response_for(by_id[ex["id"]])}]


def test_responder_hook_replaces_the_template(dataset, tmp_path):
    seen = []

    def responder(row):
        seen.append(row["id"])
        return f"<think>model says so</think>\\boxed{{{row['answer']}}}"

    out = tmp_path / "hook"
    summary = write_coldstart(dataset, out, responder=responder)
    assert sorted(seen) == select_coldstart(dataset)
    records = json.loads((out / f"{NAME}.json").read_text())
    assert records and all("model says so" in r["output"] for r in records)
    assert summary["written"] == len(seen)

    def wrong(row):
        return "<think>guess</think>\\boxed{Z}"

    dropped = write_coldstart(dataset, tmp_path / "wrong", responder=wrong)
    assert dropped["written"] == 0 and dropped["dropped"] == {"reward_below_1": len(seen)}
    kept = write_coldstart(dataset, tmp_path / "kept", responder=wrong, validate=False)
    assert kept["written"] == len(seen)
