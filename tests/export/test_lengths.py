"""`ssrl lengths`: prompt tokens per task with the real processor, checked against Qwen2.5-VL's image
token rule computed independently (smart_resize: sides rounded to multiples of 28 within the pixel
limits, one token per 28x28 block)."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from spatial_ssrl.cli import main
from spatial_ssrl.export import lengths
from spatial_ssrl.export.common import rows_of
from tests.fixtures.datasets import make_dataset

pytest.importorskip("transformers")

QWEN_MIN_PIXELS, QWEN_MAX_PIXELS = 56 * 56, 28 * 28 * 1280  # a common training setting for Qwen2.5-VL


def qwen_image_tokens(width: int, height: int, min_pixels: int, max_pixels: int) -> int:
    """Tokens of one image for Qwen2.5-VL (patch 14, 2x2 merge), from its published resize rule."""
    h, w = round(height / 28) * 28, round(width / 28) * 28
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h, w = math.floor(height / beta / 28) * 28, math.floor(width / beta / 28) * 28
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / 28) * 28, math.ceil(width * beta / 28) * 28
    return (h // 28) * (w // 28)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from spatial_ssrl.train.tiny import build_tiny_model

    model = build_tiny_model(tmp_path_factory.mktemp("tiny"), "qwen2_5_vl")
    return make_dataset(tmp_path_factory.mktemp("ds")), model


def test_lengths_match_the_image_token_rule_and_the_settings_fit(setup, capsys):
    dataset, model = setup
    processor = lengths.load_processor(str(model), QWEN_MIN_PIXELS, QWEN_MAX_PIXELS)
    records = lengths.measure(dataset, processor, "train")
    rows = {r["id"]: r for r in rows_of(dataset, "train")}
    prompt = lengths.resolve_format_prompt(None)
    for rec in records:
        row = rows[rec["id"]]
        sizes = [Image.open(io.BytesIO(im["bytes"])).size for im in row["images"]]
        image_tokens = sum(qwen_image_tokens(w, h, QWEN_MIN_PIXELS, QWEN_MAX_PIXELS) for w, h in sizes)
        text = processor.apply_chat_template(
            [lengths.row_message(row, prompt)], add_generation_prompt=True, tokenize=False
        )
        text_tokens = len(processor.tokenizer(text)["input_ids"])  # one <|image_pad|> per image before expansion
        assert rec["tokens"] == text_tokens - len(sizes) + image_tokens, rec
    table = lengths.length_table(records)
    assert set(table) == {r["task"] for r in records} | {"all"}
    assert table["all"]["n"] == len(records) and table["all"]["max"] == max(r["tokens"] for r in records)
    assert table["crop"]["max"] > table["flip"]["max"]  # five images against one
    n = lengths.suggested_max_prompt_length(table)
    assert n % lengths.PROMPT_LENGTH_STEP == 0 and n >= table["all"]["max"] * lengths.PROMPT_LENGTH_MARGIN

    args = ["lengths", str(dataset), "--processor", str(model), "--limit", "0"]
    assert main([*args, "--min-pixels", str(QWEN_MIN_PIXELS), "--max-pixels", str(QWEN_MAX_PIXELS)]) == 0
    out = capsys.readouterr().out
    assert "| crop |" in out and f"verl:   data.max_prompt_length={n}" in out
    assert f"EasyR1: data.max_prompt_length={n} data.max_pixels={QWEN_MAX_PIXELS}" in out


def test_lengths_errors_are_one_line(setup, tmp_path, capsys):
    dataset, _ = setup
    assert main(["lengths", str(dataset), "--processor", str(tmp_path / "none")]) == 2
    assert "error: --processor" in capsys.readouterr().err
