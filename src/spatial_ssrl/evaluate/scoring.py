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
from spatial_ssrl.rewards.match import (
    LENGTH_TO_METRES,
    answer_text,
    match_choice,
    match_number,
    match_yes_no,
    parse_number_with_unit,
)
from spatial_ssrl.rewards.normalize import normalize_answer, option_key
from spatial_ssrl.rewards.score import response_format, score

# VSI-Bench's thresholds, computed as its official code does so that boundary cases agree bit for bit.
MRA_THRESHOLDS = np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
_SCALAR = re.compile(r"scalar\{([^{}]*)\}")
_UNIT = re.compile(r"distance_unit\{([^{}]*)\}")
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
    text = answer_text(response)
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


def _qspatial_notation(response: str) -> str:
    """QSpatial's own prompt asks for `\\scalar{2.5} \\distance_unit{meters}`: read it as `2.5 meters`."""
    scalars, units = _SCALAR.findall(response), _UNIT.findall(response)
    if not scalars:
        return response
    numbers = [float(x) for x in _FIRST_NUMBER.findall(scalars[-1].replace(",", ""))]
    if not numbers:
        return response
    return f"{sum(numbers) / len(numbers)} {units[-1].strip() if units else ''}".strip()


def _number_correct(item: EvalItem, response: str) -> float:
    metric = item.extra.get("metric", "exact")
    if metric == "mra":
        return mean_relative_accuracy(predicted_number(response, item.extra.get("unit")), float(item.answer))
    if metric == "within_factor":
        return float(match_number(_qspatial_notation(response), item.answer, within_factor=item.extra["factor"]))
    if metric == "rel_tol":
        return float(match_number(response, item.answer, rel_tol=item.extra["rel_tol"]))
    return float(match_number(response, item.answer))


def _pretext_correct(item: EvalItem, response: str, answer_type: str) -> tuple[float, float]:
    result = score(response, item.answer, answer_type, item.options or None)
    acc = result["accuracy"]
    if not acc and "\\boxed" not in response:  # direct mode: a bare answer such as `0-2-3-1`
        text = answer_text(response)
        truth = normalize_answer(item.answer, answer_type, item.options or None)
        pred = normalize_answer(text, answer_type, item.options or None) if text else None
        acc = float(pred is not None and pred == truth)
    return acc, result["format"]


def score_item(item: EvalItem, response: Any) -> dict[str, Any]:
    """{"score": 0..1 (None for an unscored "open" item), "format": 0/1, "pred": the extracted answer}."""
    if not isinstance(response, str):
        response = ""
    fmt = response_format(response)
    pred = answer_text(response)
    kind = item.kind
    if kind == "open":
        value = None
    elif kind == "choice":
        value = float(match_choice(response, item.answer, item.options or None))
    elif kind == "yesno":
        value = float(match_yes_no(response, item.answer))
    elif kind == "number":
        value = _number_correct(item, response)
    elif kind == "text":
        value = float(pred is not None and option_key(pred) == option_key(item.answer))
    else:  # pretext:<answer_type>
        value, fmt = _pretext_correct(item, response, kind.split(":", 1)[1])
    return {"score": value, "format": fmt, "pred": pred}
