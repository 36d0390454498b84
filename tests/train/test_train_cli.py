"""`ssrl tiny-model` and `ssrl train`: both architectures build, and GRPO runs on the Qwen3-VL one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial_ssrl.cli import main as ssrl

REPO = Path(__file__).resolve().parents[2]


def test_tiny_model_command_builds_a_loadable_qwen3_vl(tmp_path, capsys):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    assert ssrl(["tiny-model", str(tmp_path / "q3"), "--arch", "qwen3_vl"]) == 0
    assert json.loads((tmp_path / "q3" / "spatial_ssrl_tiny.json").read_text())["arch"] == "qwen3_vl"
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "q3")
    assert model.config.model_type == "qwen3_vl"
    assert AutoProcessor.from_pretrained(tmp_path / "q3").image_processor.patch_size == 16


def test_train_help_lists_the_commands(capsys):
    assert ssrl(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "ssrl train sft" in out and "ssrl train grpo" in out and "ssrl train merge" in out


@pytest.mark.slow
def test_grpo_command_on_tiny_qwen3_vl_with_a_custom_format_prompt(tmp_path):
    assert ssrl(["tiny-model", str(tmp_path / "q3"), "--arch", "qwen3_vl"]) == 0
    args = ["generate", str(tmp_path / "data"), "--synthetic", "4", "--per-task", "1", "--max-side", "160"]
    assert ssrl([*args, "--splits", "train=0.7,validation=0.3"]) == 0
    out = tmp_path / "run"
    argv = ["train", "grpo", "--config", str(REPO / "configs/grpo/tiny-cpu.yaml"), "--output_dir", str(out)]
    argv += ["--model_name_or_path", str(tmp_path / "q3"), "--train_file", str(tmp_path / "data")]
    argv += ["--max_steps", "2", "--max_completion_length", "8", "--eval_strategy", "no", "--save_strategy", "no"]
    argv += ["--format_prompt", "Answer in \\boxed{}.", "--report_to", "none"]
    assert ssrl(argv) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "reward" in r] == [1, 2]
    from datasets import load_dataset

    prompts = load_dataset("parquet", data_files=str(out / "data" / "grpo" / "train.parquet"), split="train")
    last_text = [p["text"] for p in prompts[0]["prompt"][0]["content"] if p["type"] == "text"][-1]
    assert last_text.endswith("Answer in \\boxed{}.") and "<think>" not in last_text
