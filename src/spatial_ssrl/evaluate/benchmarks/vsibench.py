"""VSI-Bench (Yang et al., 2024, "Thinking in Space"): questions about indoor-scene videos.

Official protocol: the benchmark authors' lmms-eval task, vision-x-nyu/thinking-in-space
`lmms_eval/tasks/vsibench/utils.py` and `vsibench.yaml` at commit 51e089c (2025-08-05; the file last
changed in c26ba54, 2025-07-02), read for its rules (no code copied):

- Prompt. Numeric questions: "These are frames of a video." / the question / "Please answer the question
  using a single word or phrase." (joined by newlines). Multiple choice: the same first two lines, then
  "Options:" and the record's option strings one per line, then "Answer with the option's letter from
  the given choices directly."
- Multiple choice (object_rel_direction_easy/medium/hard, object_rel_distance, route_planning,
  obj_appearance_order): the response's first word decides. The text before the first space, trailing
  dots removed, then whitespace trimmed, must equal the ground-truth letter (case-insensitive). "B",
  "b", "B." and "B. The sofa ..." score 1; "(B)", "B)", "B,", "The answer is B", the option's text,
  `\\boxed{B}`, a leading `<think>` block and "B\\n\\nbecause ..." (no space before the newline) score 0.
  A hedge such as "B or C" scores 1 when its first word is right: that is the official rule, kept.
- Numeric (object_counting, object_abs_distance, object_size_estimation, room_size_estimation): the
  same first word is read as a number with Python's `float` (no units, no conversion: "2.5" is read,
  "2.5m", "250cm" and "two" are not and score 0). Mean relative accuracy: the share of the ten
  thresholds θ = linspace(0.50, 0.95) with |pred - gt| / gt <= 1 - θ (`<=`: 50% off scores 0.1),
  computed with the same floating-point operations so boundary cases agree bit for bit.
- Overall: the mean over question types of each type's item mean, after the three
  object_rel_direction levels are averaged into one type (a mean of three level means, not an item
  mean). Per-type scores are reported in the official order (`TYPE_ORDER`).
- Frames: 32 per video, at indices `linspace(0, T-1, min(32, T))` truncated to integers: the count of
  the official evaluation script (evaluate_all_in_one.sh, `num_frames=32`) and the sampling of the
  LLaVA-OneVision / LLaVA-Video / LongVA wrappers it runs (and of lmms-eval's own frame sampler for
  this task). `--frames N` overrides the count (the rule stays).
- Responses are trimmed of surrounding whitespace first, as the lmms-eval model wrappers of the
  official table return them (llava_onevision, llava_vid, longva, gpt4v call `.strip()`).

Paper protocol: the Spatial-SSRL authors' own VSI-Bench scripts, InternLM/Spatial-SSRL
`evaluation/VSI-bench_eval/{vsi_infer.py,run_cot.sh,check_accuracy.py}` at commit b313fed (the folder
last changed in 2cee614, 2025-11-03), read for their rules:

- Prompt: "Watch the given video and anser the following question." (sic), a blank line, the question,
  then the options each prefixed by its letter again and with no separator ("A. A. leftB. B. right",
  as their script joins the columns of `vsi_bench.json`), then "The final answer should be the option
  letter from the given choices." or "... a number(integer or decimal)." (the CoT wording; their
  no-CoT script says "Answer directly with ..."). The format instruction is the run's template
  (`--prompt-template spatial-ssrl` is their text; theirs follows the answer line after "\\n", the
  template after "\\n ").
- Answer: the content of the last `\\boxed{...}` without a `}` inside (none: the empty answer). A single
  letter is compared with the answer letter case-insensitively ("b" scores 1); anything else goes to
  mean relative accuracy, so "B." or "(B)" in the box, or several letters, score 0. In direct mode
  (their `--cot False`) the whole trimmed response is the answer.
- MRA with a strict `<`: |pred - gt| / gt < 1 - θ for θ = 0.5 + i * 0.05 (exactly 50% off scores 0,
  not 0.1), counted over i in 0..19 and divided by 10 (the thresholds past 0.95 never count).
- Score: the plain mean over items (no per-type macro average); their per-type table keeps the three
  object_rel_direction levels apart.
- Frames: 128, all frames of a shorter video, else indices `round(linspace(0, T-1, 128))`.

Known deviations (both protocols):
- Frame decoding uses PyAV and counts frames from the container (decord in both official scripts).
  The model-side processing of frames (resizing, Qwen-VL's even frame count) is the backend's.
- The frame sampling rule reaches the decoder through `item.extra["frame_rule"]` (set by `prepare`);
  the runner/backends must pass it to `video.sample_frames` (see docs/evaluation.md).
- A subset that lacks some object_rel_direction levels: the levels present are averaged (the official
  code fails when one of the three is missing, or leaves them unmerged when "easy" is).
- A first word or boxed answer longer than `rewards.match.MAX_ANSWER_TEXT_CHARS` is not read (scores 0);
  both official scripts would still try it as a number.
- Numeric ground truths must be positive (the reader refuses others; the official code fails on 0).
- Question types outside the official eight (our own records) count as their own type instead of
  failing; their kind comes from whether they have options.
- Newer lmms-eval (EvolvingLMMs-Lab/lmms-eval 75571cf, 2026) reads the first number anywhere in a
  numeric answer (digits or number words, since eab6655) and strips `<think>` blocks; the benchmark
  authors' code followed here does neither.
"""

from __future__ import annotations

import numpy as np

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import (
    BenchmarkRules,
    ItemScore,
    ScoringContext,
    check_protocol,
    register_benchmark,
)
from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.readers.common import LETTERS
from spatial_ssrl.evaluate.readers.vsibench import RULES, read_vsibench, sniff
from spatial_ssrl.evaluate.summary import summarize as summary_tables
from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.match import MAX_ANSWER_TEXT_CHARS
from spatial_ssrl.rewards.score import format_from_parsed

FOLLOWS = (
    "official: vision-x-nyu/thinking-in-space lmms_eval/tasks/vsibench/utils.py + vsibench.yaml + "
    "evaluate_all_in_one.sh @51e089c (2025-08-05); paper: InternLM/Spatial-SSRL "
    "evaluation/VSI-bench_eval/vsi_infer.py + check_accuracy.py @b313fed (2026-04-07)"
)
PAPER_DIFFERENCES = (
    "the authors' prompt; answer = last \\boxed{} (a single letter, else a number); MRA with a strict < "
    "(50% off scores 0, not 0.1); score = mean over items instead of the mean over question types; "
    "128 frames rounded from linspace instead of 32 truncated"
)

OFFICIAL_FRAMES = 32  # evaluate_all_in_one.sh num_frames
PAPER_FRAMES = 128  # vsi_infer.py max_frames
FRAME_RULES = {"official": "floor", "paper": "round"}  # evaluate/video.py frame_indices rules

# The official report's order of question types (levels of object_rel_direction merged).
TYPE_ORDER = (
    "object_counting",
    "object_abs_distance",
    "object_size_estimation",
    "room_size_estimation",
    "object_rel_distance",
    "object_rel_direction",
    "route_planning",
    "obj_appearance_order",
)

OFFICIAL_PRE_PROMPT = "These are frames of a video."
OFFICIAL_MCA_POST_PROMPT = "Answer with the option's letter from the given choices directly."
OFFICIAL_NA_POST_PROMPT = "Please answer the question using a single word or phrase."
PAPER_INTRO = "Watch the given video and anser the following question.\n\n"  # sic, as the authors' script
PAPER_MCA_LINE = "The final answer should be the option letter from the given choices."
PAPER_NA_LINE = "The final answer should be a number(integer or decimal)."

# The official thresholds, computed as the official code computes them (ten points 0.50, 0.55, ..., 0.95).
OFFICIAL_THRESHOLDS = np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
_BOX_OPEN = "\\boxed{"


# ---------------------------------------------------------------------------- prompts


def option_lines(item: EvalItem) -> list[str]:
    """The option strings as the record gives them (`["A. left", ...]`), else `letter. text`."""
    lines = item.extra.get("option_lines")
    if lines:
        return list(lines)
    return [f"{k}. {v}" for k, v in item.options.items()]


def question(item: EvalItem, protocol: str) -> str:
    """The question as the protocol's harness words it, its own answer line included."""
    if check_protocol(protocol) == "paper":
        opts = "".join(f"{letter}. {line}" for letter, line in zip(LETTERS, option_lines(item)))
        line = PAPER_MCA_LINE if item.kind == "choice" else PAPER_NA_LINE
        return f"{PAPER_INTRO}{item.question}{opts}\n{line}"
    if item.kind == "choice":
        options = "Options:\n" + "\n".join(option_lines(item))
        return "\n".join([OFFICIAL_PRE_PROMPT, item.question, options, OFFICIAL_MCA_POST_PROMPT])
    return f"{OFFICIAL_PRE_PROMPT}\n{item.question}\n{OFFICIAL_NA_POST_PROMPT}"


# ---------------------------------------------------------------------------- official rules


def first_word(response: str) -> str | None:
    """The official `fuzzy_matching` of a trimmed response: the text before the first space, trailing
    dots removed, then trimmed. None when that word is longer than MAX_ANSWER_TEXT_CHARS (not read)."""
    text = response.strip()
    end = text.find(" ", 0, MAX_ANSWER_TEXT_CHARS + 1)
    if end < 0:
        if len(text) > MAX_ANSWER_TEXT_CHARS:
            return None
        end = len(text)
    return text[:end].rstrip(".").strip()


def to_float(text: str | None) -> float | None:
    """Python's float() of the text, or None where it fails (the official `to_float`)."""
    if text is None:
        return None
    try:
        return float(text)
    except (ValueError, TypeError):
        return None


def official_mra(pred: float | None, gt: float) -> float:
    """Mean relative accuracy as the official code computes it: the share of the ten thresholds with
    abs(pred - gt) / gt <= 1 - θ. No prediction (not a number) scores 0."""
    if pred is None:
        return 0.0
    rel = abs(pred - gt) / gt
    return float(np.mean(rel <= 1 - OFFICIAL_THRESHOLDS))


def official_score(item: EvalItem, response: str) -> tuple[float, str | None]:
    """(score, the first word read) under the official rules."""
    word = first_word(response)
    if item.kind == "choice":
        return float(word is not None and word.lower() == item.answer.lower()), word
    return official_mra(to_float(word), float(item.answer)), word


# ---------------------------------------------------------------------------- the authors' rules


def authors_boxed(text: str) -> str:
    """The content of the last match of `\\boxed\\{([^}]*)\\}` (the authors' `extract`), "" when none.

    Matches are found left to right without overlap, as `re.findall` finds them, by two finds per
    match, so the scan is linear in the text."""
    last, pos = "", 0
    while True:
        start = text.find(_BOX_OPEN, pos)
        if start < 0:
            return last
        close = text.find("}", start + len(_BOX_OPEN))
        if close < 0:  # no `}` after this box: no later match either
            return last
        last, pos = text[start + len(_BOX_OPEN) : close], close + 1


def paper_mra(pred: str, answer: str) -> float:
    """The authors' `mra`: count θ = 0.5 + i * 0.05 (i < 20) with abs(pred - gt) / gt < 1 - θ, over 10;
    0 when either side is not a number (or gt is 0)."""
    try:
        gt, value = float(answer), float(pred)
        hits = sum(abs(value - gt) / gt < 1 - (0.5 + i * 0.05) for i in range(20))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return hits / 10


def paper_score(item: EvalItem, response: str, mode: str = "cot") -> tuple[float, str | None]:
    """(score, the answer read) under the authors' rules: the last box in CoT, the whole trimmed
    response in direct mode; a single letter is compared, anything else goes to MRA."""
    text = response.strip()
    pred = authors_boxed(text) if mode == "cot" else text
    if len(pred) > MAX_ANSWER_TEXT_CHARS:
        return 0.0, None
    if len(pred) == 1 and pred.isalpha():
        return float(pred.lower() == item.answer.lower()), pred
    return paper_mra(pred, item.answer), pred


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """{"score", "format", "pred", "rule"}: the protocol's rule for the item's kind (see the module docstring)."""
    if not isinstance(response, str):
        response = ""
    fmt = format_from_parsed(parse_response(response))
    if check_protocol(ctx.protocol) == "paper":
        mode = ctx.mode  # the authors' --cot flag
        value, pred = paper_score(item, response, mode)
        rule = "boxed letter / strict MRA" if mode == "cot" else "whole answer / strict MRA"
    else:
        value, pred = official_score(item, response)
        rule = "first word" if item.kind == "choice" else "first word / MRA"
    return {"score": value, "format": fmt, "pred": pred, "rule": rule}


# ---------------------------------------------------------------------------- summaries

OFFICIAL_TABLE = "per question type (object_rel_direction = mean of its 3 levels)"
PAPER_TABLE = "per question type (check_accuracy.py, levels apart)"


def _type_table(by_category: dict) -> dict:
    order = [t for t in TYPE_ORDER if t in by_category] + [t for t in by_category if t not in TYPE_ORDER]
    return {t: {"n": by_category[t]["n"], "score": by_category[t]["score"]} for t in order}


def _first_seen_table(records: list[dict]) -> dict:
    groups: dict[str, list[float]] = {}
    for r in records:
        if r.get("score") is not None:
            groups.setdefault(r["subcategory"], []).append(r["score"])
    return {k: {"n": len(v), "score": sum(v) / len(v)} for k, v in groups.items()}


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict:
    """Official: the mean over question types (levels merged first), per type in the official order.
    Paper: the mean over items, per raw question type as the authors' check_accuracy.py prints it."""
    if check_protocol(protocol) == "paper":
        out = summary_tables(records, "micro")
        out["breakdowns"] = {PAPER_TABLE: _first_seen_table(records)}
        out["headline"] = "mean over items (boxed letter / strict MRA)"
        return out
    out = summary_tables(records, "macro")
    out["breakdowns"] = {OFFICIAL_TABLE: _type_table(out["by_category"])}
    out["headline"] = "mean over question types of accuracy / MRA (official)"
    return out


def prepare(bench: Benchmark, protocol: str) -> Benchmark:
    """The protocol's frame count (unless --frames gave one) and frame sampling rule."""
    frames = OFFICIAL_FRAMES if check_protocol(protocol) == "official" else PAPER_FRAMES
    for item in bench.items:
        item.extra["frame_rule"] = FRAME_RULES[protocol]
        if not item.extra.get("frames_given"):
            item.num_frames = frames
    return bench


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt="\n" + RELEASED_REASONING_SENTENCE,  # vsi_infer.py fix_prompt(cot=True)
        name=RULES,
        follows=FOLLOWS,
        paper_differences=PAPER_DIFFERENCES,
        dataset_names=("VSI-Bench", "VSIBench", "vsi_bench"),
        question=question,
        score=score,
        summarize=summarize,
        prepare=prepare,
        spec_kinds=("vsibench",),
        read=read_vsibench,
        sniff=sniff,
    )
)
