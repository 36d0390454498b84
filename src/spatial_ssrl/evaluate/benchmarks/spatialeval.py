"""SpatialEval (Wang et al., NeurIPS 2024, "Is A Picture Worth A Thousand Words?") as VLMEvalKit scores it.

Official ("official" protocol): open-compass/VLMEvalKit @ e8e78f05 (2026-08-18). SpatialEval has no
dataset class of its own: `SpatialEval` is one entry of `ImageMCQDataset.DATASET_URL` in
vlmeval/dataset/image_mcq.py (added in e99bcc94, PR #1054, 2025-06-10, with its TSV
`SpatialEval.tsv`, md5 4c8eb331...). So it is a plain multiple-choice TSV, prompted, matched and
reported exactly as any ImageMCQDataset:
- Prompt: `ImageMCQDataset.build_prompt` (`vlmevalkit.mcq_question`): "Hint: ..." when the row has a
  hint, "Question: ...", "Options:" with one "X. text" line per non-empty option column A..Z, then
  "Please select the correct answer from the options above. \\n".
- Answers: the `answer` column is an option letter; the options are the non-empty columns A..Z. The
  reply is matched by `can_infer` (exact matching: `vlmevalkit.infer_option`), with the LLM judge only
  when one is configured (`evaluate_heuristic` -> `mcq_vanilla_eval`, one row = one question, no
  CircularEval: the name contains none of mmbench/ccbench/circular/mmcr). See vlmevalkit.py for the
  matching rules, e.g. "B" -> B, lowercase "a" -> nothing, "A or B" -> nothing, an option's text alone
  -> that option, a letter before the last four words -> nothing (official) unless "answer is X".
- Report (`report_acc` in vlmeval/dataset/utils/multiple_choice.py): per `split` (one split "none"
  when the file has no split column), the plain accuracy "Overall", then one row per `l2-category` and
  one per `category` (each sorted by name). The headline is "Overall" (`report_primary_metric`:
  `split=none|Overall`).

Paper ("paper" protocol): the Spatial-SSRL authors' VLMEvalKit copy (InternLM/Spatial-SSRL @ b313fedf,
evaluation/Remaining_Bench_eval): `SpatialEval` is the same ImageMCQDataset entry (same URL and md5)
and the same `report_acc`; what differs is the matching of their older `can_infer` (no "last four
words" rule, no "answer is X" rule, no length limit on the option-text rule) and the prompt (their
model wrapper appends the released checkpoints' reasoning sentence directly after the question text;
the run's "spatial-ssrl" template appends the same sentence after "\\n "). Both live in vlmevalkit.py.

Known deviations: a row whose category cell is empty is left out of the category rows (VLMEvalKit
makes a NaN row of it); a reply over rewards.match.MAX_ANSWER_TEXT_CHARS has no option; both are
vlmevalkit.py's (acc_tables, infer_option).
"""

from __future__ import annotations

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import (
    AUTHORS_SOURCE,
    VLMEVALKIT_SOURCE,
    mcq_question,
    mcq_score,
    mcq_summary,
)
from spatial_ssrl.evaluate.items import EvalItem

NAME = "SpatialEval"


def question(item: EvalItem, protocol: str) -> str:
    """ImageMCQDataset.build_prompt's text (both protocols)."""
    return mcq_question(item)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """VLMEvalKit's multiple-choice score under ctx.protocol (vlmevalkit.mcq_score)."""
    return mcq_score(item, response, ctx)


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict:
    """report_acc's report: the headline is the mean over questions (its Overall), then the tables per
    l2-category, category and (when the file has several) split (vlmevalkit.mcq_summary, never circular:
    VLMEvalKit's SpatialEval dataset is vanilla whatever the file is called)."""
    return mcq_summary(items, records, protocol, circular=False)


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=NAME,
        follows=f"{VLMEVALKIT_SOURCE}: vlmeval/dataset/image_mcq.py ImageMCQDataset ('SpatialEval' entry), "
        "utils/multiple_choice.py report_acc, utils/matching_util.py can_infer",
        paper_differences=(
            f"{AUTHORS_SOURCE}: same dataset entry and report_acc; older can_infer (a lone letter anywhere, "
            "no 'answer is X' rule, option-text rule without a length limit) and the reasoning sentence "
            "appended to the prompt"
        ),
        dataset_names=(NAME,),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="choice",
    )
)
