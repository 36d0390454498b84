"""BLINK (and BLINK_circular), scored as VLMEvalKit scores it without a judge.

Official: open-compass/VLMEvalKit @ e8e78f05 (2026-08-18). BLINK is an ImageMCQDataset with no
evaluation of its own: the rules are `vlmevalkit.py`'s (prompt `ImageMCQDataset.build_prompt`, matching
`can_infer` on the whole reply, report_acc: Overall + per category, i.e. per BLINK subtask).
- Multi-image: most BLINK rows have several images, stored in the TSV's `image` column as a list (a
  Python literal as pandas writes it, or JSON); all of them come before the text, in order
  (`readers/vlmevalkit_tsv.py`).
- The judge prompt (only with --judge-url) is `build_prompt_blink` for the dataset named exactly "BLINK";
  BLINK_circular uses the default prompt, as VLMEvalKit's `dataset_name == 'BLINK'` test does.
- BLINK_circular (a name containing "circular") is scored with CircularEval as MMBench is.
No official difference from MMBench's rules otherwise.

Paper ("paper" protocol): the authors' copy (InternLM/Spatial-SSRL @ b313fedf) — same prompt plus its
reasoning instruction (`vlmevalkit.AUTHORS_REASONING_PROMPT`), VLMEvalKit's matching as before 2025-08-04,
ChatGPT-0125 judge when an OpenAI key is set.

Deviations: see `vlmevalkit.py`.
"""

from __future__ import annotations

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import (
    AUTHORS_SOURCE,
    VLMEVALKIT_SOURCE,
    is_circular,
    mcq_question,
    mcq_score,
    mcq_summary,
)
from spatial_ssrl.evaluate.items import EvalItem

RULES = "BLINK"


def question(item: EvalItem, protocol: str) -> str:
    """ImageMCQDataset.build_prompt's text (the same in the authors' copy)."""
    return mcq_question(item)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """VLMEvalKit's multiple-choice score; the judge, if any, gets BLINK's own prompt (not for BLINK_circular)."""
    return mcq_score(item, response, ctx, dataset=None if is_circular(item.benchmark) else "BLINK")


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict:
    """report_acc: accuracy overall and per subtask (category); CircularEval for BLINK_circular."""
    return mcq_summary(items, records, protocol)


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=RULES,
        follows=(
            f"{VLMEVALKIT_SOURCE}: vlmeval/dataset/image_mcq.py ImageMCQDataset (BLINK, BLINK_circular), "
            "multiple_choice.py mcq_vanilla_eval / mcq_circular_eval + report_acc, matching_util.py can_infer"
        ),
        paper_differences=(
            f"{AUTHORS_SOURCE}: reasoning instruction appended to the prompt; VLMEvalKit's older can_infer (a lone "
            "letter anywhere counts, no length cap, no 'answer is X' rule); ChatGPT-0125 judge when an OpenAI key "
            "is set"
        ),
        dataset_names=("BLINK", "BLINK_circular"),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="choice",
    )
)
