"""3DSRBench (Ma et al., ICCV 2025): 3D spatial reasoning questions, with VLMEvalKit's four settings.

Official ("official" protocol): open-compass/VLMEvalKit @ e8e78f05 (2026-08-18),
vlmeval/dataset/image_mcq.py `_3DSRBench.evaluate` (last changed in 235046e9, 2026-02-19, which went
back to the rules of c9729aac, 2025-06-10), with utils/multiple_choice.py `mcq_vanilla_eval` and
`report_acc`. What it does, and this module the same way:
- Prompt and matching: `ImageMCQDataset.build_prompt` and exact matching (`can_infer`), with the LLM
  judge only when one is configured: vlmevalkit.py (`mcq_question`, `mcq_score`). Every row of the TSV
  is one question scored on its own (`mcq_vanilla_eval`): the TSV already holds the circular copies and
  the flipped images as rows of their own.
- The `qid` column ties the rows together (kept by the TSV reader in `item.extra["tsv"]`: `tsv_value`).
  Its layout (the 3DSRBench circular TSV, as lmms-eval's 3dsrbench task documents it): "VIN6MS3J" (an
  8-character question id), "VIN6MS3J-1", ... (its circular copies: the options rotated),
  "VIN6MS3J-flip" (the question on the horizontally flipped image, with the answer flipped) and
  "VIN6MS3J-flip-1", ... (that one's circular copies).
- Four settings, each a `report_acc` table (Overall, then each l2-category and each category) over
  its "main" rows, a main row's hit being the product of the hits of every row whose key is that
  row's qid (all must be right):
  - vanilla: every row on its own (the plain accuracy over all rows, copies and flips included);
  - flip_eval: key = qid with "-flip" removed: each question (and each circular copy) paired with its
    flipped twin; main rows = the unflipped rows;
  - circ_eval: key = qid[:13] for a flipped row, qid[:8] otherwise: all circular copies of a question
    together, flipped and unflipped questions apart; main rows = "XXXXXXXX" and "XXXXXXXX-flip";
  - flip_circ_eval: key = qid[:8]: every copy, flipped or not; main rows = "XXXXXXXX".
  The keys are these exact slices (8 and 13 characters), as VLMEvalKit computes them.
- Reported here as `breakdowns`: "settings (Overall)" (one row per setting) and, per setting, report_acc's
  category rows ("<setting> by category", "<setting> by l2-category" when the file has one;
  vlmevalkit.acc_tables). VLMEvalKit's table has only the TSV's own categories (the twelve question
  types); the four main groups (height, location, orientation, multi_object) are lmms-eval's, not
  reported here. The dataset is "3DSRBench" whatever the TSV is called: a file named
  `3dsrbench_v1_vlmevalkit_circular.tsv` is still scored row by row (no MMBench-style CircularEval).
- Headline: the vanilla Overall. VLMEvalKit prints all four settings and ranks none; vanilla is the
  first, the one the authors' copy also writes to its `_acc.csv`, and the one EASI (a VLMEvalKit-based
  spatial leaderboard, EvolvingLMMs-Lab/EASI scripts/submissions/postprocess.py) takes as 3DSRBench's
  overall score. All four settings are in `breakdowns` and `settings`.

Paper ("paper" protocol): the authors' copy (InternLM/Spatial-SSRL @ b313fedf,
evaluation/Remaining_Bench_eval/vlmeval/dataset/image_mcq.py `_3DSRBench`, the VLMEvalKit code of
c9729aac/e585f9b1, June 2025): it runs `ImageMCQDataset.evaluate` (the same per-row vanilla scoring)
and then computes the same four settings with the same keys. Only the shared VLMEvalKit rules differ
(vlmevalkit.py): their older `can_infer` (a lone letter anywhere, no "answer is X", no length limit on
the option-text rule), and their model wrapper appends the released checkpoints' reasoning sentence
directly after the question text, which here the run's template adds (the "spatial-ssrl" template,
after "\n ": a whitespace-only difference).

Known deviations (both protocols):
- A row whose key has no main row (a flipped row whose original is not in the file, e.g. after
  `--limit`) makes VLMEvalKit raise KeyError; here it is left out of that setting and counted in
  `settings_orphans`. A row without a qid is scored in vanilla only; a file without a `qid` column has
  vanilla only (VLMEvalKit raises KeyError).
- A row whose category cell is empty is left out of the category rows (VLMEvalKit: a NaN row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import (
    AUTHORS_SOURCE,
    VLMEVALKIT_SOURCE,
    acc_tables,
    mcq_question,
    mcq_score,
    mcq_summary,
)
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.summary import mean

NAME = "3DSRBench"


def flip_key(qid: str) -> str:
    """flip_eval: the question (or circular copy) a row belongs to, flipped or not."""
    return qid.replace("-flip", "")


def circ_key(qid: str) -> str:
    """circ_eval: the question a row is a circular copy of; flipped questions are questions of their own."""
    return qid[:13] if "-flip" in qid else qid[:8]


def flip_circ_key(qid: str) -> str:
    """flip_circ_eval: the question a row is any copy of."""
    return qid[:8]


SETTINGS: dict[str, Callable[[str], str] | None] = {
    "vanilla": None,
    "flip_eval": flip_key,
    "circ_eval": circ_key,
    "flip_circ_eval": flip_circ_key,
}


def tsv_value(item: EvalItem, column: str) -> str | None:
    """The item's cell in a column VLMEvalKit keeps in its eval file but EvalItem has no field for (`qid`,
    `source`, `prompt`, ...): `item.extra[column]` when the loader set it, else the TSV reader's
    `item.extra["tsv"]` (the row's other non-empty cells), matched case-insensitively as VLMEvalKit
    lower-cases column names. None for an empty cell or a file without the column."""
    value = item.extra.get(column)
    if value is None:
        cells = item.extra.get("tsv")
        if isinstance(cells, dict):
            want = column.casefold()
            value = next((v for k, v in cells.items() if str(k).strip().casefold() == want), None)
    return value if isinstance(value, str) and value.strip() else None


def question(item: EvalItem, protocol: str) -> str:
    """ImageMCQDataset.build_prompt's text (both protocols)."""
    return mcq_question(item)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """One row's vanilla hit: VLMEvalKit's multiple-choice score under ctx.protocol (vlmevalkit.mcq_score)."""
    return mcq_score(item, response, ctx)


def setting_rows(rows: list[tuple[str, EvalItem, float]], key: Callable[[str], str]) -> tuple[list, int]:
    """([(main item, setting hit)], rows left out) for one setting: `rows` are (qid, item, hit) of the
    scored rows, `key` the setting's grouping.

    As _3DSRBench.evaluate: the main rows are those whose qid is some row's key; each main row starts
    with its own hit and is multiplied by the hit of every row whose key is its qid (all must be right).
    A row whose key is no main row's qid is left out (VLMEvalKit raises KeyError there)."""
    keys = {key(q) for q, _, _ in rows}
    main = [(q, it, h) for q, it, h in rows if q in keys]
    hit = {q: h for q, _, h in main}  # a duplicated qid: the last row's hit, as dict(zip(...)) keeps
    orphans = 0
    for q, _, h in rows:
        k = key(q)
        if k in hit:
            hit[k] *= h
        else:
            orphans += 1
    return [(it, hit[q]) for q, it, _ in main], orphans


def settings_rows(items: list[EvalItem], records: list[dict]) -> tuple[dict[str, list], dict[str, int]]:
    """({setting: [(main item, hit)]}, {setting: scored rows left out of it}). Without any qid, vanilla only."""
    scored = [(it, r["score"]) for it, r in zip(items, records) if r.get("score") is not None]
    out: dict[str, list] = {"vanilla": scored}
    orphans: dict[str, int] = {}
    with_qid = [(tsv_value(it, "qid"), it, h) for it, h in scored]
    with_qid = [(q, it, h) for q, it, h in with_qid if q is not None]
    if not with_qid:
        return out, orphans
    for name, key in SETTINGS.items():
        if key is not None:
            out[name], left_out = setting_rows(with_qid, key)
            orphans[name] = left_out + len(scored) - len(with_qid)
    return out, orphans


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict[str, Any]:
    """The four settings (Overall, and report_acc's tables each); the headline is the vanilla Overall."""
    out = mcq_summary(items, records, protocol, circular=False)  # vanilla: ImageMCQDataset's report
    rows, orphans = settings_rows(items, records)
    overall = {name: {"n": len(r), "score": mean([h for _, h in r])} for name, r in rows.items()}
    breakdowns = {"settings (Overall)": overall}
    for name, r in rows.items():
        breakdowns.update(acc_tables(r, f"{name} "))
    out["score"] = overall["vanilla"]["score"]
    out["breakdowns"] = breakdowns
    out["settings"] = {name: cell["score"] for name, cell in overall.items()}
    out["settings_orphans"] = {k: v for k, v in orphans.items() if v}
    out["headline"] = "vanilla accuracy (VLMEvalKit's first setting: every row, circular copies and flips included)"
    return out


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=NAME,
        follows=f"{VLMEVALKIT_SOURCE}: vlmeval/dataset/image_mcq.py _3DSRBench.evaluate (vanilla, flip_eval, "
        "circ_eval, flip_circ_eval), utils/multiple_choice.py mcq_vanilla_eval + report_acc",
        paper_differences=(
            f"{AUTHORS_SOURCE}: the same four settings after ImageMCQDataset.evaluate; older can_infer (a lone "
            "letter anywhere, no 'answer is X' rule, option-text rule without a length limit) and the reasoning "
            "sentence appended to the prompt"
        ),
        dataset_names=(NAME,),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="choice",
    )
)
