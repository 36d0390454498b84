"""Answer matching for evaluation benchmarks, built on the reward's extraction and normalisation.

Every matcher reads the boxed answer when the prediction has one (same rules as the reward: after
`</think>`, all boxes must agree), else the whole answer text.
- match_choice: option letters, as the reward's choice parser; unboxed prose may also state
  "answer is C" / "Answer: (C)" (every such statement must name the same letter).
- match_yes_no: `yes` / `no`; unboxed prose counts by its first word.
- parse_number_with_unit / match_number: quantities such as `1.5 m`, `3\\,\\text{ft}`, `20 inches`;
  lengths convert to metres. QSpatial counts a prediction within a factor of 2 as correct.
"""

from __future__ import annotations

import math
import re
from typing import Any

from spatial_ssrl.contract import parse_options
from spatial_ssrl.rewards.extract import answer_start, boxed_contents
from spatial_ssrl.rewards.normalize import option_key, parse_choice, strip_wrappers

LENGTH_TO_METRES = {
    **dict.fromkeys(("mm", "millimeter", "millimeters", "millimetre", "millimetres"), 0.001),
    **dict.fromkeys(("cm", "centimeter", "centimeters", "centimetre", "centimetres"), 0.01),
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), 1.0),
    **dict.fromkeys(("km", "kilometer", "kilometers", "kilometre", "kilometres"), 1000.0),
    **dict.fromkeys(("in", "inch", "inches"), 0.0254),
    **dict.fromkeys(("ft", "feet", "foot"), 0.3048),
    **dict.fromkeys(("yd", "yard", "yards"), 0.9144),
    **dict.fromkeys(("mi", "mile", "miles"), 1609.344),
}
"""Length unit (lower case) -> metres per unit; `parse_number_with_unit` converts these to metres."""
_NUMBER = re.compile(
    r"(?<![\w.])([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+)(?:[eE]([-+]?\d+))?(?:\s*([A-Za-z]+))?"
)
_LATEX_TEXT = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s*\{([^{}]*)\}")
_LATEX_SPACE = re.compile(r"\\[,;:! ]|~|\$")
_ANSWER_CUE = re.compile(r"(?i:answer|option)\s*(?:(?i:is)\s*)?:?\s*\(?([A-H])\b")


def answer_text(prediction: Any) -> str | None:
    """The boxed answer if there is one, else the answer part's text (after `</think>`); None for a
    hedge, a malformed box, or a think block that never closes."""
    if not isinstance(prediction, str):
        return None
    start = answer_start(prediction)
    if start < 0:
        return None
    boxes = boxed_contents(prediction, start)
    if boxes is None:
        return None
    if not boxes:
        return prediction[start:].strip()
    if any(strip_wrappers(b) != strip_wrappers(boxes[-1]) for b in boxes[:-1]):
        return None
    return boxes[-1]


def match_choice(prediction: Any, answer_letter: str, options: Any = None) -> bool:
    """Does the prediction choose option `answer_letter`? `options`: letter -> text (dict or JSON)."""
    opts = parse_options(options)
    text = answer_text(prediction)
    if text is None:
        return False
    letter = parse_choice(text, opts)
    if letter is None and "\\boxed" not in prediction:
        cues = {m.group(1) for m in _ANSWER_CUE.finditer(text)}
        if opts:
            cues &= {k.upper() for k in opts}
        letter = cues.pop() if len(cues) == 1 else None
    return letter is not None and letter == answer_letter.strip().upper()


def _yes_no(text: str, first_word: bool) -> str | None:
    s = option_key(text)
    words = re.findall(r"[a-z]+", s[:200]) if first_word else [s.strip(" .!")]
    return words[0] if words and words[0] in ("yes", "no") else None


def match_yes_no(prediction: Any, answer: str) -> bool:
    """Does the prediction say the same yes/no as `answer`?"""
    text = answer_text(prediction)
    if text is None:
        return False
    boxed = "\\boxed" in prediction
    got = _yes_no(text, first_word=not boxed)
    return got is not None and got == _yes_no(answer, first_word=False)


def parse_number_with_unit(text: str) -> tuple[float, str] | None:
    """(value, unit) of the first quantity in `text`, preferring one with a length unit. Lengths
    come back in metres with unit "m"; other units as written (lower case); no unit gives ""."""
    if not isinstance(text, str):
        return None
    s = _LATEX_SPACE.sub(" ", _LATEX_TEXT.sub(r" \1", text))
    first = None
    for m in _NUMBER.finditer(s):
        # Parsed as one literal: `1e999` becomes inf (skipped below) instead of raising OverflowError.
        value = float(m.group(1).replace(",", "") + (f"e{m.group(2)}" if m.group(2) else ""))
        if not math.isfinite(value):
            continue
        unit = (m.group(3) or "").lower()
        if unit in LENGTH_TO_METRES:
            return value * LENGTH_TO_METRES[unit], "m"
        if first is None:
            first = (value, unit)
    return first


def _quantity(value: Any) -> tuple[float, str] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value), ""
    if isinstance(value, tuple) and len(value) == 2:
        number, unit = value
        unit = str(unit).lower()
        if unit in LENGTH_TO_METRES:
            return float(number) * LENGTH_TO_METRES[unit], "m"
        return float(number), unit
    return parse_number_with_unit(str(value))


def match_number(
    prediction: Any,
    target: Any,
    rel_tol: float | None = None,
    within_factor: float | None = None,
    default_unit: str | None = None,
) -> bool:
    """Does the predicted quantity match `target` (a number, `(value, unit)` or text like `2 ft`)?

    within_factor=2 is QSpatial's rule: max(pred/gt, gt/pred) <= 2. rel_tol compares
    |pred - gt| <= rel_tol * |gt|. Neither: equal up to float rounding. Lengths compare in metres;
    a bare number is read in `default_unit` if given, else in the other side's unit."""
    if isinstance(prediction, str):
        text = answer_text(prediction)  # None for a hedge: no fallback to the raw text
        pred = parse_number_with_unit(text) if text is not None else None
    else:
        pred = _quantity(prediction)
    want = _quantity(target)
    if pred is None or want is None:
        return False
    (p, p_unit), (t, t_unit) = pred, want
    if not p_unit and default_unit:
        p, p_unit = _quantity((p, default_unit))
    if p_unit and t_unit and p_unit != t_unit:
        return False
    if within_factor is not None:
        return p > 0 and t > 0 and max(p / t, t / p) <= within_factor
    if rel_tol is not None:
        return abs(p - t) <= rel_tol * abs(t)
    return math.isclose(p, t, rel_tol=1e-9, abs_tol=1e-12)
