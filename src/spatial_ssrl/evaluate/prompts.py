"""The user message for an item, in one of two modes.

- "cot": the question, a line saying what the final answer looks like, then the project's think/boxed
  instruction (the one the pretext tasks are trained with: reasoning in <think>...</think>, the answer
  in \\boxed{}). Pretext items get exactly their training prompt.
- "direct": the question and a request for the bare answer (a letter, yes/no, a number).

Images come first (the order VLMEvalKit uses), a video as one video part; the message is built with the
contract's `user_message`, as the TRL export builds training prompts, so placeholders become image parts
exactly as in training data.
"""

from __future__ import annotations

from spatial_ssrl.contract import DEFAULT_FORMAT_PROMPT, IMAGE, user_message
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
    style = _style(item)
    if mode == "direct":
        return _DIRECT[style]
    if style in ("pretext", "open"):
        return DEFAULT_FORMAT_PROMPT
    return f"{_COT_HINT[style]} {DEFAULT_FORMAT_PROMPT}"


def build_message(item: EvalItem, mode: str = "cot") -> dict:
    """One user message: {"role": "user", "content": [image/video parts, text parts]}."""
    text = question_text(item)
    if item.is_video:
        message = user_message(f"{VIDEO_NOTE}\n{text}", 0, instruction(item, mode))
        message["content"].insert(0, {"type": "video", "text": None})
        return message
    n = len(item.images)
    if text.count(IMAGE) != n:  # placeholders are kept only when they match the images (pretext rows)
        text = IMAGE * n + text.replace(IMAGE, "")
    return user_message(text, n, instruction(item, mode))
