"""The contract every layer shares, with no dependency beyond the standard library.

What a sample promises its consumers (rewards, exports, evaluation, training): the answer types a
reward knows how to normalise, how multiple-choice options are encoded in a dataset row, the
`<image>` placeholder, and the default instruction asking for reasoning in `<think>...</think>`
followed by the final answer in `\\boxed{}`. Reward workers import this module and nothing heavier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

ANSWER_TYPES = ("permutation", "label_direction", "choice")
"""How an answer is normalised: `0-2-3-1` orderings, `3-0` label-direction pairs, `A`..`H` letters."""

SPLITS = ("train", "validation", "test")

# What a cold-start response's <think> block holds: the task's construction evidence, or one sentence naming the
# answer (dataset.coldstart.response_for). Here, not there, so the CLI can offer the choices without loading tasks.
COLDSTART_REASONING = ("full", "brief")
"""The dataset splits, in order; a source belongs to exactly one."""

IMAGE = "<image>"
"""The placeholder marking where each image goes in a question (one per image, in order)."""

DEFAULT_FORMAT_PROMPT = (
    "Work through the question step by step and write that reasoning between <think> and </think>. "
    "After </think>, give only the final answer inside \\boxed{}."
)
"""Our wording of the output contract the format reward checks (the paper's think-then-box format)."""

RELEASED_REASONING_SENTENCE = (
    "You FIRST think about the reasoning process as an internal monologue and then provide the final answer. "
    "The reasoning process MUST BE enclosed within <think> </think> tags. The final answer MUST BE put in \\boxed{}."
)
"""The Spatial-SSRL authors' reasoning instruction, verbatim (their training data, demo.py and evaluation
scripts all use this sentence; each script places it differently)."""

RELEASED_CHECKPOINT_FORMAT_PROMPT = "\n " + RELEASED_REASONING_SENTENCE
"""The format prompt the released Spatial-SSRL checkpoints were trained and demonstrated with, verbatim: the
authors' demo.py appends it to the question text (a newline and a space come first). Evaluating those
checkpoints faithfully needs exactly this text (`ssrl eval --prompt-template spatial-ssrl`)."""


_TASK_ANSWER_TYPES: dict[str, str] = {}


def record_task_answer_type(task: str, answer_type: str | None) -> None:
    """Note (or with None, forget) the answer type of a registered task; the task registry calls this so
    that rewards can resolve a task name without importing any task code."""
    if answer_type is None:
        _TASK_ANSWER_TYPES.pop(task, None)
    else:
        _TASK_ANSWER_TYPES[task] = check_answer_type(answer_type)


def task_answer_type(task: str) -> str | None:
    """The answer type of a task registered in this process, or None if no such task is registered."""
    return _TASK_ANSWER_TYPES.get(task)


def is_utf8_text(text: str) -> bool:
    """Whether `text` can be written as UTF-8: ids and names end up in parquet strings and hash keys, and a file
    name in another encoding arrives from the OS with lone surrogates that cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_answer_type(answer_type: str) -> str:
    """Return `answer_type` if it is one of ANSWER_TYPES, else raise ValueError naming the known ones."""
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"answer_type must be one of {ANSWER_TYPES}, got {answer_type!r}")
    return answer_type


# ---------------------------------------------------------------------------- options codec


def encode_options(options: Mapping[str, str] | None) -> str:
    """The dataset's `options` column: a JSON object letter -> text, or "" when there are none."""
    return json.dumps(dict(options)) if options else ""


def parse_options(options: Any) -> dict[str, str] | None:
    """Options as a dict, or None when there are none.

    Args:
        options: a mapping, the dataset's JSON string column, "" or None.

    Raises:
        ValueError: for malformed JSON or anything that is not a mapping of strings to strings.
    """
    if options is None or isinstance(options, dict):
        return options or None
    if isinstance(options, Mapping):
        return dict(options) or None
    if isinstance(options, str):
        return _options_from_json(options)
    raise ValueError(f"options must be a dict or a JSON string, got {type(options).__name__}")


@lru_cache(maxsize=4096)  # a training run sees the same few option sets over and over
def _options_from_json(text: str) -> dict[str, str] | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"options column is not valid JSON: {text[:80]!r}") from err
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"options must be a JSON object of letter -> text, got {text[:80]!r}")
    return value or None


# ---------------------------------------------------------------------------- prompts


def resolve_format_prompt(format_prompt: str | None) -> str:
    """None -> the default instruction; "" -> no instruction; anything else as given."""
    return DEFAULT_FORMAT_PROMPT if format_prompt is None else format_prompt


def with_format_prompt(text: str, format_prompt: str) -> str:
    """`text` with the instruction on a line of its own after it (unchanged when the instruction is "")."""
    return f"{text.rstrip()}\n{format_prompt}" if format_prompt else text


def image_parts(text: str, n_images: int) -> list[dict[str, Any]]:
    """Structured chat content: each `<image>` placeholder becomes an image part at its place, the text
    between placeholders becomes text parts (whitespace-only pieces are dropped).

    Raises:
        ValueError: when the number of placeholders differs from `n_images`.
    """
    pieces = text.split(IMAGE)
    if len(pieces) - 1 != n_images:
        raise ValueError(f"{len(pieces) - 1} {IMAGE} placeholders for {n_images} images")
    parts: list[dict[str, Any]] = []
    for k, piece in enumerate(pieces):
        if k:
            parts.append({"type": "image", "text": None})
        if piece.strip():
            parts.append({"type": "text", "text": piece})
    return parts


def append_text(parts: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Append `text` to the last text part (or as a new part after a trailing image)."""
    if not text:
        return parts
    if parts and parts[-1]["type"] == "text":
        parts[-1] = {"type": "text", "text": with_format_prompt(parts[-1]["text"], text)}
    else:
        parts.append({"type": "text", "text": text})
    return parts


def user_message(problem: str, n_images: int, format_prompt: str) -> dict[str, Any]:
    """One chat message `{"role": "user", "content": [...]}` for a question with `n_images` placeholders,
    the instruction appended to its last text part. Training data and evaluation prompts both use it."""
    return {"role": "user", "content": append_text(image_parts(problem, n_images), format_prompt)}


def row_meta(row: Mapping[str, Any]) -> dict[str, Any]:
    """The decoded `meta` of a dataset row ({} when absent, empty or not a JSON object)."""
    meta = row.get("meta")
    if isinstance(meta, dict):
        return meta
    try:
        value = json.loads(meta) if isinstance(meta, str) and meta else {}
    except (ValueError, RecursionError):  # malformed, or nested too deeply to parse
        return {}
    return value if isinstance(value, dict) else {}


def video_groups(row: Mapping[str, Any]) -> list[list[int]]:
    """The image indices a video task shows as one video each (`meta["videos"]`, written by clip_order and
    ego_motion's clip variant), in placeholder order; [] for image tasks. Exports for trainers that take
    video natively replace each group's placeholders by one `<video>`."""
    groups = row_meta(row).get("videos") or []
    n = len(row.get("images") or [])
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and g and all(isinstance(i, int) and 0 <= i < n for i in g) for g in groups
    ):
        raise ValueError(f"{row.get('id')}: meta['videos'] must list groups of image indices below {n}")
    flat = [i for g in groups for i in g]
    if len(set(flat)) != len(flat):
        raise ValueError(f"{row.get('id')}: meta['videos'] lists an image in two clips")
    return groups


def image_names(row: Mapping[str, Any]) -> list[str] | None:
    """What each image of a row is ("clip 2, frame 1", "the first frame"), when the task says
    (`meta["image_names"]`); for exports that show images apart from the text."""
    names = row_meta(row).get("image_names")
    return [str(n) for n in names] if isinstance(names, list) else None
