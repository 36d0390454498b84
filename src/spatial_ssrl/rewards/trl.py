"""TRL `GRPOTrainer` reward functions.

    from spatial_ssrl.rewards.trl import accuracy_reward, format_reward
    trainer = GRPOTrainer(model, reward_funcs=[accuracy_reward, format_reward],
                          args=GRPOConfig(reward_weights=[0.9, 0.1], ...), train_dataset=ds)

TRL calls each function with `completions` (plain strings, or chat messages
`[{"role": "assistant", "content": ...}]` whose content may be a list of `{"type": "text", ...}`
parts) and every other dataset column as a keyword argument holding one value per completion:
`answer`, and `answer_type` / `task` / `options` (a JSON string) from `spatial_ssrl.dataset.builder`.
It logs each function under its `__name__`, so the accuracy and format parts appear as separate
columns, and sums them with `reward_weights`. This module does not import TRL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.score import (
    DEFAULT_CONFIG,
    RewardConfig,
    accuracy_from_parsed,
    format_from_parsed,
    prepare_truth,
    resolve_answer_type,
)

RewardFunc = Callable[..., list[float]]
"""`func(completions, **columns) -> one score per completion`: the signature GRPOTrainer calls."""


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, a list of chat messages (the last assistant message
    counts), or a message whose content is a list of text parts. Anything else reads as ""."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, dict)]
        assistant = [m for m in messages if m.get("role", "assistant") == "assistant"] or messages
        return _content_text(assistant[-1].get("content")) if assistant else ""
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type", "text") == "text"]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def _column(value: Any, n: int) -> list[Any]:
    """A keyword argument as one value per completion (TRL passes lists; a scalar is broadcast)."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"got {len(value)} values for {n} completions")
        return list(value)
    return [value] * n


def _accuracy(completions, answer, answer_type, task, options, partial_credit: bool) -> list[float]:
    n = len(completions)
    rows = zip(completions, _column(answer, n), _column(answer_type, n), _column(task, n), _column(options, n))
    out = []
    for completion, ans, a_type, t, opts in rows:
        truth = prepare_truth(ans, resolve_answer_type(a_type, t), opts)
        out.append(accuracy_from_parsed(parse_response(completion_text(completion)), truth, partial_credit))
    return out


def accuracy_reward(
    completions: Sequence[Any],
    answer: Sequence[str],
    answer_type: Sequence[str] | None = None,
    task: Sequence[str] | None = None,
    options: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[float]:
    """1.0 per completion whose boxed answer matches `answer` (see spatial_ssrl.rewards.score)."""
    return _accuracy(completions, answer, answer_type, task, options, partial_credit=False)


def partial_accuracy_reward(
    completions: Sequence[Any],
    answer: Sequence[str],
    answer_type: Sequence[str] | None = None,
    task: Sequence[str] | None = None,
    options: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[float]:
    """Like accuracy_reward, but an ordering answer earns the fraction of positions it gets right."""
    return _accuracy(completions, answer, answer_type, task, options, partial_credit=True)


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 per completion that is a think block followed by a single boxed answer."""
    return [format_from_parsed(parse_response(completion_text(c))) for c in completions]


def reward_funcs(config: RewardConfig = DEFAULT_CONFIG) -> tuple[list[RewardFunc], list[float]]:
    """`(reward_funcs, reward_weights)` for GRPOTrainer / GRPOConfig, following `config`."""
    acc = partial_accuracy_reward if config.partial_credit else accuracy_reward
    return [acc, format_reward], [config.accuracy_weight, config.format_weight]
