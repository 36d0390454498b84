"""VLMEvalKit's multiple-choice rules, shared by every benchmark module that VLMEvalKit scores.

Followed (read, not copied):
- official: open-compass/VLMEvalKit @ e8e78f05f3080fe28154f2130321f17951c3be94 (2026-08-18):
  vlmeval/utils/matching_util.py (`can_infer`, `can_infer_option`, `can_infer_text`),
  vlmeval/dataset/utils/multiple_choice.py (`extract_answer_from_item`, `build_prompt*`,
  `prefetch_circular_group`, `mcq_circular_eval`, `report_acc`), vlmeval/dataset/image_mcq.py
  (`ImageMCQDataset.build_prompt`, `evaluate_heuristic`), vlmeval/inference.py (SPLIT_THINK),
  vlmeval/smp/vlm.py (`build_option_str`).
- paper: the Spatial-SSRL authors' copy, InternLM/Spatial-SSRL @ b313fedf14cc152f99dfd2f1d0af1d627b386ccd
  (2026-04-07), evaluation/Remaining_Bench_eval/vlmeval/...: the same files as they stood before
  VLMEvalKit commit c3371551 (2025-08-04).

What the scorer sees (`scored_text`). VLMEvalKit stores the model's whole reply as `prediction`; only when
the environment variable SPLIT_THINK is set does inference.py cut it at the last `</think>` (the default
is unset, and no model wrapper used here strips a think block). The prediction goes through an
xlsx/TSV round trip, after which pandas reads an empty cell (or one of its NA spellings: "None",
"NA", "null", ...) as NaN, which `str()` turns into "nan". Both protocols score the whole reply: the
authors' copy does not extract `\\boxed{}` for multiple choice (their Qwen2VLChat wrapper has
`post_process=False` for Spatial-SSRL-7B, their inference.py has no SPLIT_THINK). `scored_text(...,
split_think=True)` gives the SPLIT_THINK behaviour for users who ran VLMEvalKit with it.

Exact matching (`infer_option` = `can_infer`): first `can_infer_option`, then, if it found nothing,
`can_infer_text`.
- can_infer_option: a reply containing "Failed to obtain answer via API" has no option (the text rule
  still runs). A reply containing one of four refusal phrases ("Cannot determine the answer", ...) is
  'Z': VLMEvalKit's "no option", which is never the answer (scored 0) but stops the search (no text
  rule, no judge). Otherwise the characters `.()[],:;!*#{}` become spaces and the reply is split on
  whitespace into tokens; when exactly one option letter is a token, that letter is the answer —
  official only if its first occurrence is among the last four tokens (`index > len - 5`); paper
  anywhere. When no option letter is a token but `Z` is, the answer is 'Z'. Official then also reads
  "answer is X" / "correct answer is **X**" (case-insensitive, X in A-D, the first such phrase only).
- can_infer_text: the lower-cased reply contains exactly one option's lower-cased text -> that option.
  Official skips this rule when the reply is longer than twice the options' total length.
Consequences (tested in tests/evaluate/benchmarks/test_vlmevalkit.py): "B" -> B; lowercase "a" -> no
option; "A or B" -> no option (two letters) unless exactly one option's text is in the reply;
"B. The watermelon is clearly the largest." -> B in both protocols when "watermelon" is exactly one
option's text (official: by the text rule, the letter is too early), and by the letter rule in paper
whatever the options; "B\\n\\nThe red one." -> B (B is within the last four tokens).

Judge fallback (only with ctx.judge; VLMEvalKit's exact_matching policy has none): when exact matching
finds nothing, the judge gets VLMEvalKit's extraction prompt (`build_prompt`, `build_prompt_blink` for
the dataset named exactly "BLINK", `build_prompt_cn` for a question with Chinese characters), with
the options listed as `build_option_str` does; its reply is read with the same `infer_option`. Up to
three replies are asked for; after three unreadable ones VLMEvalKit picks a random letter (or Z): we
pick with a generator seeded by the item, so a rerun agrees with itself.

Known deviations: a reply longer than rewards.match.MAX_ANSWER_TEXT_CHARS (32768 characters) has no
option (VLMEvalKit has no bound; the bound keeps scoring linear); the VERBOSE environment quirk of
can_infer_option (with VERBOSE set, a reply with a token 'A' and more than three tokens has no option)
is not mirrored (VERBOSE is unset by default); pandas' xlsx round trip of other values (illegal control
characters) is not mirrored; in circular evaluation with a judge, we ask the judge for every
unresolved copy, where VLMEvalKit stops at the first copy that exact matching already got wrong (the
group's result is the same; only the count of judge calls differs).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from typing import Any

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import ItemScore, ScoringContext, check_protocol
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.readers.vlmevalkit_tsv import NA_VALUES
from spatial_ssrl.evaluate.summary import mean, summarize
from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.match import MAX_ANSWER_TEXT_CHARS
from spatial_ssrl.rewards.score import format_from_parsed

VLMEVALKIT_SOURCE = "open-compass/VLMEvalKit@e8e78f05f3080fe28154f2130321f17951c3be94 (2026-08-18)"
AUTHORS_SOURCE = (
    "InternLM/Spatial-SSRL@b313fedf14cc152f99dfd2f1d0af1d627b386ccd (2026-04-07), "
    "evaluation/Remaining_Bench_eval (VLMEvalKit before c3371551)"
)

# The reasoning instruction the authors' copy appends to every text part of the prompt
# (vlmeval/vlm/base.py, BaseModel.preproc_content), directly after ImageMCQDataset.build_prompt's text.
AUTHORS_REASONING_PROMPT = RELEASED_REASONING_SENTENCE

FAILED_API = "Failed to obtain answer via API"
REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
NO_OPTION = "Z"  # VLMEvalKit's "the reply picks no option": never equal to an answer letter
PANDAS_NA = NA_VALUES  # pandas' default NA spellings: a prediction cell holding one of these is read back as NaN
_SEPARATORS = str.maketrans({c: " " for c in ".()[],:;!*#{}"})
# matching_util._VERBOSE_ANSWER_RE with possessive quantifiers: the same matches (whitespace cannot
# match "is" or a letter, a star cannot match a letter), but no backtracking into long runs.
_VERBOSE_ANSWER = re.compile(r"(?i)(?:correct\s++)?answer\s++is\s++\**+([ABCD])")
_CJK = re.compile("[\u4e00-\u9fff]")
JUDGE_RETRIES = 3


def scored_text(response: Any, protocol: str, *, split_think: bool = False) -> str:
    """The prediction VLMEvalKit's scorer sees for `response` (see the module docstring).

    Both protocols score the whole reply; `split_think=True` keeps only the text after the last
    `</think>`, as inference.py does when SPLIT_THINK is set."""
    check_protocol(protocol)
    text = response if isinstance(response, str) else ""
    if split_think and "</think>" in text:
        text = text.rsplit("</think>", 1)[1].strip()
    return "nan" if text in PANDAS_NA else text


def _letter_rule(text: str, options: dict[str, str], protocol: str) -> str | None:
    """can_infer_option: a letter, NO_OPTION, or None."""
    if FAILED_API in text:
        return None
    if any(phrase in text for phrase in REFUSALS):
        return NO_OPTION
    tokens = text.translate(_SEPARATORS).split()
    first: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if len(tok) == 1 and (tok in options or tok == NO_OPTION):
            first.setdefault(tok, i)
    present = [c for c in options if c in first]
    if len(present) == 1:
        (letter,) = present
        if protocol == "paper" or first[letter] > len(tokens) - 5:
            return letter
    elif not present and NO_OPTION in first:
        return NO_OPTION
    if protocol == "official":
        m = _VERBOSE_ANSWER.search(text)
        if m and m.group(1).upper() in options:
            return m.group(1).upper()
    return None


def _text_rule(text: str, options: dict[str, str], protocol: str) -> str | None:
    """can_infer_text: the one option whose text the reply contains, or None."""
    low = text.lower()
    if protocol == "official" and len(low) > 2 * sum(len(str(v)) for v in options.values()):
        return None
    found = [k for k, v in options.items() if str(v).lower() in low]
    return found[0] if len(found) == 1 else None


def infer_option(text: str, options: dict[str, str], protocol: str = "official") -> str | None:
    """The option VLMEvalKit's `can_infer` reads in `text`: a letter of `options`, NO_OPTION ('Z': a
    refusal or a bare Z, never credited and never sent to the judge), or None where can_infer returns
    False (nothing found: the judge is asked when there is one). Linear in len(text); a text longer than
    MAX_ANSWER_TEXT_CHARS gives None."""
    check_protocol(protocol)
    text = str(text)
    if len(text) > MAX_ANSWER_TEXT_CHARS:
        return None
    return _letter_rule(text, options, protocol) or _text_rule(text, options, protocol)


def mcq_question(item: EvalItem) -> str:
    """The text ImageMCQDataset.build_prompt puts after the images: `Hint: ...`, `Question: ...`, the
    `Options:` lines and its answer instruction (exact wording, trailing space and newline included)."""
    text = f"Hint: {item.hint}\n" if item.hint else ""
    text += f"Question: {item.question}\n"
    if item.options:
        text += "Options:\n" + "".join(f"{k}. {v}\n" for k, v in item.options.items())
        text += "Please select the correct answer from the options above. \n"
    return text


def option_list(options: dict[str, str]) -> str:
    """vlmeval.smp.vlm.build_option_str: the options as the judge prompt lists them."""
    return "There are several options: \n" + "".join(f"{k}. {v}\n" for k, v in options.items())


_JUDGE_PROMPT = (
    "You are an AI assistant who will help me to match "
    "an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, "
    "and you need to find which option is most similar to the answer. "
    "If the meaning of all options are significantly different from the answer, output Z. "
    "Your should output a single uppercase character in A, B, C, D (if they are valid options), and Z. \n"
    "Example 1: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: a cute teddy bear\nYour output: A\n"
    "Example 2: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: Spider\nYour output: Z\n"
    "Example 3: \n"
    "Question: {question}?\nOptions: {options}\nAnswer: {answer}\nYour output: "
)
_JUDGE_PROMPT_BLINK = (
    "You are an AI assistant who will help me to match an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, "
    "and you need to find which option is most similar to the answer. "
    "If the answer says things like refuse to answer, I'm sorry cannot help, etc., output Z."
    "If the meaning of all options are significantly different from the answer, "
    "or the answer does not select any option, output Z. "
    "Your should output one of the choices, A, B, C, D (if they are valid options), or Z.\n"
    "Example 1: \n"
    "Question: Which point is closer to the camera?\nSelect from the following choices.\n"
    "Options: A. Point A\nB. Point B\n(Z) Failed\n"
    "Answer: Point B, where the child is sitting, is closer to the camera.\nYour output: (B)\n"
    "Example 2: \n"
    "Question: Which point is closer to the camera?\nSelect from the following choices.\n"
    "Options: (A) Point A\n(B) Point B\n(Z) Failed\n"
    "Answer: I'm sorry, but I can't assist with that request.\nYour output: (Z)\n"
    "Example 3: \n"
    "Question: Which point is corresponding to the reference point?\nSelect from the following choices.\n"
    "Options: (A) Point A\n(B) Point B\n(Z) Failed\n"
    "Answer:The reference point (REF) on the first image is at the tip of the pot, "
    "which is the part used to Poke if the pots were used for that action. Looking at the second image, "
    "we need to find the part of the object that would correspond to poking.\n"
    "(A) Point A is at the tip of the spoon's handle, which is not used for poking.\n"
    "(B) Point B is at the bottom of the spoon, which is not used for poking.\n"
    "(C) Point C is on the side of the pspoonot, which is not used for poking.\n"
    "(D) Point D is at the tip of the spoon, which is not used for poking.\n"
    "\nTherefore, there is no correct answer in the choices\nYour output: (Z)\n"
    "Example 4: \n"
    "Question: {question}?\nOptions: {options}\n(Z) Failed\nAnswer: {answer}\nYour output: "
)
_JUDGE_PROMPT_CN = (
    "你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。"
    "你会被提供：一个问题，多个选项，一个答案。你的任务是找到与答案意义最相近的选项。"
    "如果所有选项的意义都与答案显著不同，则输出 Z。"
    "你应该输出一个单个的大写字母，例如 A, B, C, D（如果它们是有效选项），或 Z。"
    "例 1:"
    "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 一只可爱的泰迪熊\n输出: A\n"
    "例 2: \n"
    "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 蜘蛛\n输出: Z\n"
    "例 3: \n"
    "问题: {question}?\n选项: {options}\n答案: {answer}\n输出: "
)


def judge_prompt(item: EvalItem, prediction: str, dataset: str | None = None) -> str:
    """The prompt extract_answer_from_item sends to the judge for this item and prediction."""
    if dataset == "BLINK":
        template = _JUDGE_PROMPT_BLINK
    elif _CJK.search(item.question):
        template = _JUDGE_PROMPT_CN
    else:
        template = _JUDGE_PROMPT
    # str.replace, not str.format: the question or the prediction may hold braces
    values = {"{question}": item.question, "{options}": option_list(item.options), "{answer}": prediction}
    out, rest = [], template
    for key in ("{question}", "{options}", "{answer}"):
        head, _, rest = rest.partition(key)
        out += [head, values[key]]
    return "".join(out) + rest


def _ask_judge(item: EvalItem, prediction: str, ctx: ScoringContext, dataset: str | None) -> tuple[str, str]:
    """(option, how) from the judge: up to JUDGE_RETRIES replies, then a seeded random pick."""
    prompt = judge_prompt(item, prediction, dataset)
    for _ in range(JUDGE_RETRIES):
        reply = ctx.judge(prompt)
        ctx.judge_calls += 1
        reply = reply if isinstance(reply, str) else ""
        if FAILED_API in reply:
            continue
        got = infer_option(reply, dict(item.options), ctx.protocol)
        if got:
            return got, "judge"
    letters = [*item.options, NO_OPTION]
    return random.Random(f"{item.benchmark}/{item.id}").choice(letters), "random"


def mcq_score(item: EvalItem, response: Any, ctx: ScoringContext, *, dataset: str | None = None) -> ItemScore:
    """One response's official multiple-choice score (see the module docstring).

    Returns {"score": 1.0/0.0 (None for an item without an answer: MMBench TEST), "format", "pred": the
    option read (a letter, 'Z', or None when nothing was read), "matched": "exact" | "judge" | "random" |
    None, "judged": whether the judge was asked}. `dataset` is VLMEvalKit's dataset name where it changes
    the judge prompt ("BLINK")."""
    text = response if isinstance(response, str) else ""
    fmt = format_from_parsed(parse_response(text))
    prediction = scored_text(text, ctx.protocol)
    pred = infer_option(prediction, dict(item.options), ctx.protocol)
    matched, judged = ("exact" if pred else None), False
    if pred is None and ctx.judge is not None and item.options:
        judged = True
        pred, matched = _ask_judge(item, prediction, ctx, dataset)
    no_answer = item.extra.get("no_answer")
    score = None if no_answer else float(pred is not None and pred == item.answer.strip().upper())
    return {"score": score, "format": fmt, "pred": pred, "matched": matched, "judged": judged}


# ---------------------------------------------------------------- circular evaluation


CIRCULAR_OFFSET = 1_000_000  # MMBench's circular copies: index + k * 1e6 (mcq_circular_eval: g_index = index % 1e6)


def _int_index(item: EvalItem, value: Any, what: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{item.benchmark}/{item.id}: circular evaluation needs an integer {what}") from None


def group_index(item: EvalItem) -> str:
    """The circular group of an item: its `g_index` column when the file has one, else int(index) % 1e6.

    Raises:
        ValueError: the index is not an integer (VLMEvalKit asserts integer indices for circular data).
    """
    g = item.extra.get("g_index")
    if g is not None and str(g).strip() != "":
        return str(_int_index(item, g, "g_index"))
    return str(_int_index(item, item.id, "index") % CIRCULAR_OFFSET)


def circular_groups(items: list[EvalItem]) -> dict[str, list[EvalItem]]:
    """{group index: its items in file order, the main row first} for the groups VLMEvalKit scores:
    those whose main row (index == group index) is present. Copies whose main row is absent are not
    scored, as in mcq_circular_eval (it scores the groups of the rows whose index equals their g_index).

    Raises:
        ValueError: an index (or g_index) is not an integer.
    """
    groups: dict[str, list[EvalItem]] = defaultdict(list)
    mains: set[str] = set()
    for item in items:
        g = group_index(item)
        if str(_int_index(item, item.id, "index")) == g:
            mains.add(g)
            groups[g].insert(0, item)
        else:
            groups[g].append(item)
    return {g: members for g, members in groups.items() if g in mains}


def circular_table(items: list[EvalItem], records: list[dict]) -> dict[str, Any]:
    """CircularEval: a group is right only if every copy is right (prefetch_circular_group).

    `records` are parallel to `items` (each with "score": 1/0, or None for an unscored item).
    Returns {"score": mean hit over groups (None when none is scored), "n": groups scored,
    "groups": {group: {"n": copies, "hit": 1/0 or None}}, "main": [(main item, main record, hit)]}:
    `main` lets a module build report_acc's per-category tables over the main rows, as VLMEvalKit does."""
    record_of = {it.id: rec for it, rec in zip(items, records)}
    table: dict[str, dict[str, Any]] = {}
    main = []
    for g, members in circular_groups(items).items():
        scores = [record_of[m.id].get("score") for m in members]
        hit = None if any(s is None for s in scores) else int(all(s == 1 for s in scores))
        table[g] = {"n": len(members), "hit": hit}
        main.append((members[0], record_of[members[0].id], hit))
    hits = [v["hit"] for v in table.values() if v["hit"] is not None]
    return {"score": mean(hits), "n": len(hits), "groups": table, "main": main}


# ---------------------------------------------------------------- report_acc


# multiple_choice.MMB_abbrs: report_acc prints these category names abbreviated.
MMB_ABBRS = {
    "coarse_perception": "CP",
    "finegrained_perception (instance-level)": "FP-S",
    "finegrained_perception (cross-instance)": "FP-C",
    "logic_reasoning": "LR",
    "relation_reasoning": "RR",
    "attribute_reasoning": "AR",
}


def acc_tables(rows: list[tuple[EvalItem, float | None]], prefix: str = "") -> dict[str, dict[str, dict]]:
    """report_acc's tables over (item, hit) rows: per `l2-category` and per `category` (rows sorted by
    name, abbreviated as MMB_ABBRS), and per `split` when the items come from more than one split.
    Rows with a None hit and empty category names are left out (report_acc cannot sort a NaN name)."""
    tables: dict[str, dict[str, dict]] = {}
    keys = (("by l2-category", lambda it: it.subcategory), ("by category", lambda it: it.category))
    splits = {it.extra.get("split", "") for it, _ in rows}
    if len(splits) > 1:
        keys += (("by split", lambda it: it.extra.get("split", "")),)
    for title, key in keys:
        groups: dict[str, list[float]] = defaultdict(list)
        for item, hit in rows:
            name = key(item)
            if hit is not None and name:
                groups[MMB_ABBRS.get(name, name)].append(hit)
        if groups:
            tables[prefix + title] = {k: {"n": len(v), "score": mean(v)} for k, v in sorted(groups.items())}
    return tables


def is_circular(name: str) -> bool:
    """evaluate_heuristic's test: a dataset name containing mmbench, ccbench, circular or mmcr (the
    TEST names map to MMBench*, which contain mmbench) is scored with CircularEval."""
    low = name.casefold()
    return any(k in low for k in ("mmbench", "ccbench", "circular", "mmcr"))


def mcq_summary(items: list[EvalItem], records: list[dict], protocol: str, *, circular: bool | None = None) -> dict:
    """ImageMCQDataset.evaluate_heuristic's report for a benchmark (either protocol: both copies agree).

    Vanilla: the headline is the mean hit over items (report_acc's Overall). Circular (`circular`, or by
    default `is_circular` of the items' benchmark name): the headline is the mean over circular groups
    (a group is right only if every copy is), and the category tables are over groups, keyed by each
    group's main row; the vanilla accuracies (PRINT_VANILLA=1: circ0 = main rows, all = every copy) are
    reported as breakdowns."""
    base = summarize(records)
    if circular is None:
        circular = bool(items) and is_circular(items[0].benchmark)
    vanilla_rows = [(it, r["score"]) for it, r in zip(items, records)]
    out = {**base, "judged": sum(bool(r.get("judged")) for r in records)}
    if not circular:
        out["headline"] = "accuracy (VLMEvalKit exact matching)"
        out["breakdowns"] = acc_tables(vanilla_rows)
        return out
    table = circular_table(items, records)
    main_rows = [(it, hit) for it, _, hit in table["main"]]
    main_scores = [rec["score"] for _, rec, _ in table["main"] if rec["score"] is not None]
    breakdowns = {
        "Overall": {
            "CircularEval": {"n": table["n"], "score": table["score"]},
            "vanilla (circ0: main rows)": {"n": len(main_scores), "score": mean(main_scores)},
            "vanilla (all copies)": {"n": base["n"], "score": base["accuracy"]},
        }
    }
    breakdowns.update(acc_tables(main_rows, "CircularEval "))
    out.update(
        score=table["score"],
        circular_groups=table["n"],
        headline=f"CircularEval accuracy over {table['n']} questions (VLMEvalKit exact matching)",
        breakdowns=breakdowns,
    )
    for name, key in (("by_category", lambda it: it.category), ("by_subcategory", lambda it: it.subcategory)):
        hits: dict[str, list[int]] = defaultdict(list)
        for item, hit in main_rows:
            if hit is not None:
                hits[key(item)].append(hit)
        for k, entry in out[name].items():
            if k in hits:
                entry["score"], entry["groups"] = mean(hits[k]), len(hits[k])
    return out
