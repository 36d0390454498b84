"""RealWorldQA, scored as VLMEvalKit scores it without a judge.

Official: open-compass/VLMEvalKit @ e8e78f05 (2026-08-18). RealWorldQA is an ImageMCQDataset with no
evaluation of its own: the rules are `vlmevalkit.py`'s (prompt `ImageMCQDataset.build_prompt`, matching
`can_infer` on the whole reply, report_acc: Overall, plus per category when the TSV has one). A row
without options is never credited by VLMEvalKit (no option can be read); VLMEvalKit's RealWorldQA.tsv
gives options on every row.

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
    mcq_question,
    mcq_score,
    mcq_summary,
)
from spatial_ssrl.evaluate.items import EvalItem

RULES = "RealWorldQA"


def question(item: EvalItem, protocol: str) -> str:
    """ImageMCQDataset.build_prompt's text (the same in the authors' copy)."""
    return mcq_question(item)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """VLMEvalKit's multiple-choice score."""
    return mcq_score(item, response, ctx)


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict:
    """report_acc: accuracy overall (and per category when the file has categories)."""
    return mcq_summary(items, records, protocol, circular=False)


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=RULES,
        follows=(
            f"{VLMEVALKIT_SOURCE}: vlmeval/dataset/image_mcq.py ImageMCQDataset (RealWorldQA), "
            "multiple_choice.py mcq_vanilla_eval + report_acc, matching_util.py can_infer"
        ),
        paper_differences=(
            f"{AUTHORS_SOURCE}: reasoning instruction appended to the prompt; VLMEvalKit's older can_infer (a lone "
            "letter anywhere counts, no length cap, no 'answer is X' rule); ChatGPT-0125 judge when an OpenAI key "
            "is set"
        ),
        dataset_names=("RealWorldQA",),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="choice",
    )
)
