"""Pre-flight checks: the errors a user hits first, raised before any model is loaded, each saying how to fix it.

- `check_columns`: the data lacks the columns SFT or GRPO needs (names them and the export that writes them).
- `check_hardware`: bf16 / fp16 / vLLM / DeepSpeed / flash-attention / 4-8 bit on a machine without a GPU.
- `check_prompt_length`: images make prompts longer than the token budget; says which pixel bound to lower, to what.

All raise `TrainingSetupError` (a ValueError); `ssrl train ...` prints its message without a traceback.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from typing import Any

CPU_HINT = (
    "run on CPU with `--use_cpu true --bf16 false`, or start from configs/sft/tiny-cpu.yaml / "
    "configs/grpo/tiny-cpu.yaml"
)
"""How to train without a GPU; ends the message of a hardware error."""

GRPO_COLUMNS = ("prompt", "images", "answer")  # `image` also stands for `images`
SFT_LAYOUTS = (("messages", "images"), ("prompt", "completion", "images"))  # any one of these is enough


class TrainingSetupError(ValueError):
    """A problem found before training starts; the message says how to fix it."""


# ---------------------------------------------------------------------------- columns


def _looks_like(columns: set[str]) -> str:
    if "messages" in columns:
        return "it looks like an SFT (cold-start) file"
    if {"prompt", "answer"} <= columns:
        return "it looks like a GRPO export"
    if "problem" in columns:
        return "it looks like an EasyR1 export or a raw dataset shard (`problem` column)"
    if "data_source" in columns:
        return "it looks like a verl export"
    if "instruction" in columns:
        return "it looks like a LLaMA-Factory export"
    return "its layout is not one of ours"


def check_columns(columns: Iterable[str], kind: str, path: str = "the dataset") -> None:
    """Raise unless `columns` hold what `kind` ("grpo" or "sft") trains on."""
    have = set(columns)
    if kind == "grpo":
        missing = [c for c in GRPO_COLUMNS if c not in have and not (c == "images" and "image" in have)]
        if missing:
            raise TrainingSetupError(
                f"{path} has no {', '.join(repr(c) for c in missing)} column(s), which GRPO needs "
                f"(prompt, images, answer; answer_type/task/options for the rewards); {_looks_like(have)}. "
                f"Columns found: {sorted(have)}. Write GRPO data with `ssrl export DATASET trl OUT` and pass "
                "OUT/train.parquet, or pass the dataset folder from `ssrl generate` as --train_file."
            )
        return
    if kind == "sft":
        for layout in SFT_LAYOUTS:
            if all(c in have or (c == "images" and "image" in have) for c in layout):
                return
        missing = [c for c in SFT_LAYOUTS[0] if c not in have]
        raise TrainingSetupError(
            f"{path} has no {', '.join(repr(c) for c in missing)} column(s), which SFT needs (messages + images, "
            f"or prompt + completion + images); {_looks_like(have)}. Columns found: {sorted(have)}. Write the "
            "cold-start set with `ssrl coldstart DATASET OUT` and pass OUT/spatial_ssrl_coldstart.parquet, or pass "
            "the dataset folder from `ssrl generate` as --train_file."
        )
    raise ValueError(f"kind must be 'grpo' or 'sft', got {kind!r}")


# ---------------------------------------------------------------------------- hardware


def has_gpu() -> bool:
    """True when torch sees a CUDA or XPU device."""
    import torch

    if torch.cuda.is_available():
        return True
    xpu = getattr(torch, "xpu", None)
    return bool(xpu is not None and xpu.is_available())


def _setting(settings: Any, key: str) -> Any:
    if isinstance(settings, Mapping):
        return settings.get(key)
    return getattr(settings, key, None)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "no", "false", "none")
    return bool(value)


def check_hardware(*settings: Any, gpu: bool | None = None) -> None:
    """Raise if the settings (config objects or dicts; later ones win) ask for a GPU feature without a GPU."""

    def get(key: str) -> Any:
        value = None
        for s in settings:
            v = _setting(s, key)
            if v is not None:
                value = v
        return value

    if gpu is None:
        gpu = has_gpu()
    problems = []
    if not gpu:
        if _truthy(get("fp16")):
            problems.append("fp16=True (half-precision training runs on GPUs only)")
        if _truthy(get("bf16")) and not _truthy(get("use_cpu")):
            problems.append(
                "bf16=True without use_cpu (TRL's default when unset; bf16 mixed precision needs an Ampere-or-newer "
                "GPU)"
            )
        if _truthy(get("use_vllm")):
            problems.append("use_vllm=True (vLLM rollouts need CUDA GPUs)")
        if _truthy(get("deepspeed")) or _truthy(os.environ.get("ACCELERATE_USE_DEEPSPEED")):
            problems.append("DeepSpeed (ZeRO shards across GPUs)")
        if str(get("attn_implementation") or "").startswith("flash_attention"):
            problems.append(f"attn_implementation={get('attn_implementation')} (flash-attention is a CUDA kernel)")
        if _truthy(get("load_in_4bit")) or _truthy(get("load_in_8bit")):
            problems.append("load_in_4bit/load_in_8bit (bitsandbytes quantisation needs a GPU)")
        mp = str(os.environ.get("ACCELERATE_MIXED_PRECISION") or "no").lower()
        if mp in ("fp16", "bf16") and not _truthy(get("use_cpu")):
            problems.append(f"mixed_precision={mp} from the accelerate config")
    if problems:
        raise TrainingSetupError(
            "This machine has no CUDA GPU, but the config asks for: "
            + "; ".join(problems)
            + f". Set those options off, or {CPU_HINT}. The paper configs (configs/*/qwen*.yaml) are for 8 GPUs."
        )
    if _truthy(get("use_vllm")):
        import importlib.util

        if importlib.util.find_spec("vllm") is None:
            raise TrainingSetupError(
                "use_vllm=True, but vLLM is not installed: `pip install vllm` (an optional dependency, see "
                "docs/training.md), or set use_vllm false to generate with transformers."
            )


# ---------------------------------------------------------------------------- prompt length


def _patch_factor(image_processor) -> int:
    return int(getattr(image_processor, "patch_size", 14)) * int(getattr(image_processor, "merge_size", 2))


def pixel_bounds(image_processor) -> tuple[int | None, int | None]:
    """(min_pixels, max_pixels) of a Qwen-style image processor (its `size` shortest/longest edge), None if unset."""
    size = getattr(image_processor, "size", None) or {}
    get = size.get if hasattr(size, "get") else lambda k: getattr(size, k, None)
    return get("shortest_edge"), get("longest_edge")


def image_tokens(image_processor, height: int, width: int, min_pixels: int, max_pixels: int) -> int:
    """Visual tokens of one image after Qwen's resize into [min_pixels, max_pixels] and patch merging."""
    merge = int(getattr(image_processor, "merge_size", 2))
    kwargs = {"min_pixels": min(min_pixels, max_pixels), "max_pixels": max_pixels}
    return image_processor.get_number_of_image_patches(height, width, kwargs) // (merge * merge)


def _image_sizes(images: list | None) -> list[tuple[int, int]]:
    """(height, width) of each image, reading only the headers of encoded images."""
    from PIL import Image

    sizes = []
    for im in images or []:
        if isinstance(im, Image.Image):
            sizes.append((im.height, im.width))
            continue
        data = im.get("bytes") if isinstance(im, dict) else None
        if data is None and isinstance(im, dict) and im.get("path"):
            with Image.open(im["path"]) as pil:
                sizes.append((pil.height, pil.width))
            continue
        with Image.open(io.BytesIO(data)) as pil:
            sizes.append((pil.height, pil.width))
    return sizes


def prompt_rows(dataset, max_rows: int = 256) -> list[dict]:
    """Up to `max_rows` rows spread evenly over `dataset`, with the prompt messages and raw (undecoded) images."""
    n = len(dataset)
    if n == 0:
        return []
    idx = sorted({int(i * n / min(n, max_rows)) for i in range(min(n, max_rows))})
    column = "prompt" if "prompt" in dataset.column_names else "messages"
    keep = [c for c in (column, "images", "image", "task", "id") if c in dataset.column_names]
    table = dataset.select(idx).select_columns(keep).with_format("arrow")[:]
    rows = table.to_pylist()
    for row in rows:
        if "image" in row and "images" not in row:
            row["images"] = [row.pop("image")]
        messages = row.pop(column)
        if column == "messages":  # the prompt is everything before the last (assistant) message
            messages = messages[:-1]
        row["prompt"] = messages
    return rows


def _text_tokens(processor, messages: list[dict], n_images: int) -> int:
    """Tokens of the templated prompt without its image placeholders."""
    from trl.data_utils import prepare_multimodal_messages

    text = processor.apply_chat_template(
        prepare_multimodal_messages(messages, images=[None] * n_images), tokenize=False, add_generation_prompt=True
    )
    return len(processor.tokenizer(text, add_special_tokens=False)["input_ids"]) - n_images


def check_prompt_length(rows: list[dict], processor, limit: int | None, limit_name: str) -> dict | None:
    """Raise if a prompt of `rows` (from `prompt_rows`) would exceed `limit` tokens with its images resized by the
    processor's pixel bounds; the message says how far to lower max_pixels. Returns the longest prompt's numbers
    (None when there is nothing to check: no limit, no rows, or a processor without Qwen-style pixel bounds)."""
    ip = getattr(processor, "image_processor", None)
    min_px, max_px = pixel_bounds(ip) if ip is not None else (None, None)
    if not limit or not rows or max_px is None or not hasattr(ip, "get_number_of_image_patches"):
        return None
    min_px = min_px or 0
    measured = []
    for row in rows:
        sizes = _image_sizes(row.get("images"))
        text = _text_tokens(processor, row["prompt"], len(sizes))
        measured.append((row, sizes, text))

    def tokens(sizes, text, max_pixels):
        return text + sum(image_tokens(ip, h, w, min_px, max_pixels) for h, w in sizes)

    worst = max(measured, key=lambda m: tokens(m[1], m[2], max_px))
    row, sizes, text = worst
    total = tokens(sizes, text, max_px)
    info = {"tokens": total, "text_tokens": text, "images": len(sizes), "limit": limit, "task": row.get("task")}
    if total <= limit:
        return info
    where = f"row {row.get('id') or '?'}" + (f" (task {row['task']})" if row.get("task") else "")
    dims = ", ".join(f"{w}x{h}" for h, w in sizes)
    head = (
        f"Prompts are too long for {limit_name}={limit}: {where} has {len(sizes)} image(s) ({dims}) that take "
        f"{total - text} tokens at max_pixels={max_px}, plus {text} text tokens = {total} tokens."
    )
    fits = [m for m in measured if tokens(m[1], m[2], _patch_factor(ip) ** 2) <= limit]
    if len(fits) < len(measured):
        raise TrainingSetupError(
            f"{head} Even the smallest images leave no room: raise {limit_name} (or shorten the question / the "
            "format instruction)."
        )
    lo, hi = _patch_factor(ip) ** 2, max_px  # largest max_pixels at which every sampled prompt fits
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if all(tokens(s, t, mid) <= limit for _, s, t in measured):
            lo = mid
        else:
            hi = mid
    unit = _patch_factor(ip) ** 2  # pixels per visual token: suggest a whole number of tokens
    suggestion = max(unit, lo // unit * unit)
    fix = (
        f"Lower max_pixels from {max_px} to at most {suggestion} (by {max_px - suggestion}; --max_pixels {suggestion})"
    )
    if min_px > suggestion:
        fix += f" and min_pixels from {min_px} to at most {suggestion} (--min_pixels {suggestion})"
    raise TrainingSetupError(f"{head} {fix}, or raise {limit_name}.")


def context_limit(model_name_or_path: str, reserve: int = 0) -> int | None:
    """The model's context length (max_position_embeddings of its text config) minus `reserve`, if it says."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model_name_or_path)
    except (OSError, ValueError):
        return None
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    n = getattr(text, "max_position_embeddings", None)
    return None if n is None else max(0, int(n) - reserve)
