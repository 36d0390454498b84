"""Answer matching for evaluation benchmarks, built on the reward's extraction and normalisation.

Every matcher reads the boxed answer when the prediction has one (same rules as the reward: after
`</think>`, all boxes must agree), else the whole answer text.
- match_choice: option letters, as the reward's choice parser; unboxed prose may also state
  "answer is C" / "Answer: (C)" (every such statement must name the same letter).
- match_yes_no: `yes` / `no`; unboxed prose counts by its first word.
- parse_number_with_unit / match_number: quantities such as `1.5 m`, `3\\,\\text{ft}`, `20 inches`;
  lengths convert to metres. QSpatial counts a prediction within a factor of 2 as correct.

Model output is hostile input: every matcher runs in time linear in the response. The answer part is
found with the reward's linear scans, a box holds at most MAX_BOX_CHARS, and an unboxed answer part
longer than MAX_ANSWER_TEXT_CHARS is not an answer (never credited), so the regexes below (bounded
quantifiers only) and the Python loops over their matches only ever see a bounded text.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

from spatial_ssrl.contract import parse_options
from spatial_ssrl.rewards.extract import BOX, Parsed, answer_start, boxed_contents
from spatial_ssrl.rewards.normalize import MAX_ANSWER_CHARS, option_key, parse_choice, strip_wrappers

# An unboxed answer part (the text after `</think>`, or the whole response) longer than this is not
# scored: 32k characters is about 8k tokens, four times the default cot budget, and it bounds the work
# the matchers do on one response (a few milliseconds at worst) whatever the model emitted.
MAX_ANSWER_TEXT_CHARS = 32_768
# A quantity is looked for among the first this many numbers of a text: an answer states its quantity
# early, and a text of number soup (`1,1,1,...`) then costs a bounded number of Python steps.
MAX_NUMBERS = 64
# Whitespace allowed between the words of a cue (`answer  is :  C`); bounded so that a cue word
# followed by a megabyte of spaces or newlines costs a few steps, not a backtracking blow-up.
_CUE_GAP = 16

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
# Every quantifier that can meet a long run of one character is bounded or is followed only by optional
# parts (so the first attempt succeeds): no pattern below backtracks over more than a few characters.
# The lookahead (a sign, a dot, then a digit: implied by the group after it) rejects a position of a
# long run of `-` or spaces in one step instead of trying every alternative.
_NUMBER = re.compile(
    r"(?<![\w.])(?=[-+]?\.?\d)([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+)(?:[eE]([-+]?\d+))?(?:\s{0,4}([A-Za-z]+))?"
)
_LATEX_TEXT = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s{0,8}\{([^{}]{0," + str(MAX_ANSWER_CHARS) + r"})\}")
# LaTeX spacing read as a space, replaced with str.replace (a C loop, not a Python call per match: a text
# of 30k `$` costs microseconds). `\ ` goes first: the spaces the others leave never form a new pair.
_LATEX_SPACES = ("\\ ", "\\,", "\\;", "\\:", "\\!", "~", "$")
_GAP = r"\s{0," + str(_CUE_GAP) + "}"
_ANSWER_CUE = re.compile(r"(?i:answer|option)" + _GAP + r"(?:(?i:is)" + _GAP + ")?:?" + _GAP + r"\(?([A-H])\b")


class Answer(NamedTuple):
    """What the matchers read from a prediction, extracted once (`read_answer`)."""

    text: str | None  # `answer_text`: the boxed answer, else the answer part's text; None if there is none
    has_box: bool  # the prediction writes `\\boxed` somewhere (then unboxed prose is not read for cues)


def read_answer(prediction: Any, parsed: Parsed | None = None) -> Answer:
    """The answer of a prediction; `parsed` is its `parse_response`, when the caller has it already
    (the evaluator parses each response once, for the format and for the answer)."""
    if not isinstance(prediction, str):
        return Answer(None, False)
    if parsed is None:
        start = answer_start(prediction)
        boxes = boxed_contents(prediction, start) if start >= 0 else ()
    else:
        start, boxes = parsed.answer_start, parsed.boxes
    if start < 0 or boxes is None:
        return Answer(None, BOX in prediction)
    if not boxes:
        # No box in the answer part; one inside the think block still counts as writing a box.
        has_box = prediction.find(BOX, 0, start) >= 0
        text = prediction[start:].strip()
        return Answer(text if len(text) <= MAX_ANSWER_TEXT_CHARS else None, has_box)
    if any(strip_wrappers(b) != strip_wrappers(boxes[-1]) for b in boxes[:-1]):
        return Answer(None, True)
    return Answer(boxes[-1], True)


def answer_text(prediction: Any) -> str | None:
    """The boxed answer if there is one, else the answer part's text (after `</think>`); None for a
    hedge, a malformed box, a think block that never closes, or an unboxed answer part longer than
    MAX_ANSWER_TEXT_CHARS."""
    return read_answer(prediction).text


def choice_of(answer: Answer, options: Any = None) -> str | None:
    """The option letter (upper case) an answer chooses, or None. `options`: letter -> text (dict or JSON)."""
    if answer.text is None:
        return None
    opts = parse_options(options)
    letter = parse_choice(answer.text, opts)
    if letter is None and not answer.has_box:
        letter = _cued_letter(answer.text, {k.upper() for k in opts} if opts else None)
    return letter


def match_choice(prediction: Any, answer_letter: str, options: Any = None) -> bool:
    """Does the prediction choose option `answer_letter`? `options`: letter -> text (dict or JSON)."""
    letter = choice_of(read_answer(prediction), options)
    return letter is not None and letter == answer_letter.strip().upper()


def _cued_letter(text: str, letters: set[str] | None) -> str | None:
    """The one letter that every `answer is X` / `option X` cue of `text` names (among `letters` when
    the options are known); None when there is none, or two differ (a hedge)."""
    found = None
    for m in _ANSWER_CUE.finditer(text):
        letter = m.group(1)
        if letters is not None and letter not in letters:
            continue
        if found is not None and letter != found:
            return None  # two different letters: a hedge, whatever follows
        found = letter
    return found


def _yes_no(text: str, first_word: bool) -> str | None:
    s = option_key(text)
    words = re.findall(r"[a-z]+", s[:200]) if first_word else [s.strip(" .!")]
    return words[0] if words and words[0] in ("yes", "no") else None


def yes_no_of(answer: Answer) -> str | None:
    """`yes` or `no` as the answer says it (a box: its whole text; prose: its first word), or None."""
    if answer.text is None:
        return None
    return _yes_no(answer.text, first_word=not answer.has_box)


def match_yes_no(prediction: Any, answer: str) -> bool:
    """Does the prediction say the same yes/no as `answer`?"""
    got = yes_no_of(read_answer(prediction))
    return got is not None and got == _yes_no(answer, first_word=False)


def parse_number_with_unit(text: str) -> tuple[float, str] | None:
    """(value, unit) of the first quantity in `text`, preferring one with a length unit. Lengths
    come back in metres with unit "m"; other units as written (lower case); no unit gives "".
    Only the first MAX_NUMBERS numbers are read. None when there is no finite quantity among them,
    or `text` is longer than MAX_ANSWER_TEXT_CHARS."""
    if not isinstance(text, str) or len(text) > MAX_ANSWER_TEXT_CHARS:
        return None  # not a quantity: too long to be an answer (and bounded work for the scan below)
    s = _LATEX_TEXT.sub(r" \1", text)
    for space in _LATEX_SPACES:
        s = s.replace(space, " ")
    first = None
    for _, m in zip(range(MAX_NUMBERS), _NUMBER.finditer(s)):
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
