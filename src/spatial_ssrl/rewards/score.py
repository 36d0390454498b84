"""The reward: 0.9 x accuracy + 0.1 x format by default (the paper's reward).

format    1 if the response is one think block at the start, then an answer part holding exactly
          one complete, non-empty `\\boxed{...}` (text around the box is allowed, as EasyR1 allows it).
accuracy  1 if the boxed answer, normalised for the task's answer type, equals the normalised
          ground truth. Several boxes in the answer part must all agree (identical repeats are fine,
          different answers are a hedge and score 0). With partial credit (off by default, as in the
          paper) a permutation earns the fraction of positions it gets right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from spatial_ssrl.contract import check_answer_type, parse_options, task_answer_type
from spatial_ssrl.rewards.extract import Parsed, parse_response
from spatial_ssrl.rewards.normalize import DEFAULT_LETTERS, normalize_answer


@dataclass(frozen=True)
class RewardConfig:
    """Weights of the two parts (non-negative, summing to 1 so the reward stays in [0, 1]) and the
    optional partial credit for ordering (permutation) answers."""

    accuracy_weight: float = 0.9
    format_weight: float = 0.1
    partial_credit: bool = False

    def __post_init__(self) -> None:
        if self.accuracy_weight < 0 or self.format_weight < 0:
            raise ValueError(f"reward weights must be non-negative, got {self.accuracy_weight}, {self.format_weight}")
        if abs(self.accuracy_weight + self.format_weight - 1.0) > 1e-9:
            raise ValueError(
                f"accuracy_weight + format_weight must be 1 (got {self.accuracy_weight + self.format_weight}) "
                "so that the reward stays in [0, 1]"
            )


DEFAULT_CONFIG = RewardConfig()
"""The paper's reward: 0.9 x accuracy + 0.1 x format, no partial credit (Spatial-SSRL, arXiv 2510.27606)."""


# ---------------------------------------------------------------------------- inputs from datasets


def resolve_answer_type(answer_type: str | None = None, task: str | None = None) -> str:
    """The declared answer type: the row's `answer_type`, else that of the task registered as `task`.

    Raises:
        ValueError: `answer_type` is not one of `contract.ANSWER_TYPES`, or neither argument is given.
        KeyError: only `task` is given and no task of that name is registered in this process.
    """
    if answer_type:
        return check_answer_type(answer_type)
    if task:
        registered = task_answer_type(task)
        if registered is None:
            raise KeyError(
                f"task {task!r} is not registered in this process: pass answer_type, or import the module "
                "that registers the task (importing spatial_ssrl.tasks registers the built-in ones)"
            )
        return registered
    raise ValueError("the answer type is unknown: pass answer_type, or a registered task name")


def infer_answer_type(ground_truth: str) -> str:
    """Last resort for trainers that pass only the ground truth (EasyR1): read the type from the
    shape of the canonical answer. One letter -> choice; two dash-joined integers ->
    label_direction; three or more -> permutation (every built-in ordering has at least three)."""
    s = ground_truth.strip()
    if len(s) == 1 and s.upper() in DEFAULT_LETTERS:
        return "choice"
    parts = s.split("-")
    if all(p.isascii() and p.isdigit() for p in parts):
        if len(parts) == 2:
            return "label_direction"
        if len(parts) >= 3:
            return "permutation"
    raise ValueError(f"cannot tell the answer type of ground truth {ground_truth!r}; pass answer_type or task")


def answer_type_or_infer(ground_truth: str, answer_type: str | None = None, task: str | None = None) -> str:
    """The declared type when there is one (row's answer_type, else a registered task), else inferred
    from the ground truth's shape. For trainer adapters that may receive no declaration."""
    if answer_type:
        return resolve_answer_type(answer_type)
    if task and task_answer_type(task) is not None:
        return resolve_answer_type(None, task)
    return infer_answer_type(str(ground_truth))


class Truth:
    """A ground truth prepared once: canonical form, label set, options."""

    __slots__ = ("answer_type", "canonical", "labels", "options")

    def __init__(self, answer: str, answer_type: str, options: Mapping[str, str] | None) -> None:
        canonical = normalize_answer(answer, answer_type, options)
        if canonical is None:
            raise ValueError(f"ground truth {answer!r} is not a valid {answer_type} answer (options={options})")
        self.answer_type = answer_type
        self.canonical = canonical
        self.options = options
        self.labels = frozenset(int(t) for t in canonical.split("-")) if answer_type == "permutation" else None


@lru_cache(maxsize=65536)
def _truth_cached(answer: str, answer_type: str, options_items: tuple[tuple[str, str], ...] | None) -> Truth:
    return Truth(answer, answer_type, dict(options_items) if options_items is not None else None)


def prepare_truth(answer: str, answer_type: str, options: Any = None) -> Truth:
    """Ground truth, validated and cached (a bad ground truth is a data bug: it raises ValueError)."""
    opts = parse_options(options)
    return _truth_cached(str(answer), answer_type, tuple(opts.items()) if opts else None)


# ---------------------------------------------------------------------------- the two parts


def format_from_parsed(parsed: Parsed) -> float:
    """The format part for an already parsed response: 1.0 for a valid think block and one non-blank box."""
    boxes = parsed.boxes
    return 1.0 if parsed.think_ok and boxes is not None and len(boxes) == 1 and boxes[0].strip() else 0.0


def predicted_answer(parsed: Parsed, truth: Truth) -> str | None:
    """The single normalised answer of the answer part, or None (no box, malformed, or a hedge)."""
    boxes = parsed.boxes
    if not boxes:
        return None
    pred = normalize_answer(boxes[-1], truth.answer_type, truth.options, labels=truth.labels)
    if pred is None:
        return None
    for other in boxes[:-1]:
        # Repeats must agree after normalisation: `\boxed{C}` ... `\boxed{(C)}` is one answer,
        # `\boxed{A}` ... `\boxed{C}` is a hedge.
        if (
            other != boxes[-1]
            and normalize_answer(other, truth.answer_type, truth.options, labels=truth.labels) != pred
        ):
            return None
    return pred


def accuracy_from_parsed(parsed: Parsed, truth: Truth, partial_credit: bool = False) -> float:
    """The accuracy part for an already parsed response.

    Returns:
        1.0 if the single normalised answer equals the truth; with `partial_credit`, a permutation's
        fraction of positions right; else 0.0 (also for no answer or a hedge).
    """
    pred = predicted_answer(parsed, truth)
    if pred is None:
        return 0.0
    if pred == truth.canonical:
        return 1.0
    if partial_credit and truth.answer_type == "permutation":
        # Both are permutations of the same label set (the parser checked it), so same length.
        got, want = pred.split("-"), truth.canonical.split("-")
        return sum(a == b for a, b in zip(got, want)) / len(want)
    return 0.0


def response_format(response: str) -> float:
    """1.0 if the response has the required shape (think block, then one boxed answer), else 0.0."""
    if not isinstance(response, str):
        return 0.0
    return format_from_parsed(parse_response(response))


def response_accuracy(
    response: str,
    answer: str,
    answer_type: str,
    options: Any = None,
    partial_credit: bool = False,
) -> float:
    """1.0 if the boxed answer matches the ground truth after normalisation (partial credit optional)."""
    truth = prepare_truth(answer, answer_type, options)
    if not isinstance(response, str):
        return 0.0
    return accuracy_from_parsed(parse_response(response), truth, partial_credit)


def score(
    response: str,
    answer: str,
    answer_type: str | None,
    options: Any = None,
    config: RewardConfig = DEFAULT_CONFIG,
    *,
    task: str | None = None,
) -> dict[str, float]:
    """`{"overall", "format", "accuracy"}` for one response. `answer_type` may be None if `task` is given.

    Raises:
        ValueError, KeyError: the ground truth or its answer type is invalid (see `resolve_answer_type`,
            `prepare_truth`); a bad response never raises, it scores 0.
    """
    truth = prepare_truth(answer, resolve_answer_type(answer_type, task), options)
    if not isinstance(response, str):
        return {"overall": 0.0, "format": 0.0, "accuracy": 0.0}
    parsed = parse_response(response)
    fmt = format_from_parsed(parsed)
    acc = accuracy_from_parsed(parsed, truth, config.partial_credit)
    return {"overall": combine(acc, fmt, config), "format": fmt, "accuracy": acc}


def combine(accuracy: float, fmt: float, config: RewardConfig = DEFAULT_CONFIG) -> float:
    """The overall reward: the weighted sum of the two parts, capped at 1.0."""
    # min(): weights such as 0.7 + 0.3 can sum to 1 + 1 ulp in floating point.
    return min(1.0, config.accuracy_weight * accuracy + config.format_weight * fmt)
