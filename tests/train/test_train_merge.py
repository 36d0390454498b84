"""LoRA cold start, then merging the adapter into a full model folder that behaves like the PEFT model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.train import sft
from spatial_ssrl.train.common import parse_args

pytestmark = pytest.mark.slow  # trains models: `pytest -m "not slow"` skips it

REPO = Path(__file__).resolve().parents[2]


def one_input(processor, data: Path):
    from datasets import load_dataset
    from trl.data_utils import prepare_multimodal_messages

    row = load_dataset("parquet", data_files=str(data), split="train")[0]
    messages = prepare_multimodal_messages(row["prompt"], images=row["images"])
    return processor.apply_chat_template(
        [messages], add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )


def test_lora_sft_then_merge_gives_the_same_logits(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText, AutoProcessor

    assert ssrl(["tiny-model", str(tmp_path / "tiny")]) == 0
    args = ["generate", str(tmp_path / "data"), "--synthetic", "4", "--per-task", "1", "--max-side", "160"]
    assert ssrl([*args, "--splits", "train=0.7,validation=0.3"]) == 0
    out = tmp_path / "lora"
    argv = ["--config", str(REPO / "configs/sft/tiny-cpu.yaml"), "--model_name_or_path", str(tmp_path / "tiny")]
    argv += ["--train_file", str(tmp_path / "data"), "--output_dir", str(out), "--report_to", "none"]
    argv += ["--use_peft", "true", "--lora_r", "8", "--lora_alpha", "16", "--lora_target_modules", "all-linear"]
    argv += ["--merge_lora", "true", "--max_steps", "3", "--learning_rate", "1e-2", "--eval_strategy", "no"]
    argv += ["--save_strategy", "no"]
    data_args, config, model_args = parse_args(sft.make_parser_types(), argv)
    sft.run_sft(data_args, config, model_args)
    assert (out / "adapter_config.json").exists()
    merged_dir = out / "merged"
    assert (merged_dir / "model.safetensors").exists()

    processor = AutoProcessor.from_pretrained(merged_dir)
    assert ssrl(["export", str(tmp_path / "data"), "trl", str(tmp_path / "trl"), "--splits", "validation"]) == 0
    inputs = one_input(processor, tmp_path / "trl" / "validation.parquet")
    assert inputs["pixel_values"].numel() > 0
    merged = AutoModelForImageTextToText.from_pretrained(merged_dir).eval()
    base = AutoModelForImageTextToText.from_pretrained(tmp_path / "tiny").eval()
    with torch.no_grad():
        base_logits = base(**inputs).logits
        peft_logits = PeftModel.from_pretrained(base, out).eval()(**inputs).logits
        merged_logits = merged(**inputs).logits
    assert not torch.allclose(base_logits, peft_logits, atol=1e-4), "the adapter did not change the model"
    torch.testing.assert_close(merged_logits, peft_logits, atol=1e-4, rtol=1e-4)


def test_merge_command_refuses_a_full_model(tmp_path, capsys):
    assert ssrl(["tiny-model", str(tmp_path / "tiny")]) == 0
    assert ssrl(["train", "merge", str(tmp_path / "tiny"), str(tmp_path / "out")]) == 2
    assert "no adapter_config.json" in capsys.readouterr().err
