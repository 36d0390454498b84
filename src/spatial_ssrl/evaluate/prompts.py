"""The user message for an item, in one of two modes, worded by a prompt template.

- "cot": the question, a line saying what the final answer looks like, then the project's think/boxed
  instruction (the one the pretext tasks are trained with: reasoning in <think>...</think>, the answer
  in \\boxed{}). Pretext items get exactly their training prompt.
- "direct": the question and a request for the bare answer (a letter, yes/no, a number).

Images come first (the order VLMEvalKit uses), a video as one video part; the message is built with the
contract's `user_message`, as the TRL export builds training prompts, so placeholders become image parts
exactly as in training data.

Prompt templates (`--prompt-template NAME|FILE`) decide what follows the question:
- "project": the lines above (a line on what the answer looks like, then our think/boxed instruction in
  cot; a request for the bare answer in direct).
- "spatial-ssrl": the released checkpoints' own format prompt appended verbatim in cot
  (`contract.RELEASED_CHECKPOINT_FORMAT_PROMPT`, as the authors' demo.py does); nothing in direct.
- "harness": nothing: the question exactly as the benchmark's harness words it (its own answer
  instruction included), e.g. VLMEvalKit's "Please select the correct answer from the options above."
- a FILE: UTF-8 text in which `{question}` is replaced by the question and `{answer_hint}` by the line on
  what the answer looks like (no other formatting is applied, so braces elsewhere are kept as written).
"""

from __future__ import annotations

from pathlib import Path

from spatial_ssrl.contract import (
    DEFAULT_FORMAT_PROMPT,
    IMAGE,
    RELEASED_CHECKPOINT_FORMAT_PROMPT,
    user_message,
    with_format_prompt,
)
from spatial_ssrl.evaluate.items import EvalItem

MODES = ("cot", "direct")  # reasoning then a boxed answer; the bare answer (see the module docstring)

_COT_HINT = {
    "choice": "The final answer is the letter of the correct option.",
    "yesno": "The final answer is yes or no.",
    "number": "The final answer is a number.",
    "number_unit": "The final answer is a number with its unit.",
    "text": "The final answer is a single word or a short phrase.",
}
_DIRECT = {
    "choice": "Reply with only the letter of the correct option.",
    "yesno": "Reply with only yes or no.",
    "number": "Reply with only the number.",
    "number_unit": "Reply with only the number and its unit.",
    "text": "Reply with only a single word or a short phrase.",
    "pretext": "Reply with only the final answer, written as the question asks.",
    "open": "",
}
VIDEO_NOTE = "The video is given as frames in time order."  # prefixed to a video item's question


TEMPLATES = ("project", "spatial-ssrl", "harness")  # named prompt templates (see the module docstring)
MAX_TEMPLATE_BYTES = 64 << 10  # a template file is a prompt, not a document: larger ones are refused


class PromptTemplateError(ValueError):
    """A --prompt-template that is neither a named template nor a readable template file."""


def load_template(name_or_file: str) -> str:
    """A template by name (one of TEMPLATES), or the text of a template file, checked.

    Raises:
        PromptTemplateError: an unknown name, a missing, oversized or non-UTF-8 file, or a file without
            `{question}`.
    """
    if name_or_file in TEMPLATES:
        return name_or_file
    path = Path(name_or_file)
    if not path.is_file():
        raise PromptTemplateError(
            f"--prompt-template {name_or_file!r}: not one of {', '.join(TEMPLATES)} and not a file"
        )
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise PromptTemplateError(f"{path}: a prompt template is at most {MAX_TEMPLATE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PromptTemplateError(f"{path}: a prompt template must be UTF-8 text") from None
    if "{question}" not in text:
        raise PromptTemplateError(f"{path}: a prompt template must contain {{question}}")
    return text


def render_prompt(item: EvalItem, question: str, mode: str, template: str = "project", style: str | None = None) -> str:
    """The text after the images: `question` followed by what `template` (a name or a template text) adds.

    Raises:
        ValueError: `mode` is not one of MODES.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    style = style or _style(item)
    if template == "project":
        return with_format_prompt(question, _instruction(style, mode))
    if template == "spatial-ssrl":
        return question + RELEASED_CHECKPOINT_FORMAT_PROMPT if mode == "cot" else question
    if template == "harness":
        return question
    hint = _COT_HINT.get(style, "") if mode == "cot" else _DIRECT.get(style, "")
    return template.replace("{question}", question).replace("{answer_hint}", hint)


def _style(item: EvalItem) -> str:
    if item.kind.startswith("pretext:"):
        return "pretext"
    if item.kind == "number" and item.extra.get("metric") == "within_factor":
        return "number_unit"  # QSpatial: the answer is a length, any unit
    return item.kind


def question_text(item: EvalItem) -> str:
    """Hint, question and (unless the question already lists them) the lettered options."""
    text = item.question.strip()
    if item.hint:
        text = f"Hint: {item.hint}\n{text}"
    lines = [f"{k}. {v}" for k, v in item.options.items()]
    if lines and not all(line in text for line in lines):
        text += "\nOptions:\n" + "\n".join(lines)
    return text


def instruction(item: EvalItem, mode: str) -> str:
    """The text appended to the question: what the answer looks like and, in "cot", the think/boxed format.

    Raises:
        ValueError: `mode` is not one of MODES.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return _instruction(_style(item), mode)


def _instruction(style: str, mode: str) -> str:
    if mode == "direct":
        return _DIRECT[style]
    if style in ("pretext", "open"):
        return DEFAULT_FORMAT_PROMPT
    return f"{_COT_HINT[style]} {DEFAULT_FORMAT_PROMPT}"


def build_message(item: EvalItem, mode: str = "cot") -> dict:
    """One user message: {"role": "user", "content": [image/video parts, text parts]}.

    The text is `item.prompt` when the runner has rendered it (a benchmark module's question and the
    run's template), else the project's question text and instruction."""
    if item.prompt is not None:
        text, suffix = item.prompt, ""
    else:
        text, suffix = question_text(item), instruction(item, mode)
    if item.is_video:  # a module's rendered prompt words the video itself (VSI-Bench: "These are frames of a video.")
        message = user_message(text if item.prompt is not None else f"{VIDEO_NOTE}\n{text}", 0, suffix)
        message["content"].insert(0, {"type": "video", "text": None})
        return message
    n = len(item.images)
    if text.count(IMAGE) != n:  # placeholders are kept only when they match the images (pretext rows)
        text = IMAGE * n + text.replace(IMAGE, "")
    return user_message(text, n, suffix)
