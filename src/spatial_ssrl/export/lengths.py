"""Prompt lengths in tokens, per task, for a given processor, and the trainer settings that fit them.

Trainers cut or drop prompts longer than their limit (verl's `data.max_prompt_length` defaults to 512;
EasyR1's example config uses 2048), and images dominate a vision-language prompt: one 640x480 image is
about 400 tokens for Qwen2.5-VL, and a crop sample carries five images. `ssrl lengths DATASET
--processor MODEL_OR_PATH` runs the real processor (chat template + image processor) on the rows of a
split, exactly as the exports phrase them (`export.trl.row_message`: the problem with its image
placeholders and the format instruction), and prints the distribution per task and the
`max_prompt_length` and pixel settings that fit every row with a margin.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from spatial_ssrl.contract import resolve_format_prompt
from spatial_ssrl.export.common import rows_of
from spatial_ssrl.export.trl import row_message

PROMPT_LENGTH_STEP = 128  # suggested limits are rounded up to a multiple of this
PROMPT_LENGTH_MARGIN = 1.10  # and leave this much room over the longest prompt measured (other datasets, sizes)


def _images(row: dict) -> list:
    from PIL import Image

    return [Image.open(io.BytesIO(im["bytes"])).convert("RGB") for im in row["images"]]


def load_processor(name_or_path: str, min_pixels: int | None = None, max_pixels: int | None = None) -> Any:
    """`AutoProcessor.from_pretrained(name_or_path)` with the image processor's pixel limits set when given
    (the limits the trainer will use: they decide the number of image tokens)."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(name_or_path)
    image_processor = getattr(processor, "image_processor", None)
    if image_processor is None:
        return processor
    # Qwen-VL image processors keep the limits as size["shortest_edge"/"longest_edge"] (transformers 5) or as
    # min_pixels / max_pixels attributes (4.x); set whichever this one has.
    size = getattr(image_processor, "size", None)
    for key, edge, value in (("min_pixels", "shortest_edge", min_pixels), ("max_pixels", "longest_edge", max_pixels)):
        if value is None:
            continue
        if size is not None and edge in size and size[edge] is not None:
            size[edge] = value
        else:
            setattr(image_processor, key, value)
    return processor


def prompt_length(processor: Any, row: dict, format_prompt: str) -> int:
    """Tokens of one row's prompt as the model sees it: chat template with the generation prompt, image
    placeholders expanded by the image processor."""
    text = processor.apply_chat_template([row_message(row, format_prompt)], add_generation_prompt=True, tokenize=False)
    images = _images(row)
    inputs = processor(text=[text], images=images or None, return_tensors="np")
    return int(inputs["input_ids"].shape[1])


def measure(
    dataset_dir: str | Path,
    processor: Any,
    split: str = "train",
    limit: int | None = None,
    format_prompt: str | None = None,
) -> list[dict]:
    """{"id", "task", "variant", "images", "tokens"} for the first `limit` rows of `split` (all when None)."""
    from tqdm import tqdm

    prompt = resolve_format_prompt(format_prompt)
    out = []
    for row in tqdm(rows_of(Path(dataset_dir), split), desc="lengths", unit="row", total=limit):
        if limit is not None and len(out) >= limit:
            break
        out.append(
            {
                "id": row["id"],
                "task": row["task"],
                "variant": row["variant"],
                "images": len(row["images"]),
                "tokens": prompt_length(processor, row, prompt),
            }
        )
    return out


def _quantile(sorted_values: list[int], q: float) -> int:
    """The nearest-rank quantile (a value that occurs)."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def length_table(records: list[dict]) -> dict[str, dict[str, int]]:
    """Per task and overall ("all"): n, min, median, p95, max of the prompt tokens."""
    groups: dict[str, list[int]] = {}
    for r in records:
        groups.setdefault(r["task"], []).append(r["tokens"])
    groups["all"] = [r["tokens"] for r in records]
    table = {}
    for task, values in groups.items():
        values = sorted(values)
        if values:
            table[task] = {
                "n": len(values),
                "min": values[0],
                "median": _quantile(values, 0.5),
                "p95": _quantile(values, 0.95),
                "max": values[-1],
            }
    return table


def suggested_max_prompt_length(table: dict[str, dict[str, int]]) -> int:
    """The longest prompt measured, with PROMPT_LENGTH_MARGIN, rounded up to PROMPT_LENGTH_STEP."""
    longest = table["all"]["max"]
    return PROMPT_LENGTH_STEP * math.ceil(longest * PROMPT_LENGTH_MARGIN / PROMPT_LENGTH_STEP)


def settings_text(table: dict[str, dict[str, int]], max_pixels: int | None) -> str:
    """The trainer flags that fit the measured prompts (verl, EasyR1, TRL)."""
    n = suggested_max_prompt_length(table)
    pixels = f" data.max_pixels={max_pixels}" if max_pixels else ""
    return "\n".join(
        [
            f"verl:   data.max_prompt_length={n}  (verl's default is 512)",
            f"EasyR1: data.max_prompt_length={n}{pixels}",
            f"TRL:    GRPOConfig(max_prompt_length={n})"
            + (f", processor max_pixels={max_pixels}" if max_pixels else ""),
        ]
    )


def table_markdown(table: dict[str, dict[str, int]]) -> str:
    """The per-task table as Markdown."""
    lines = ["| task | n | min | median | p95 | max |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {t} | {v['n']} | {v['min']} | {v['median']} | {v['p95']} | {v['max']} |" for t, v in table.items()]
    return "\n".join(lines)
