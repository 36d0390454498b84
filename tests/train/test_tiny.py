"""The offline tiny models load with the transformers versions trainers pin: files written the way
released Qwen-VL checkpoints have them, and one tokenisation whichever way the tokenizer is built."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

TEXT = "Order the regions by depth, nearest first (for example, 2-3-1).\n<|im_start|>assistant\n"


@pytest.fixture(scope="module", params=["qwen2_5_vl", "qwen3_vl"])
def tiny(request, tmp_path_factory):
    from spatial_ssrl.train.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp(request.param), request.param)


def test_config_files_are_readable_by_transformers_4(tiny):
    tokenizer_config = json.loads((tiny / "tokenizer_config.json").read_text())
    # transformers 5 writes `TokenizersBackend` and a list under extra_special_tokens; 4.x reads neither.
    assert tokenizer_config["tokenizer_class"] == "Qwen2Tokenizer"
    assert isinstance(tokenizer_config["additional_special_tokens"], list)
    assert "extra_special_tokens" not in tokenizer_config or isinstance(tokenizer_config["extra_special_tokens"], dict)
    config = json.loads((tiny / "config.json").read_text())
    text = config.get("text_config", config)
    if "rope_parameters" in text:  # 4.x reads the rotary settings under their released names
        assert text["rope_scaling"]["mrope_section"] == text["rope_parameters"]["mrope_section"]


def test_tokenizer_json_and_the_qwen2_tokenizer_class_agree(tiny):
    """transformers 4.x tokenizes with tokenizer.json as written; 5.x rebuilds Qwen2Tokenizer's
    pre-tokenizer from its own pattern. The tiny tokenizer uses that pattern, so both give one sequence."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    rebuilt = AutoTokenizer.from_pretrained(tiny)
    as_written = PreTrainedTokenizerFast(tokenizer_file=str(tiny / "tokenizer.json"))
    assert type(rebuilt).__name__ == "Qwen2Tokenizer"
    assert rebuilt(TEXT)["input_ids"] == as_written(TEXT)["input_ids"]
    assert rebuilt.decode(rebuilt(TEXT)["input_ids"]) == TEXT


@pytest.mark.parametrize("arch", ["qwen2_5_vl", "qwen3_vl"])
def test_vision_size_and_pixel_bound_are_what_was_asked(arch, tmp_path):
    """`--max-pixels` bounds the visual tokens of an image; `--vision-hidden/--vision-depth` size the encoder."""
    import numpy as np
    from PIL import Image
    from transformers import AutoConfig, AutoProcessor

    from spatial_ssrl.cli import main

    side = {"qwen2_5_vl": 28, "qwen3_vl": 32}[arch]  # pixels per visual token side: patch x merge (14x2, 16x2)
    assert main(["tiny-model", str(tmp_path), "--arch", arch, "--max-pixels", str(side * side * 64)]
                + ["--vision-hidden", "48", "--vision-depth", "3"]) == 0  # fmt: skip
    vision = AutoConfig.from_pretrained(tmp_path).vision_config
    assert (vision.hidden_size, vision.depth) == (48, 3)
    processor = AutoProcessor.from_pretrained(tmp_path)
    image = Image.fromarray(np.zeros((480, 640, 3), np.uint8))
    grid = processor.image_processor(images=[image], return_tensors="pt")["image_grid_thw"][0]
    merged_tokens = int(grid.prod()) // 4  # 2x2 patches per visual token
    assert 48 <= merged_tokens <= 64  # the aspect ratio rounds the grid down


def test_bad_tiny_model_sizes_are_one_line_errors(tmp_path, capsys):
    from spatial_ssrl.cli import main

    assert main(["tiny-model", str(tmp_path / "m"), "--vision-depth", "0"]) == 2
    assert main(["tiny-model", str(tmp_path / "m"), "--max-pixels", "10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert not (tmp_path / "m").exists()
