"""What'sUp: which of 4 (controlled subsets) or 2 (COCO/GQA-spatial) captions describes the image.

Official ("official" protocol): amitakamath/whatsup_vlms, read at commit 7c1f2550 (2024-02-28):
`main_aro.py` and `dataset_zoo/aro_datasets.py` (`Controlled_Images`, `COCO_QA`, `VG_QA`:
`evaluate_scores`). That code scores contrastive models only (CLIP, BLIP, XVLM, FLAVA, CoCa ...): each
caption gets an image-text score, the prediction is the argmax over the captions, and an item is right
when it is the first caption. It has no prompt, no generative model and no answer parser. For a
generative VLM this module keeps its metric and asks the choice as a question:
- Prompt: "Which caption describes the image correctly?" and the captions as lettered options, in a
  seeded shuffled order (the official argmax does not depend on the caption order; a fixed order would
  put the right caption always under A).
- The chosen caption: the project's multiple-choice rule (`rewards.match.choice_of`: the boxed or final
  letter, or exactly one caption's text; a hedge such as "A or B" chooses nothing). An item is right
  when the chosen caption is the first caption of the release.
- Reported as `evaluate_scores` reports them: the individual accuracy (headline, mean over items); for
  Controlled_Images_A/B the pair accuracy and set accuracy (objects pair up by the image file name
  `<obj1>_<relation>_<obj2>.jpeg`; a pair counts once for left+right both right and once for
  on+under (A) / in-front+behind (B); a set when all four are right; divided by n/2 and n/4 as the
  official code does); and the accuracy per preposition, filed as the official code files them
  (controlled: from the image path; one-object: the last word of the correct caption; two-object:
  "left of" / "right of" / "above" (COCO) or "front of" / "behind" (VG), else below / top).
- The paper's Table 1 macro-averages subsets across files (Controlled A+B, COCO one+two, GQA one+two):
  that is a comparison across benchmarks, not a per-file score (`ssrl compare`).

Paper ("paper" protocol): the Spatial-SSRL authors' InternLM/Spatial-SSRL
`evaluation/whatsup_eval/main.py --dataset Controlled_Images_A --CoT` (their run_cot.sh), read at commit
b313fedf (2026-04-07; last changed in 30468d92, 2025-11-03). Their What'sUp number is subset A; the
script (and this protocol) runs any subset the same way:
- Prompt: "Based on the image, choose the correct option from the list below." then the captions in
  the release's order, `A: <caption>` lines, so the right caption is always A. The authors put their
  format prompt between the sentence and the captions (no separators: "below.You FIRST ...\\boxed{}.A: ...");
  here the sentence and the captions are separated by a newline and the run's template (default for
  this protocol: "spatial-ssrl") appends the format prompt after the captions.
- Match rule: the content of the last `boxed{...}` (regex `boxed\\{([^}]*)\\}`: no backslash needed, up to
  the first "}"), "" when there is none; right when it CONTAINS the capital letter "A" anywhere
  (`"A" in answer`). So "\\boxed{A}", "\\boxed{A or B}", "\\boxed{A mug on a table}" and even
  "\\boxed{B: A mug under a table}" score 1; "\\boxed{a}", "\\boxed{B}" and an unboxed "A" score 0.
  This is the authors' rule as they ran it, reproduced for their numbers, not a rule to trust: hedges
  and caption texts that start with "A" are credited.
- Score: Mean_Accuracy = hits / items; the script reports nothing else.
- Generation (not reproduced by scoring): images at most 512*28*28 pixels, up to 4096 new tokens,
  greedy decoding except for a model path containing "qwen2.5-vl-3b" (sampling, temperature 0.7,
  top-k 50, top-p 0.9).

Known deviations: the official protocol's prompt and letter parsing are this project's (the official code
has none for generative models, see above); malformed records are refused with a BenchmarkFormatError
where the official code would crash. Parsing is linear: `choice_of` is, and the paper rule is `str.find`
scans and one substring test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks._text import last_brace_group
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.prompts import question_text
from spatial_ssrl.evaluate.readers.common import LETTERS
from spatial_ssrl.evaluate.readers.whatsup import RELEASE_FILES, RULES, SUBSET_BY_DATASET, read_whatsup
from spatial_ssrl.evaluate.summary import score_table
from spatial_ssrl.evaluate.summary import summarize as generic_summary
from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.match import choice_of, read_answer
from spatial_ssrl.rewards.score import format_from_parsed

PAPER_INSTRUCTION = "Based on the image, choose the correct option from the list below."  # main.py, --CoT
PAPER_LABEL = LETTERS[0]  # main.py: labels[correct_pred[dataset]]; the first caption (index 0) in every subset here
MAX_PRED_CHARS = 1000  # a paper-protocol `pred` (a box's content) is stored up to this length


def prepare(bench: Benchmark, protocol: str) -> Benchmark:
    """Put each item's captions in the protocol's order: seeded shuffle (official) or as released (paper)."""
    for item in bench.items:
        captions = item.extra.get("captions")
        if protocol == "paper" and captions:
            item.options = {LETTERS[i]: c for i, c in enumerate(captions)}
            item.answer = PAPER_LABEL
        elif "shuffled_options" in item.extra:
            item.options = dict(item.extra["shuffled_options"])
            item.answer = item.extra["shuffled_answer"]
    return bench


def question(item: EvalItem, protocol: str) -> str:
    """Official: our multiple-choice question over the shuffled captions. Paper: the authors' sentence and
    `A: caption` lines in the release's order, their reasoning sentence in between."""
    if protocol == "paper":
        captions = item.extra.get("captions") or list(item.options.values())
        # main.py --CoT: instruction, reasoning sentence and captions joined with no separator, as written there.
        return (
            PAPER_INSTRUCTION
            + RELEASED_REASONING_SENTENCE
            + "\n".join(f"{LETTERS[i]}: {c}" for i, c in enumerate(captions))
        )
    return question_text(item)


def paper_answer(response: str) -> str:
    """The authors' `extract`: the content of the last `boxed{...}`, "" when there is none."""
    return last_brace_group(response, "boxed{") or ""


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """Official: 1 when the caption chosen is the release's first caption. Paper: 1 when "A" is in the last box."""
    response = response if isinstance(response, str) else ""
    parsed = parse_response(response)
    fmt = format_from_parsed(parsed)
    if ctx.protocol == "paper":
        answer = paper_answer(response)
        return {"score": float(PAPER_LABEL in answer), "format": fmt, "pred": answer[:MAX_PRED_CHARS] or None}
    letter = choice_of(read_answer(response, parsed), item.options or None)
    chosen = item.options.get(letter) if letter else None
    right = chosen is not None and chosen == item.extra.get("correct_caption", item.options.get(item.answer))
    return {"score": float(right), "format": fmt, "pred": letter, "caption": chosen}


def pair_and_set(items: list[EvalItem], records: list[dict]) -> dict[str, dict[str, Any]]:
    """Pair and set accuracy of each controlled subset among `items`, as Controlled_Images.evaluate_scores
    forms them: {subset: {"pairs": n/2, "pair": accuracy, "sets": n/4, "set": accuracy}}. A subset
    whose image names do not give object pairs is left out."""
    by_subset: dict[str, list[tuple[EvalItem, float]]] = {}
    for item, rec in zip(items, records):
        by_subset.setdefault(item.extra.get("subset", ""), []).append((item, rec["score"] or 0.0))
    out = {}
    for dataset, rows in by_subset.items():
        subset = SUBSET_BY_DATASET.get(dataset)
        if subset is None or not subset.relations or any(it.extra.get("pair") is None for it, _ in rows):
            continue
        groups: dict[str, dict[str, float]] = {it.extra["pair"]: dict.fromkeys(subset.relations, 0.0) for it, _ in rows}
        for it, value in rows:  # a later image of the same pair and relation overwrites, as in the official dict
            groups[it.extra["pair"]][it.extra["relation"]] = value
        first, second = subset.relations[:2], subset.relations[2:]
        pair_correct = sum(all(g[r] for r in first) + all(g[r] for r in second) for g in groups.values())
        set_correct = sum(sum(g.values()) == 4 for g in groups.values())
        n = len(rows)
        out[dataset] = {"pairs": n / 2, "pair": pair_correct / (n / 2), "sets": n / 4, "set": set_correct / (n / 4)}
    return out


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict[str, Any]:
    """Official: individual accuracy, pair/set accuracy (controlled) and per preposition. Paper: Mean_Accuracy."""
    out = generic_summary(records)
    if protocol == "paper":
        out["breakdowns"] = {}
        out["headline"] = "Mean_Accuracy of the authors' main.py --CoT: 'A' in the last boxed{}, captions as released"
        return out
    breakdowns: dict[str, dict] = {"preposition": score_table(records, lambda r: r["subcategory"] or None)}
    pairs = pair_and_set(items, records)
    if pairs:
        table = {}
        for dataset, v in pairs.items():
            prefix = f"{dataset} " if len(pairs) > 1 else ""
            table[f"{prefix}pair"] = {"n": int(v["pairs"]), "score": v["pair"]}
            table[f"{prefix}set"] = {"n": int(v["sets"]), "score": v["set"]}
        breakdowns["pair and set"] = table
        if len(pairs) == 1:
            (v,) = pairs.values()
            out["pair_accuracy"], out["set_accuracy"] = v["pair"], v["set"]
    out["breakdowns"] = breakdowns
    out["headline"] = "individual accuracy (main_aro.py: the chosen caption is the first caption)"
    return out


def read(path, *, name=None, data_root=None, num_frames: int = 16, seed: int = 0) -> Benchmark:
    """The `whatsup:` loader (`readers.whatsup.read_whatsup`); `seed` orders the captions, frames do not apply."""
    return read_whatsup(path, name=name, data_root=data_root, seed=seed)


def sniff(path, keys: set[str] | None) -> bool:
    """A bare path is What'sUp when it has a release file's name or `image_path` + `caption_options` records."""
    return Path(path).name.casefold() in RELEASE_FILES or bool(keys and {"image_path", "caption_options"} <= keys)


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt="",  # their sentence sits between the instruction and the captions: in question()
        name=RULES,
        follows=(
            "amitakamath/whatsup_vlms main_aro.py + dataset_zoo/aro_datasets.py @ 7c1f2550 (metric: argmax caption = "
            "first caption; individual, pair, set, per-preposition accuracy); asked as a multiple-choice question "
            "over shuffled captions since the official code scores contrastive models only"
        ),
        paper_differences=(
            "InternLM/Spatial-SSRL evaluation/whatsup_eval/main.py --CoT @ b313fedf: captions in the release's order "
            "(right one always A), 'A' anywhere in the last boxed{} counts, Mean_Accuracy only; paper reports "
            "Controlled_Images_A"
        ),
        dataset_names=("WhatsUp", "Whats_Up"),
        question=question,
        score=score,
        summarize=summarize,
        prepare=prepare,
        answer_style="choice",
        spec_kinds=("whatsup",),
        read=read,
        sniff=sniff,
    )
)
