"""Spatial457: questions on synthetic scenes of vehicles in five levels (single object .. 6D spatial relations).

Official ("official" protocol): VLMEvalKit, open-compass/VLMEvalKit @ e8e78f05 (2026-08-18),
vlmeval/dataset/spatial457.py (`Spatial457.build_prompt`, `build_subtask_instruction`, `evaluate`, with
ROBUST = True) and vlmeval/dataset/utils/spatial457.py (`Spatial457_utils.all_answers`, `is_correct`,
`category_correct`). Data: VLMEvalKit's Spatial457.tsv (read by the TSV reader; `category` is the level).
What it does, and what this module does the same way:
- Prompt: [level instruction][image][question][answer instruction]. The level instruction ("You are an
  intelligent chatbot ... determine the answer to the question.\\n") depends on `category`
  (L1_single, L2_objects, L3_2d_spatial, L4_occ, L4_pose, L5_6d_spatial, L5_collision; "" for any
  other). The answer instruction describes the objects, lists the allowed answers ("Small, Large,
  Airliner, Dirtbike, Road bike, ..., Back": sizes, shapes, colours, directions, capitalised), an
  integer [0-10] for counts and Yes/No, and ends with the JSON template
  "{'Reasoning': '<your reasons>', 'Answer': '<Your answer>'}". `question()` returns the three texts
  concatenated with nothing between them, which is what Qwen2-VL's chat template makes of the
  message (the images come first here: see the deviations).
- Answer (`json_answer`), on the whole prediction: the first `Answer': '...'` (up to the next quote on
  the same line), else the first `Answer": "..."`, else the single digit after the first `Answer': `
  followed by a digit. None of them: a format error, and (ROBUST) the WHOLE prediction is the answer.
- Correct (`is_correct`, on the raw strings, no stripping): the prediction "none" (any case) becomes
  "no"; then correct when it equals the answer ignoring case; or it is "0" and the answer is "No"; or
  it is a number word zero..ten and the answer is that number ("two" = "2"); or the answer is "yes"
  and the prediction is one digit 1-9; or the first space-separated words of both (lower-cased) are
  shapes of the same family (`category_correct`: car = suv/wagon/minivan/sedan/truck/addi/car, bus =
  articulated/regular/double/school/bus, motorbike = chopper/dirtbike/scooter/cruiser/motorbike,
  aeroplane = jet/fighter/biplane/airliner/aeroplane, bicycle = road/utility/mountain/tandem/bicycle):
  "jet" = "airliner", "school bus" = "double bus", "truck" = "sedan". The official scorer credits
  these, and a reply whose first word is such a shape ("Jet or fighter") too; so does this protocol.
  A CoT reply without the JSON template is compared whole: "<think>..</think> \\boxed{2}" is wrong.
- Score: correct / total; per level `<level>_score` = correct / count for the seven levels (0 when a
  level has no item), and `format_error` = replies without the JSON answer.

Paper ("paper" protocol): the Spatial-SSRL authors' copy, InternLM/Spatial-SSRL @ b313fedf (2026-04-07),
evaluation/Remaining_Bench_eval/vlmeval/dataset/spatial457.py: the JSON template sentence is commented
out of the prompt; parsing (ROBUST, whole reply when there is no JSON), equivalences and scores are the
same. Their Spatial-SSRL-7B entry (config.py: Qwen2VLChat, no system prompt, post_process=False) adds
no format prompt, so their replies were scored whole unless the model wrote the JSON on its own.

Both protocols: VLMEvalKit stores predictions in an xlsx file before scoring. xlsxwriter truncates a
cell to 32,767 characters, and pandas reads back an empty cell or "None", "NA", "null", ... as NaN,
which `str()` makes "nan" (`vlmevalkit.scored_text`): a bare reply "None" is "nan", not "no".

Known deviations:
- The images come before all the text (the project's message layout); VLMEvalKit puts the level
  instruction before the image. The words are the same.
- A level outside the seven makes the official evaluate() fail (KeyError); here it gets its own row.
- The question is the TSV's `question` as the TSV reader gives it (surrounding whitespace stripped).

Parsing is linear in the response: `str.find` scans for the three answer patterns (each attempt stops at
the next quote, which every later occurrence of the pattern contains) and one split for first words.
"""

from __future__ import annotations

from typing import Any

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import (
    BenchmarkRules,
    ItemScore,
    ScoringContext,
    check_protocol,
    register_benchmark,
)
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import scored_text
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.summary import summarize as generic_summary
from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.score import format_from_parsed

RULES = "Spatial457"
LEVELS = ("L1_single", "L2_objects", "L3_2d_spatial", "L4_occ", "L4_pose", "L5_6d_spatial", "L5_collision")
XLSX_CELL_CHARS = 32_767  # xlsxwriter truncates a prediction cell to this many characters
MAX_PRED_CHARS = 256  # the compared text kept in a record (a whole reply when there is no JSON answer)

_CHATBOT = (
    "You are an intelligent chatbot designed to answer questions based on an image. Your task is to analyze the "
    "images, identify attributes of "
)
_DETERMINE = "and then determine the answer to the question.\n"
LEVEL_INSTRUCTIONS = {  # build_subtask_instruction's task_map: the text before the image
    "L1_single": f"{_CHATBOT}the objects, {_DETERMINE}",
    "L2_objects": f"{_CHATBOT}multiple objects, {_DETERMINE}",
    "L3_2d_spatial": f"{_CHATBOT}multiple objects and their spatial relationship from 2D projected camera view, "
    f"{_DETERMINE}",
    "L4_occ": f"{_CHATBOT}multiple objects and their occlusion relationships, {_DETERMINE}",
    "L4_pose": f"{_CHATBOT}multiple objects and their facing direction in 3D space from the camera view, {_DETERMINE}",
    "L5_6d_spatial": f"{_CHATBOT}multiple objects and their spatial relationship from objects\u2019 perspective in "
    f"3D space, {_DETERMINE}",
    "L5_collision": f"{_CHATBOT}multiple objects and their potential collision given the assumption of moving "
    f"direction in 3D space, {_DETERMINE}",
}

ATTRIBUTES = {  # Spatial457_utils.all_answers, in its order
    "size": ["small", "large"],
    "shape": [
        "airliner",
        "dirtbike",
        "road bike",
        "tandem bike",
        "suv",
        "wagon",
        "scooter",
        "mountain bike",
        "minivan",
        "sedan",
        "school bus",
        "fighter",
        "chopper",
        "double bus",
        "truck",
        "articulated bus",
        "cruiser",
        "jet",
        "utility bike",
        "regular bus",
        "biplane",
    ],  # fmt: skip
    "color": ["gray", "blue", "purple", "brown", "green", "cyan", "red", "yellow"],
    "direction": ["left", "right", "front", "back"],
}
ANSWER_LIST = ", ".join(v.capitalize() for values in ATTRIBUTES.values() for v in values)

ANSWER_INSTRUCTION = (  # the text after the question (instruction_2), without its JSON template sentence
    "First, you should identify the related objects refered in the questions, including their shape, color, "
    "size; then add a brief reasoning process about the questions. Each object in the image has a shape (e.g., "
    "'airliner'), a size (only can be 'small' or 'large'), a color (e.g. 'blue'). The size of the object is "
    "either 'small' or 'large'. The color of the object is one of the following: 'gray', 'blue', 'purple', "
    "'brown', 'green', 'cyan', 'red', 'yellow'. The direction of the object is one of the following: 'left', "
    "'right', 'front', 'back'.\n\n"
    "Second, give the answer based on the reasoning process. The answer should only be (1) a phrase chosen from "
    f"the following options: {ANSWER_LIST}, or (2) an integer [0-10] when asked for 'How many' or 'What is the "
    "number of', or (3) 'Yes' or 'No' when asked for 'Is there'. If you think there are no possible answers or "
    "the question is not clear, choose the best answer that fits the question.\n\n"
)
JSON_TEMPLATE = (
    "Write your response into this json template: {'Reasoning': '<your reasons>', 'Answer': '<Your answer>'}"
)

SHAPE_FAMILIES = {  # utils/spatial457.py SUPERCLRVER_sub_shape
    "car": ("suv", "wagon", "minivan", "sedan", "truck", "addi", "car"),
    "bus": ("articulated", "regular", "double", "school", "bus"),
    "motorbike": ("chopper", "dirtbike", "scooter", "cruiser", "motorbike"),
    "aeroplane": ("jet", "fighter", "biplane", "airliner", "aeroplane"),
    "bicycle": ("road", "utility", "mountain", "tandem", "bicycle"),
}
FAMILY_OF = {shape: family for family, shapes in SHAPE_FAMILIES.items() for shape in shapes}
NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"))
}


# ---- prompt ------------------------------------------------------------------------------------------


def question(item: EvalItem, protocol: str) -> str:
    """Level instruction + question + answer instruction (+ the JSON template, official only)."""
    check_protocol(protocol)
    text = item.extra.get("question_raw", item.question)
    tail = ANSWER_INSTRUCTION + (JSON_TEMPLATE if protocol == "official" else "")
    return f"{LEVEL_INSTRUCTIONS.get(item.category, '')}{text}{tail}"


# ---- parsing and scoring -----------------------------------------------------------------------------


def _quoted_after(text: str, prefix: str, quote: str) -> str | None:
    """`re.search(re.escape(prefix) + "(.*?)" + quote, text).group(1)`: the text up to the first `quote`
    after the first occurrence of `prefix` from which that quote comes before any newline."""
    pos = 0
    while True:
        start = text.find(prefix, pos)
        if start < 0:
            return None
        start += len(prefix)
        end = text.find(quote, start)
        if end < 0:
            return None  # every later occurrence of prefix contains the quote: there is none
        if text.find("\n", start, end) < 0:
            return text[start:end]
        pos = start - len(prefix) + 1


def _digit_after(text: str, prefix: str) -> str | None:
    """`re.search(re.escape(prefix) + r"(\\d)", text).group(1)` (re's \\d: a Unicode decimal digit)."""
    pos = 0
    while True:
        start = text.find(prefix, pos)
        if start < 0:
            return None
        after = start + len(prefix)
        if after < len(text) and text[after].isdecimal():
            return text[after]
        pos = start + 1


def json_answer(text: str) -> str | None:
    """The answer of the JSON template, tried in evaluate()'s order, or None (a format error)."""
    for found in (
        _quoted_after(text, "Answer': '", "'"),
        _quoted_after(text, 'Answer": "', '"'),
        _digit_after(text, "Answer': "),
    ):
        if found is not None:
            return found
    return None


def same_shape_family(predict: str, answer: str) -> bool:
    """category_correct: the first space-separated words (lower-cased) are shapes of one family."""
    a, b = predict.lower().split(" ", 1)[0], answer.lower().split(" ", 1)[0]
    return a in FAMILY_OF and b in FAMILY_OF and FAMILY_OF[a] == FAMILY_OF[b]


def is_correct(answer: str, predict: str) -> bool:
    """Spatial457_utils.is_correct (see the module docstring for each equivalence)."""
    if predict.lower() == "none":
        predict = "no"
    if predict.lower() == answer.lower():
        return True
    if predict == "0" and answer == "No":
        return True
    if NUMBER_WORDS.get(predict.lower()) == answer:
        return True
    if answer.lower() == "yes" and predict in ("1", "2", "3", "4", "5", "6", "7", "8", "9"):
        return True
    return same_shape_family(predict, answer)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """1 when the JSON answer (or, without one, the whole reply) is correct for the reference."""
    protocol = check_protocol(ctx.protocol)
    raw = response if isinstance(response, str) else ""
    text = scored_text(raw[:XLSX_CELL_CHARS], protocol)
    found = json_answer(text)
    predict = text if found is None else found
    return {
        "score": float(is_correct(str(item.answer), predict)),
        "format": format_from_parsed(parse_response(raw)),
        "pred": predict[:MAX_PRED_CHARS],
        "format_error": int(found is None),
        "level": item.category,
    }


# ---- summary -----------------------------------------------------------------------------------------


def level_table(records: list[dict]) -> dict[str, dict[str, Any]]:
    """{level: {"n", "score"}}: the seven official levels (score 0 when empty, as official), then any other."""
    counts = {level: [0, 0.0] for level in LEVELS}
    for r in records:
        entry = counts.setdefault(r["category"], [0, 0.0])
        entry[0] += 1
        entry[1] += r["score"] or 0.0
    return {level: {"n": n, "score": total / n if n else 0.0} for level, (n, total) in counts.items()}


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict[str, Any]:
    """correct / total (the headline), the per-level table and the format-error count, as evaluate() reports."""
    out = generic_summary(records)
    correct = sum(r["score"] or 0.0 for r in records)
    out["score"] = correct / len(records) if records else 0.0
    table = level_table(records)
    out["format_error"] = sum(int(r.get("format_error") or 0) for r in records)
    out["official_scores"] = {
        "score": out["score"],
        "correct": correct,
        "total": len(records),
        "format_error": out["format_error"],
        **{f"{level}_score": row["score"] for level, row in table.items()},
    }
    out["breakdowns"] = {"level": table}
    out["headline"] = "accuracy: correct / total (VLMEvalKit Spatial457, ROBUST: whole reply when no JSON answer)"
    return out


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=RULES,
        follows=(
            "open-compass/VLMEvalKit vlmeval/dataset/spatial457.py + dataset/utils/spatial457.py "
            "@ e8e78f05 (2026-08-18)"
        ),
        paper_differences=(
            "InternLM/Spatial-SSRL evaluation/Remaining_Bench_eval spatial457.py @ b313fedf: the JSON template "
            "sentence is left out of the prompt; scoring is the same"
        ),
        dataset_names=(RULES,),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="text",
    )
)
