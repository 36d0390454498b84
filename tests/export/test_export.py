"""Exports, each read back through its consumer's loading path as far as it runs here."""

from __future__ import annotations

import base64
import csv
import io
import json
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from spatial_ssrl.contract import parse_options
from spatial_ssrl.dataset.schema import read_rows
from spatial_ssrl.export import DEFAULT_FORMAT_PROMPT, FORMATS, export
from spatial_ssrl.export.common import question_without_options
from spatial_ssrl.rewards import score
from spatial_ssrl.rewards.normalize import normalize_answer
from tests.fixtures.datasets import TASKS, make_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("ds"))


@pytest.fixture(scope="module")
def source_rows(dataset) -> dict[str, dict]:
    return {r["id"]: r for r in read_rows(dataset)}


def _load_parquet(files: dict[str, str], cache: Path):
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset("parquet", data_files=files, cache_dir=str(cache))


def _good_response(answer: str) -> str:
    return f"<think>\nchecked\n</think>\n\\boxed{{{answer}}}"


def _no_tmp_left(out: Path) -> None:
    assert not list(out.rglob("*.tmp")), "temporary files left behind"


def test_dataset_fixture_has_every_task_and_two_splits(source_rows):
    splits = Counter(r["split"] for r in source_rows.values())
    assert set(splits) == {"train", "validation"}
    assert {r["task"] for r in source_rows.values() if r["split"] == "train"} == TASKS


def test_easyr1_loads_with_datasets(dataset, source_rows, tmp_path):
    out = tmp_path / "easyr1"
    files = export(dataset, "easyr1", out)
    assert {p.name for p in files} == {"train.parquet", "validation.parquet", "format_prompt.jinja"}
    ds = _load_parquet({s: str(out / f"{s}.parquet") for s in ("train", "validation")}, tmp_path / "cache")
    assert len(ds["train"]) + len(ds["validation"]) == len(source_rows)
    assert {"problem", "answer", "images", "task", "answer_type", "options"} <= set(ds["train"].column_names)
    for split in ("train", "validation"):
        for ex in ds[split]:
            src = source_rows[ex["id"]]
            assert ex["problem"] == src["problem"]  # the instruction comes from the template
            assert ex["problem"].count("<image>") == len(ex["images"]) >= 1
            assert all(isinstance(im, Image.Image) for im in ex["images"])
            assert normalize_answer(ex["answer"], ex["answer_type"], parse_options(ex["options"])) is not None
            assert ex["answer"] == src["answer"]
    template = (out / "format_prompt.jinja").read_text()
    assert template.startswith("{{ content | trim }}") and DEFAULT_FORMAT_PROMPT in template
    _no_tmp_left(out)


def test_easyr1_explicit_format_prompt_is_appended(dataset, tmp_path):
    out = tmp_path / "easyr1"
    files = export(dataset, "easyr1", out, splits=("train",), format_prompt="Box it.")
    assert [p.name for p in files] == ["train.parquet"]
    for row in pq.read_table(out / "train.parquet").to_pylist():
        assert row["problem"].endswith("\nBox it.")


def test_verl_layout_and_reward(dataset, source_rows, tmp_path):
    from spatial_ssrl.rewards.verl import compute_score

    out = tmp_path / "verl"
    export(dataset, "verl", out)
    ds = _load_parquet({"train": str(out / "train.parquet")}, tmp_path / "cache")["train"]
    assert ds.column_names == ["data_source", "prompt", "images", "ability", "reward_model", "extra_info"]
    for i, ex in enumerate(ds):
        info = ex["extra_info"]
        src = source_rows[info["id"]]
        assert ex["data_source"] == f"spatial_ssrl/{src['task']}"
        assert ex["ability"] == "spatial"
        assert ex["reward_model"] == {"style": "rule", "ground_truth": src["answer"]}
        assert info["index"] == i and info["split"] == "train" and info["task"] == src["task"]
        assert [m["role"] for m in ex["prompt"]] == ["user"]
        content = ex["prompt"][0]["content"]
        assert content.startswith(src["problem"].rstrip()) and content.endswith(DEFAULT_FORMAT_PROMPT)
        assert content.count("<image>") == len(ex["images"])
        assert all(isinstance(im, Image.Image) for im in ex["images"])
        truth = ex["reward_model"]["ground_truth"]
        assert normalize_answer(truth, info["answer_type"], parse_options(info["options"])) is not None
        assert compute_score(ex["data_source"], _good_response(truth), truth, info)["score"] == 1.0
        assert compute_score(ex["data_source"], "<think>x</think>\\boxed{nonsense}", truth, info)["acc"] == 0.0


def test_trl_prompt_has_image_parts_in_order(dataset, source_rows, tmp_path):
    from spatial_ssrl.rewards.trl import accuracy_reward, format_reward

    out = tmp_path / "trl"
    export(dataset, "trl", out)
    ds = _load_parquet({"train": str(out / "train.parquet")}, tmp_path / "cache")["train"]
    assert {"prompt", "images", "answer", "answer_type", "task", "variant", "options"} <= set(ds.column_names)
    for ex in ds:
        src = source_rows[ex["id"]]
        (message,) = ex["prompt"]
        assert message["role"] == "user"
        parts = message["content"]
        kinds = [p["type"] for p in parts]
        # TRL fills the image parts, in order, from `images` and requires the counts to match.
        assert kinds.count("image") == len(ex["images"]) == src["problem"].count("<image>")
        texts = [p["text"] for p in parts if p["type"] == "text"]
        assert not any("<image>" in t for t in texts)
        assert texts[-1].endswith(DEFAULT_FORMAT_PROMPT)
        # Rebuilding the problem from the parts gives back the original text.
        rebuilt = "".join("<image>" if p["type"] == "image" else p["text"] for p in parts)
        assert rebuilt.replace("\n" + DEFAULT_FORMAT_PROMPT, "") == src["problem"].rstrip()
        assert all(isinstance(im, Image.Image) for im in ex["images"])
    kwargs = {k: list(ds[k]) for k in ("answer", "answer_type", "task", "options")}
    completions = [[{"role": "assistant", "content": _good_response(a)}] for a in kwargs["answer"]]
    assert accuracy_reward(completions, **kwargs) == [1.0] * len(ds)
    assert format_reward(completions) == [1.0] * len(ds)


def test_crop_prompt_interleaves_candidates(dataset, tmp_path):
    out = tmp_path / "trl"
    export(dataset, "trl", out, splits=("train",))
    crop = next(r for r in pq.read_table(out / "train.parquet").to_pylist() if r["task"] == "crop")
    kinds = [p["type"] for p in crop["prompt"][0]["content"]]
    assert kinds[0] == "image" and kinds.count("image") == 5
    assert kinds[1:] == ["text", "image"] * 4 + ["text"]  # "A. <image>\nB. <image>..." stays interleaved


def test_llamafactory_files_and_dataset_info(dataset, source_rows, tmp_path):
    out = tmp_path / "lf"
    (out).mkdir()
    (out / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "other.json"}}))
    files = export(dataset, "llamafactory", out)
    assert {p.name for p in files} == {"spatial_ssrl_train.json", "spatial_ssrl_validation.json", "dataset_info.json"}
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["other"] == {"file_name": "other.json"}  # existing entries are kept
    total = 0
    for split in ("train", "validation"):
        entry = info[f"spatial_ssrl_{split}"]
        assert entry == {
            "file_name": f"spatial_ssrl_{split}.json",
            "formatting": "alpaca",
            "columns": {"prompt": "instruction", "query": "input", "response": "output", "images": "images"},
        }
        records = json.loads((out / entry["file_name"]).read_text())
        total += len(records)
        for rec in records:
            src = source_rows[rec["id"]]
            assert set(rec) >= {"instruction", "input", "output", "images"}
            assert rec["input"] == ""
            assert rec["instruction"].count("<image>") == len(rec["images"]) == len(src["images"])
            assert rec["instruction"].endswith(DEFAULT_FORMAT_PROMPT)
            for rel in rec["images"]:
                assert not Path(rel).is_absolute()
                with Image.open(out / rel) as im:
                    im.verify()
            assert score(rec["output"], src["answer"], src["answer_type"], src["options"])["overall"] == 1.0
    assert total == len(source_rows)
    _no_tmp_left(out)
    # A second export replaces the first cleanly (no stale image folders).
    export(dataset, "llamafactory", out, splits=("train",))
    assert sorted(p.name for p in (out / "images").iterdir()) == ["spatial_ssrl_train", "spatial_ssrl_validation"]


def _read_tsv(path: Path) -> list[dict]:
    csv.field_size_limit(sys.maxsize)  # a crop row holds five base64 images in one field
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _decode(b64: str) -> Image.Image:
    im = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    im.load()
    return im


def test_vlmevalkit_tsv(dataset, source_rows, tmp_path):
    out = tmp_path / "vlm"
    export(dataset, "vlmevalkit", out)
    for split in ("train", "validation"):
        rows = _read_tsv(out / f"spatial_ssrl_{split}.tsv")
        assert len(rows) == sum(r["split"] == split for r in source_rows.values())
        assert [int(r["index"]) for r in rows] == list(range(len(rows)))
        for r in rows:
            src = source_rows[r["id"]]
            assert r["category"] == src["task"] and r["l2-category"] == src["variant"]
            assert r["answer"] == src["answer"]
            assert "<image>" not in r["question"] and r["question"]
            n = len(src["images"])
            if n == 1:
                assert _decode(r["image"]).size[0] > 0
            else:
                images = json.loads(r["image"])  # VLMEvalKit parses a list literal into several images
                assert len(images) == n and all(_decode(b).size[0] > 0 for b in images)
                assert len(json.loads(r["image_path"])) == n
                meta = json.loads(src["meta"])
                if src["task"] == "crop":
                    assert "image 2 is option A" in r["question"]
                else:  # a video task: every frame is named after its clip or place in time
                    assert meta["image_names"] and all(
                        f"image {k} is {name}" in r["question"] for k, name in enumerate(meta["image_names"], 1)
                    )
            options = parse_options(src["options"])
            if src["answer_type"] == "choice":
                assert all(r[L] for L in "ABCD") and r["answer"] in "ABCD" and len(r["answer"]) == 1
                assert [r[L] for L in "ABCD"] == [options[L] for L in "ABCD"]
                for text in options.values():  # the options are laid out by VLMEvalKit, not repeated
                    assert f"\nA. {text}" not in r["question"]
                assert "Options:" not in r["question"]
            else:
                assert not any(r[L] for L in "ABCD")
                assert normalize_answer(r["answer"], src["answer_type"]) is not None
        mcq = _read_tsv(out / f"spatial_ssrl_{split}_mcq.tsv")
        open_ = _read_tsv(out / f"spatial_ssrl_{split}_open.tsv")
        assert len(mcq) + len(open_) == len(rows)
        assert all(r["answer_type"] == "choice" for r in mcq)
        assert open_ == [] or not {"A", "B", "C", "D"} & set(open_[0])  # routed to VLMEvalKit's VQA class
        assert all(r["answer_type"] != "choice" for r in open_)
    _no_tmp_left(out)


def _vlmevalkit_dump(b64: str, name: str, img_root: Path) -> Path:
    """VLMEvalKit's path from a TSV cell to the file a model reads, as its code does it (read, not
    copied): base64-decode, open with PIL, convert RGBA/P/LA to RGB, `save(os.path.join(img_root, name))`
    with the format PIL infers from the file name."""
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    if image.mode in ("RGBA", "P", "LA"):
        image = image.convert("RGB")
    path = img_root / name
    image.save(path)
    return path


def test_vlmevalkit_images_survive_its_dump_lossless(dataset, source_rows, tmp_path):
    """Every image VLMEvalKit writes to disk from our TSV decodes to exactly the pixels of the dataset's
    image (byte-identical arrays), for single and multi-image rows: the names end in `.png`."""
    import numpy as np

    out = tmp_path / "vlm"
    export(dataset, "vlmevalkit", out)
    checked = 0
    for r in _read_tsv(out / "spatial_ssrl_validation.tsv") + _read_tsv(out / "spatial_ssrl_train.tsv"):
        src = source_rows[r["id"]]
        cells = json.loads(r["image"]) if len(src["images"]) > 1 else [r["image"]]
        names = json.loads(r["image_path"]) if len(src["images"]) > 1 else [r["image_path"]]
        for cell, name, original in zip(cells, names, src["images"], strict=True):
            assert name.endswith(".png")
            saved = np.asarray(Image.open(_vlmevalkit_dump(cell, name, tmp_path)).convert("RGB"))
            want = np.asarray(Image.open(io.BytesIO(original["bytes"])).convert("RGB"))
            assert saved.shape == want.shape and saved.tobytes() == want.tobytes(), name
            checked += 1
    assert checked >= len(source_rows)


def test_question_without_options_keeps_the_question():
    problem = "<image>\nWhere?\nOptions:\nA. Front\nB. Back\nAnswer with the letter."
    text, option_images = question_without_options(problem, {"A": "Front", "B": "Back"})
    assert text == "Where?\nAnswer with the letter." and option_images == []
    text, option_images = question_without_options("<image>\nPick.\nA. <image>\nB. <image>", {"A": "a", "B": "b"})
    assert text == "Pick." and option_images == [(2, "A"), (3, "B")]


def test_export_rejects_unknown_format_and_missing_data(dataset, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export(dataset, "nope", tmp_path / "x")
    with pytest.raises(FileNotFoundError):
        export(tmp_path / "empty", "verl", tmp_path / "x")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_skips_absent_splits_and_streams_all_shards(dataset, source_rows, tmp_path, fmt):
    files = export(dataset, fmt, tmp_path / fmt, splits=("train", "test"))
    assert files and not any("test" in p.name for p in files)
    n_train = sum(r["split"] == "train" for r in source_rows.values())
    data_files = [p for p in files if p.suffix in (".parquet", ".json", ".tsv") and p.name != "dataset_info.json"]
    first = data_files[0]
    if first.suffix == ".parquet":
        assert pq.read_metadata(first).num_rows == n_train  # rows from both train shards
    elif first.suffix == ".json":
        assert len(json.loads(first.read_text())) == n_train
    else:
        assert len(_read_tsv(first)) == n_train
