"""Training data: on-the-fly exports (reused while unchanged), task filter, sample caps, format instruction."""

from __future__ import annotations

import pytest

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.contract import DEFAULT_FORMAT_PROMPT
from spatial_ssrl.train.args import DataArguments
from spatial_ssrl.train.data import load_split, prepare_files, replace_format_prompt


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    args = ["generate", str(root / "ds"), "--synthetic", "4", "--per-task", "1", "--max-side", "160"]
    assert ssrl([*args, "--splits", "train=0.7,validation=0.3"]) == 0
    return root / "ds"


def test_dataset_folder_is_exported_once_and_reused(dataset, tmp_path):
    args = DataArguments(train_file=str(dataset))
    files = prepare_files(args, str(tmp_path), "grpo")
    assert files.train == tmp_path / "data" / "grpo" / "train.parquet" and files.eval.name == "validation.parquet"
    mtime = files.train.stat().st_mtime_ns
    assert prepare_files(args, str(tmp_path), "grpo").train.stat().st_mtime_ns == mtime
    other = prepare_files(DataArguments(train_file=str(dataset), format_prompt=""), str(tmp_path), "grpo")
    assert other.train.stat().st_mtime_ns != mtime  # a different instruction is a different export

    sft_files = prepare_files(DataArguments(train_file=str(dataset), coldstart_fraction=1.0), str(tmp_path), "sft")
    train = load_split(sft_files.train, args, "sft", train=True, exported=True)
    assert {"prompt", "completion", "images"} <= set(train.column_names)
    assert train[0]["completion"][0]["role"] == "assistant" and train[0]["prompt"][-1]["role"] == "user"
    assert sft_files.eval is not None  # the validation split, with construction-based responses


def test_brief_coldstart_reasoning_reaches_train_and_validation_files(dataset, tmp_path):
    import pyarrow.parquet as pq

    full = prepare_files(DataArguments(train_file=str(dataset), coldstart_fraction=1.0), str(tmp_path), "sft")
    texts = {}
    for style in ("full", "brief"):
        args = DataArguments(train_file=str(dataset), coldstart_fraction=1.0, coldstart_reasoning=style)
        files = prepare_files(args, str(tmp_path / style), "sft")
        texts[style] = [
            m[-1]["content"][0]["text"]
            for f in (files.train, files.eval)
            for m in pq.read_table(f)["messages"].to_pylist()
        ]
    assert texts["full"] and len(texts["full"]) == len(texts["brief"])
    assert all(t.startswith("<think>\nThe answer is ") and t.count("\n") == 3 for t in texts["brief"])
    assert not any(t.startswith("<think>\nThe answer is ") for t in texts["full"])
    # the export is keyed by the style: switching it in the same output folder re-exports
    brief_here = prepare_files(
        DataArguments(train_file=str(dataset), coldstart_fraction=1.0, coldstart_reasoning="brief"),
        str(tmp_path),
        "sft",
    )
    assert brief_here.train == full.train
    assert pq.read_table(brief_here.train)["messages"].to_pylist()[0][-1]["content"][0]["text"] in texts["brief"]
    with pytest.raises(ValueError, match="coldstart_reasoning must be one of"):
        DataArguments(coldstart_reasoning="short")


def test_tasks_filter_and_sample_cap(dataset, tmp_path):
    files = prepare_files(DataArguments(train_file=str(dataset)), str(tmp_path), "grpo")
    args = DataArguments(train_file=str(files.train), tasks=["crop", "flip"], max_train_samples=3)
    ds = load_split(files.train, args, "grpo", train=True, seed=1)
    assert len(ds) == 3 and set(ds["task"]) <= {"crop", "flip"}
    crop = [r for r in ds if r["task"] == "crop"]
    assert all(len(r["images"]) == 5 for r in crop)  # multi-image prompts keep every image


def test_format_prompt_replaces_the_default_instruction_of_a_parquet(dataset, tmp_path):
    files = prepare_files(DataArguments(train_file=str(dataset)), str(tmp_path), "grpo")
    args = DataArguments(train_file=str(files.train), format_prompt="Box the answer.")
    ds = load_split(files.train, args, "grpo", train=True)
    text = [p["text"] for p in ds[0]["prompt"][0]["content"] if p["type"] == "text"][-1]
    assert text.endswith("\nBox the answer.") and DEFAULT_FORMAT_PROMPT not in text


def test_replace_format_prompt_with_plain_and_structured_content():
    plain = [{"role": "user", "content": f"Q?\n{DEFAULT_FORMAT_PROMPT}"}]
    assert replace_format_prompt(plain, "")[0]["content"] == "Q?"
    parts = [{"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "Q?"}]}]
    out = replace_format_prompt(parts, "Think.")
    assert out[0]["content"][-1]["text"] == "Q?\nThink." and parts[0]["content"][-1]["text"] == "Q?"
