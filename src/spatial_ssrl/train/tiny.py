"""Tiny, randomly initialised Qwen2.5-VL and Qwen3-VL models, built offline.

The project's tests and demo need real model folders (the same classes, processors and chat
format as the released checkpoints) without downloading anything. `build_tiny_model` trains a
byte-level BPE tokenizer with Qwen's special tokens on text the task engine itself produces,
writes a chat template with Qwen's prompt format, configures a vision-language model of a few
hundred thousand parameters with small image-pixel bounds, and saves everything as a folder that
`AutoModelForImageTextToText.from_pretrained` and `AutoProcessor.from_pretrained` load.

    ssrl tiny-model OUT --arch qwen2_5_vl      # or qwen3_vl
"""

from __future__ import annotations

import json
from pathlib import Path

ARCHS = ("qwen2_5_vl", "qwen3_vl")  # the `arch` values `build_tiny_model` accepts (`--arch`)

# Special tokens of the Qwen2.5-VL / Qwen3-VL tokenizers (names are the contract; ids are ours).
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
# Plain added tokens, as in Qwen's vocabularies: the reasoning tags are single tokens.
ADDED_TOKENS = ["<think>", "</think>", "<tool_call>", "</tool_call>"]

# Qwen's chat format for text and image turns: a default system turn for Qwen2.5-VL, none for
# Qwen3-VL; each image becomes <|vision_start|><|image_pad|><|vision_end|> in place.
CHAT_TEMPLATE = """{%- set default_system = DEFAULT_SYSTEM -%}
{%- for message in messages -%}
{%- if loop.first and message['role'] != 'system' and default_system -%}
<|im_start|>system
{{ default_system }}<|im_end|>
{% endif -%}
<|im_start|>{{ message['role'] }}
{% if message['content'] is string -%}
{{ message['content'] }}
{%- else -%}
{%- for part in message['content'] -%}
{%- if part['type'] == 'image' or 'image' in part or 'image_url' in part -%}
<|vision_start|><|image_pad|><|vision_end|>
{%- elif part['type'] == 'video' or 'video' in part -%}
<|vision_start|><|video_pad|><|vision_end|>
{%- elif 'text' in part and part['text'] is not none -%}
{{ part['text'] }}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
<|im_end|>
{% endfor -%}
{%- if add_generation_prompt -%}
<|im_start|>assistant
{% endif -%}"""


def _corpus(n_per_task: int = 6) -> list[str]:
    """Text the models will see: generated questions, answers and cold-start style responses."""
    import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks)
    from spatial_ssrl.engine.registry import list_tasks, run_task
    from spatial_ssrl.engine.sample import Rejection
    from spatial_ssrl.sources.synthetic import make_scene

    texts = ["<think>", "</think>", "\\boxed{", "}", "0123456789", "ABCD", "-", " "]
    sources = [make_scene(s, 160, 120).to_source(f"s{s}") for s in range(3)]
    for task in list_tasks():
        for i in range(n_per_task):
            r = run_task(task, sources[i % len(sources)], seed=0, index=i)
            if not isinstance(r, Rejection):
                texts.append(r.question.replace("<image>", ""))
                texts.append(f"<think>The answer follows from the image.</think> \\boxed{{{r.answer}}}")
    return texts


# Qwen2's pre-tokenisation pattern (digits one by one, words with their leading space): the tiny tokenizer
# splits text as the Qwen-VL tokenizers do, so a tokenizer class rebuilt from the vocabulary (transformers 5
# builds Qwen2Tokenizer's pre-tokenizer itself) and tokenizer.json (what transformers 4.x reads) agree.
QWEN2_PRETOKENIZE_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def build_tokenizer(vocab_size: int = 600):
    """A byte-level BPE tokenizer trained on the task texts, with Qwen's special tokens and Qwen2's
    normalisation and pre-tokenisation."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
        model_max_length=32768,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    fast.add_tokens(ADDED_TOKENS)
    return fast


def _vision_ids(tokenizer) -> dict[str, int]:
    ids = tokenizer.convert_tokens_to_ids
    return {
        "image_token_id": ids("<|image_pad|>"),
        "video_token_id": ids("<|video_pad|>"),
        "vision_start_token_id": ids("<|vision_start|>"),
        "vision_end_token_id": ids("<|vision_end|>"),
    }


def _model_config(arch: str, tokenizer, hidden: int, layers: int, vision_hidden: int = 32, vision_depth: int = 2):
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": True,
        "bos_token_id": tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        "eos_token_id": tokenizer.convert_tokens_to_ids("<|im_end|>"),
        "pad_token_id": tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    }
    head_dim = hidden // 4
    mrope = [head_dim // 8, (head_dim // 2 - head_dim // 8) // 2]
    mrope.append(head_dim // 2 - sum(mrope))  # temporal, height, width halves of the rotary dims
    if arch == "qwen2_5_vl":
        from transformers import Qwen2_5_VLConfig

        text["rope_scaling"] = {"type": "mrope", "mrope_section": mrope}
        vision = {
            "depth": vision_depth,
            "hidden_size": vision_hidden,
            "intermediate_size": 2 * vision_hidden,
            "num_heads": 2,
            "out_hidden_size": hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,
            "fullatt_block_indexes": [vision_depth - 1],
        }
        return Qwen2_5_VLConfig(text_config=text, vision_config=vision, **_vision_ids(tokenizer))
    from transformers import Qwen3VLConfig

    text["head_dim"] = head_dim
    text["rope_scaling"] = {"rope_type": "default", "mrope_section": mrope, "mrope_interleaved": True}
    vision = {
        "depth": vision_depth,
        "hidden_size": vision_hidden,
        "intermediate_size": 2 * vision_hidden,
        "num_heads": 2,
        "out_hidden_size": hidden,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "num_position_embeddings": 64,
        "deepstack_visual_indexes": [vision_depth - 1],
    }
    return Qwen3VLConfig(text_config=text, vision_config=vision, **_vision_ids(tokenizer))


def _processor(arch: str, tokenizer, min_pixels: int, max_pixels: int):
    size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    if arch == "qwen2_5_vl":
        from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

        image = Qwen2VLImageProcessor(size=size, patch_size=14, merge_size=2)
        video = Qwen2VLVideoProcessor(size=size, patch_size=14, merge_size=2)
        template = CHAT_TEMPLATE.replace("DEFAULT_SYSTEM", "'You are a helpful assistant.'")
        return Qwen2_5_VLProcessor(
            image_processor=image, tokenizer=tokenizer, video_processor=video, chat_template=template
        )
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    image = Qwen2VLImageProcessor(size=size, patch_size=16, merge_size=2)
    video = Qwen3VLVideoProcessor(size=size, patch_size=16, merge_size=2)
    template = CHAT_TEMPLATE.replace("DEFAULT_SYSTEM", "''")
    return Qwen3VLProcessor(image_processor=image, tokenizer=tokenizer, video_processor=video, chat_template=template)


def _portable_tokenizer_config(path: Path) -> None:
    """Write the tokenizer config the way released Qwen-VL checkpoints have it, so the folder loads with
    transformers 4.5x (which EasyR1 pins) as well as 5.x: transformers 5 saves `tokenizer_class:
    TokenizersBackend` and a list under `extra_special_tokens`, neither of which 4.x can read
    (`Tokenizer class TokenizersBackend does not exist`; `'list' object has no attribute 'keys'`)."""
    config = json.loads(path.read_text())
    config["tokenizer_class"] = "Qwen2Tokenizer"  # what Qwen2.5-VL / Qwen3-VL checkpoints declare
    extra = config.pop("extra_special_tokens", None)
    if isinstance(extra, list):
        config["additional_special_tokens"] = extra
    elif extra:
        config["extra_special_tokens"] = extra
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")


def _portable_model_config(path: Path) -> None:
    """Add the rotary settings under the names transformers 4.5x reads (`rope_scaling`, `rope_theta`, as in
    released checkpoints) next to 5.x's `rope_parameters`, so 4.x builds Qwen3-VL's rotary embedding."""
    config = json.loads(path.read_text())
    for section in (config, config.get("text_config") or {}):
        rope = section.get("rope_parameters")
        if isinstance(rope, dict):
            section.setdefault("rope_scaling", {k: v for k, v in rope.items() if k != "rope_theta"})
            if "rope_theta" in rope:
                section.setdefault("rope_theta", rope["rope_theta"])
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")


def build_tiny_model(
    out_dir: str | Path,
    arch: str = "qwen2_5_vl",
    *,
    hidden: int = 64,
    layers: int = 2,
    min_pixels: int = 28 * 28 * 4,
    max_pixels: int = 28 * 28 * 16,
    vision_hidden: int = 32,
    vision_depth: int = 2,
    seed: int = 0,
) -> Path:
    """Write a tiny random `arch` model + processor to `out_dir`; returns the folder.

    The default pixel bounds give 4-16 visual tokens per image (one token per 28x28 pixels after the
    processor's resize), so a CPU step takes milliseconds; raise `max_pixels` for images whose details
    matter (28*28*64: 64 tokens). `vision_hidden` and `vision_depth` size the vision encoder."""
    import torch
    from transformers import AutoModelForImageTextToText

    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    if vision_depth < 1 or vision_hidden < 4 or vision_hidden % 2:
        raise ValueError(
            f"vision_depth must be >= 1 and vision_hidden an even number >= 4, got {vision_depth}, {vision_hidden}"
        )
    if not 0 < min_pixels <= max_pixels:
        raise ValueError(f"need 0 < min_pixels <= max_pixels, got {min_pixels}, {max_pixels}")
    config = _model_config(arch, tokenizer, hidden, layers, vision_hidden, vision_depth)
    model = AutoModelForImageTextToText.from_config(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    model.save_pretrained(out)
    _processor(arch, tokenizer, min_pixels, max_pixels).save_pretrained(out)
    _portable_tokenizer_config(out / "tokenizer_config.json")
    _portable_model_config(out / "config.json")
    n_params = sum(p.numel() for p in model.parameters())
    (out / "spatial_ssrl_tiny.json").write_text(json.dumps({"arch": arch, "parameters": n_params, "seed": seed}))
    return out
