"""The errors a user hits first: each raised before training, with a message naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.train import grpo, sft
from spatial_ssrl.train.checks import TrainingSetupError, check_hardware, check_prompt_length, prompt_rows
from spatial_ssrl.train.common import parse_args, resolve_resume

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
CPU = ["--use_cpu", "true", "--bf16", "false", "--report_to", "none"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("checks")
    assert ssrl(["tiny-model", str(root / "tiny")]) == 0
    args = ["generate", str(root / "data"), "--synthetic", "4", "--per-task", "1", "--max-side", "320"]
    assert ssrl([*args, "--splits", "train=0.7,validation=0.3"]) == 0
    assert ssrl(["export", str(root / "data"), "trl", str(root / "trl")]) == 0
    assert ssrl(["coldstart", str(root / "data"), str(root / "cold")]) == 0
    return root


def test_grpo_on_the_cold_start_file_names_the_missing_columns(work, capsys):
    argv = ["--model_name_or_path", str(work / "tiny"), "--output_dir", str(work / "g1"), *CPU]
    assert grpo.main([*argv, "--train_file", str(work / "cold" / "spatial_ssrl_coldstart.parquet")]) == 2
    err = capsys.readouterr().err
    assert "'prompt'" in err and "'answer'" in err and "GRPO needs" in err
    assert "SFT (cold-start) file" in err and "ssrl export DATASET trl OUT" in err


def test_sft_on_the_grpo_export_names_the_missing_columns(work, capsys):
    argv = ["--model_name_or_path", str(work / "tiny"), "--output_dir", str(work / "s1"), *CPU]
    assert sft.main([*argv, "--train_file", str(work / "trl" / "train.parquet")]) == 2
    err = capsys.readouterr().err
    assert "'messages'" in err and "GRPO export" in err and "ssrl coldstart DATASET OUT" in err


def test_too_many_image_tokens_says_which_pixel_bound_to_lower(work, capsys):
    # Crop prompts carry 5 images; at up to 64 tokens each they cannot fit 200 tokens.
    argv = ["--model_name_or_path", str(work / "tiny"), "--output_dir", str(work / "g2"), *CPU, "--tasks", "crop"]
    argv += ["--train_file", str(work / "trl" / "train.parquet"), "--max_pixels", str(28 * 28 * 64)]
    assert grpo.main([*argv, "--max_prompt_length", "200"]) == 2
    err = capsys.readouterr().err
    assert "too long for max_prompt_length=200" in err and "5 image(s)" in err and "task crop" in err
    assert "Lower max_pixels from 50176 to at most" in err and "--max_pixels" in err


def test_the_suggested_max_pixels_fits(work):
    from datasets import load_dataset
    from transformers import AutoProcessor

    from spatial_ssrl.train.common import set_pixel_bounds

    processor = AutoProcessor.from_pretrained(work / "tiny")
    set_pixel_bounds(processor, None, 28 * 28 * 64)
    ds = load_dataset("parquet", data_files=str(work / "trl" / "train.parquet"), split="train")
    rows = prompt_rows(ds)
    info = check_prompt_length(rows, processor, 10_000, "max_prompt_length")
    limit = info["tokens"] - 40  # the longest prompt must shed 40 tokens
    with pytest.raises(TrainingSetupError, match="--max_pixels") as exc:
        check_prompt_length(rows, processor, limit, "max_prompt_length")
    suggested = int(str(exc.value).split("--max_pixels ")[1].split(")")[0].split(" ")[0])
    set_pixel_bounds(processor, None, suggested)
    assert check_prompt_length(rows, processor, limit, "max_prompt_length")["tokens"] <= limit
    set_pixel_bounds(processor, None, suggested + 28 * 28)  # the bound is tight: one token-worth more fails
    with pytest.raises(TrainingSetupError):
        check_prompt_length(rows, processor, limit, "max_prompt_length")


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without a GPU")
def test_paper_config_on_a_cpu_machine_suggests_the_cpu_settings(work, capsys):
    argv = ["--config", str(CONFIGS / "grpo" / "qwen2_5_vl_7b.yaml"), "--output_dir", str(work / "g3")]
    assert grpo.main(argv) == 2
    err = capsys.readouterr().err
    assert "no CUDA GPU" in err and "bf16=True" in err
    assert "--use_cpu true --bf16 false" in err and "configs/grpo/tiny-cpu.yaml" in err


def test_gpu_only_features_without_a_gpu():
    for settings, needle in [
        ({"fp16": True}, "fp16"),
        ({"bf16": True}, "bf16"),
        ({"use_vllm": True, "use_cpu": True}, "vLLM"),
        ({"deepspeed": "ds.json", "use_cpu": True}, "DeepSpeed"),
        ({"attn_implementation": "flash_attention_2"}, "flash"),
        ({"load_in_4bit": True}, "bitsandbytes"),
    ]:
        with pytest.raises(TrainingSetupError, match=needle) as exc:
            check_hardware(settings, gpu=False)
        assert "--use_cpu true" in str(exc.value)
    check_hardware({"bf16": True, "use_cpu": True}, gpu=False)  # CPU bf16 autocast is allowed
    check_hardware({"bf16": True, "fp16": False}, gpu=True)


def test_vllm_is_an_optional_dependency():
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed")
    with pytest.raises(TrainingSetupError, match="pip install vllm"):
        check_hardware({"use_vllm": True}, gpu=True)


def test_resume_requested_without_a_checkpoint(tmp_path):
    from trl import GRPOConfig

    config = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, resume_from_checkpoint="true")
    with pytest.raises(TrainingSetupError, match="no checkpoint"):
        resolve_resume(config)
    (tmp_path / "checkpoint-7").mkdir()
    assert resolve_resume(config).endswith("checkpoint-7")
    config.resume_from_checkpoint = None
    assert resolve_resume(config, auto_resume=False) is None
    assert resolve_resume(config).endswith("checkpoint-7")


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_configs_parse(path):
    if path.parent.name == "accelerate":
        config = yaml.safe_load(path.read_text())
        assert config["num_processes"] % config["num_machines"] == 0
        return
    module = sft if path.parent.name == "sft" else grpo
    data_args, config, model_args = parse_args(module.make_parser_types(), ["--config", str(path), *CPU])
    raw = yaml.safe_load(path.read_text())
    assert data_args.train_file and model_args.model_name_or_path and config.output_dir
    if path.stem == "tiny-cpu":
        return
    assert raw["min_pixels"] == 262144 and raw["max_pixels"] == 4194304
    if path.parent.name == "sft":  # cold start: 5 epochs, lr 1e-5, LoRA rank 128 on all modules, merged
        assert (config.num_train_epochs, config.learning_rate) == (5, 1e-5)
        assert model_args.use_peft and model_args.lora_r == 128 and data_args.merge_lora
        assert model_args.lora_target_modules == "all-linear"
    else:  # GRPO: 5 rollouts at T=1, 256 prompts per rollout batch, 128 prompts per update on 8 GPUs
        assert (config.num_generations, config.temperature, config.learning_rate) == (5, 1.0, 1e-6)
        assert (config.beta, config.max_completion_length, data_args.max_prompt_length) == (0.01, 2048, 4096)
        assert raw["generation_batch_size"] == 256 * 5
        assert raw["per_device_train_batch_size"] * 8 * raw["gradient_accumulation_steps"] == 128 * 5
        assert config.reward_weights == [0.9, 0.1] and config.max_steps == 720
        assert (data_args.eval_temperature, data_args.eval_top_p) == (0.6, 0.95)
