"""Score one response against one item, by the rule of the item's benchmark.

| kind | correct when |
|---|---|
| choice | the predicted letter (or the text of exactly one option) is the answer's (`match_choice`) |
| yesno | the prediction says the same yes/no (`match_yes_no`) |
| number, within_factor | QSpatial: max(pred/gt, gt/pred) <= 2, lengths in metres; zero/negative fail |
| number, exact / rel_tol | equal (counts), or within a relative tolerance |
| number, mra | VSI-Bench: in [0, 1], the share of θ in 0.50..0.95 with abs(pred-gt)/gt <= 1-θ |
| text | the answer text equals the reference after normalising case, spacing and dashes |
| pretext:<type> | the training reward's accuracy (`rewards.score`); a bare unboxed answer is also parsed |

The answer is read from the box when there is one, else from the text after `</think>`
(`rewards.match.answer_text`). `format` is 1 when the response is a think block followed by exactly
one box, the format the cot prompt asks for (and the reward's format term).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.rewards.extract import Parsed, parse_response
from spatial_ssrl.rewards.match import (
    LENGTH_TO_METRES,
    Answer,
    choice_of,
    match_number,
    parse_number_with_unit,
    read_answer,
    yes_no_of,
)
from spatial_ssrl.rewards.normalize import normalize_answer, option_key
from spatial_ssrl.rewards.score import accuracy_from_parsed, format_from_parsed, prepare_truth

# VSI-Bench's thresholds, computed as its official code does so that boundary cases agree bit for bit.
MRA_THRESHOLDS = np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
# QSpatial's notation is looked for in the answer text only (`answer_text`: at most
# MAX_ANSWER_TEXT_CHARS), with bounded contents, so the scan is bounded whatever the model wrote.
MAX_NOTATION_CHARS = 64  # the contents of a `\scalar{}` / `\distance_unit{}`: a number or a unit name
MAX_SCALARS = 8  # more `\scalar{}` than this in one answer is spam (as more than MAX_BOXES boxes), not an answer
_SCALAR = re.compile(r"scalar\{([^{}]{0," + str(MAX_NOTATION_CHARS) + r"})\}")
_UNIT = re.compile(r"distance_unit\{([^{}]{0," + str(MAX_NOTATION_CHARS) + r"})\}")
_FIRST_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")


def mean_relative_accuracy(pred: float | None, gt: float) -> float:
    """MRA of one numeric prediction. A zero ground truth (undefined in the official code) counts as
    right only for an exact zero."""
    if pred is None or not np.isfinite(pred):
        return 0.0
    if gt == 0:
        return float(pred == 0)
    rel = abs(pred - gt) / abs(gt)
    return float(np.mean(rel <= 1 - MRA_THRESHOLDS))


def predicted_number(response: Any, unit: str | None = None) -> float | None:
    """The number a response answers with, converted to `unit` when it states a length unit."""
    return _number_in(read_answer(response).text, unit)


def _number_in(text: str | None, unit: str | None) -> float | None:
    if text is None:
        return None
    parsed = parse_number_with_unit(text)
    if parsed is None:
        return None
    value, got_unit = parsed
    if got_unit == "m":  # a length unit was written; parse_number_with_unit converted it to metres
        return value / LENGTH_TO_METRES[unit] if unit in LENGTH_TO_METRES else value
    m = _FIRST_NUMBER.search(text)
    return float(m.group().replace(",", "")) if m else value


def _qspatial_notation(text: str) -> str | None:
    """QSpatial's own prompt asks for `\\scalar{2.5} \\distance_unit{meters}`: read it as `2.5 meters`.

    `text` is the answer text (`answer_text`), so reasoning inside the think block does not count.
    Returns `text` unchanged when it uses no such notation, and None when its scalars or units
    disagree (a hedge) or there are more than MAX_SCALARS of them."""
    scalars = []
    for m in _SCALAR.finditer(text):
        if len(scalars) == MAX_SCALARS:
            return None
        numbers = [float(x) for x in _FIRST_NUMBER.findall(m.group(1).replace(",", ""))]
        if numbers:
            scalars.append(sum(numbers) / len(numbers))
    if not scalars:
        return text
    units = {m.group(1).strip() for _, m in zip(range(MAX_SCALARS + 1), _UNIT.finditer(text))}
    if len(set(scalars)) > 1 or len(units) > 1:
        return None  # `\\scalar{1} ... \\scalar{3}`: two answers, neither is credited
    return f"{scalars[0]} {units.pop() if units else ''}".strip()


def _number_correct(item: EvalItem, answer: Answer) -> float:
    metric = item.extra.get("metric", "exact")
    if metric == "mra":
        return mean_relative_accuracy(_number_in(answer.text, item.extra.get("unit")), float(item.answer))
    text = answer.text
    if metric == "within_factor" and text is not None:
        text = _qspatial_notation(text)
    quantity = parse_number_with_unit(text) if text is not None else None
    if quantity is None:
        return 0.0
    if metric == "within_factor":
        return float(match_number(quantity, item.answer, within_factor=item.extra["factor"]))
    if metric == "rel_tol":
        return float(match_number(quantity, item.answer, rel_tol=item.extra["rel_tol"]))
    return float(match_number(quantity, item.answer))


def _pretext_correct(item: EvalItem, parsed: Parsed, answer: Answer, answer_type: str) -> float:
    options = item.options or None
    truth = prepare_truth(item.answer, answer_type, options)
    acc = accuracy_from_parsed(parsed, truth)
    if not acc and not answer.has_box and answer.text:  # direct mode: a bare answer such as `0-2-3-1`
        pred = normalize_answer(answer.text, answer_type, options)
        acc = float(pred is not None and pred == truth.canonical)
    return acc


def score_item(item: EvalItem, response: Any) -> dict[str, Any]:
    """{"score": 0..1 (None for an unscored "open" item), "format": 0/1, "pred": the extracted answer}.

    The response is parsed once (`parse_response`); every rule below reads that parse, so scoring one
    response costs one linear scan of it whatever its content."""
    if not isinstance(response, str):
        response = ""
    parsed = parse_response(response)
    fmt = format_from_parsed(parsed)
    answer = read_answer(response, parsed)
    pred = answer.text
    kind = item.kind
    if kind == "open":
        value = None
    elif kind == "choice":
        letter = choice_of(answer, item.options or None)
        value = float(letter is not None and letter == item.answer.strip().upper())
    elif kind == "yesno":
        got = yes_no_of(answer)
        # The reference is read whole, as a boxed answer is (not by its first word).
        value = float(got is not None and got == yes_no_of(Answer(item.answer, True)))
    elif kind == "number":
        value = _number_correct(item, answer)
    elif kind == "text":
        value = float(pred is not None and option_key(pred) == option_key(item.answer))
    else:  # pretext:<answer_type>
        value = _pretext_correct(item, parsed, answer, kind.split(":", 1)[1])
    return {"score": value, "format": fmt, "pred": pred}
