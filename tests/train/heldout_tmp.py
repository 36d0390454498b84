"""Score a model's responses on GRPO-layout prompts with the training rewards (format and accuracy, per task).

    from spatial_ssrl.train.heldout import evaluate_rewards
    report = evaluate_rewards("runs/sft/merged", "data/trl/validation.parquet", max_new_tokens=1024)
    report["format"], report["accuracy"], report["per_task"]["crop"]

Greedy decoding by default (`do_sample=False`); the check the paper reports after the cold start is the share
of well-formed responses (format reward 1.0) on held-out prompts. Benchmarks (3DSRBench, ...) are evaluated
with `ssrl eval` instead (spatial_ssrl.evaluate, docs/evaluation.md).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path


def _as_dataset(data):
    if isinstance(data, (str, Path)):
        from spatial_ssrl.train.data import load_parquet

        return load_parquet(Path(data))
    return data


def generate_responses(model, processor, dataset, max_new_tokens: int = 512, batch_size: int = 8, **generate_kwargs):
    """One decoded response per row of `dataset` (columns `prompt` and `images`)."""
    import torch
    from trl.data_utils import prepare_multimodal_messages

    tokenizer = getattr(processor, "tokenizer", processor)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    generate_kwargs.setdefault("do_sample", False)
    outputs: list[str] = []
    try:
        for start in range(0, len(dataset), batch_size):
            rows = dataset[start : start + batch_size]
            messages = [prepare_multimodal_messages(p, images=im) for p, im in zip(rows["prompt"], rows["images"])]
            inputs = processor.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt", padding=True
            ).to(model.device)
            with torch.no_grad():
                ids = model.generate(**inputs, max_new_tokens=max_new_tokens, **generate_kwargs)
            outputs += tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return outputs


def evaluate_rewards(
    model,
    data,
    processor=None,
    max_new_tokens: int = 512,
    batch_size: int = 8,
    partial_credit: bool = False,
    **generate_kwargs,
) -> dict:
    """Generate on `data` (a GRPO parquet path or dataset) and score with the training rewards. Returns
    {"format", "accuracy", "n", "per_task": {task: {"format", "accuracy", "n"}}, "responses"}."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from spatial_ssrl.rewards.trl import accuracy_reward, format_reward, partial_accuracy_reward

    if isinstance(model, (str, Path)):
        processor = processor or AutoProcessor.from_pretrained(model)
        model = AutoModelForImageTextToText.from_pretrained(model)
    model.eval()
    ds = _as_dataset(data)
    responses = generate_responses(model, processor, ds, max_new_tokens, batch_size, **generate_kwargs)
    columns = {c: list(ds[c]) for c in ("answer", "answer_type", "task", "options") if c in ds.column_names}
    acc_fn = partial_accuracy_reward if partial_credit else accuracy_reward
    fmt = format_reward(responses)
    acc = acc_fn(responses, **columns)
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"format": [], "accuracy": []})
    for task, f, a in zip(columns.get("task", ["all"] * len(ds)), fmt, acc):
        per[task]["format"].append(f)
        per[task]["accuracy"].append(a)

    def mean(xs):
        return sum(xs) / len(xs) if xs else 0.0

    return {
        "format": mean(fmt),
        "accuracy": mean(acc),
        "n": len(responses),
        "per_task": {
            t: {"format": mean(v["format"]), "accuracy": mean(v["accuracy"]), "n": len(v["format"])}
            for t, v in sorted(per.items())
        },
        "responses": responses,
    }
