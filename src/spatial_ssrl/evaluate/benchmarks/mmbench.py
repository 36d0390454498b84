"""MMBench (DEV/TEST, EN/CN, v1.0/v1.1), scored as VLMEvalKit scores it without a judge.

Official: open-compass/VLMEvalKit @ e8e78f05 (2026-08-18), vlmeval/dataset/image_mcq.py
(`ImageMCQDataset.build_prompt`, `evaluate_heuristic`) and vlmeval/dataset/utils/multiple_choice.py
(`mcq_circular_eval`, `prefetch_circular_group`, `report_acc`); the shared rules are in `vlmevalkit.py`.
- Prompt: `Hint: ...` (when the row has one), `Question: ...`, `Options:` with one `X. text` line per
  option, then "Please select the correct answer from the options above. " (`vlmevalkit.mcq_question`).
- Answer: `can_infer` on the whole reply (`vlmevalkit.infer_option`); the judge only with --judge-url.
- CircularEval (every name containing "mmbench" is circular in VLMEvalKit): MMBench's TSVs hold each
  question once per rotation of its options, the copies at index + k * 1e6 (or a `g_index` column). A
  question is right only when every copy is (`vlmevalkit.circular_table`); the headline is the mean
  over questions, and report_acc's tables (per l2-category, per category, names abbreviated as
  MMB_abbrs) are over questions, keyed by the copy whose index equals its group. The vanilla
  accuracies VLMEvalKit prints with PRINT_VANILLA=1 (main rows only; every copy) are breakdowns.
- TEST files (MMBench_TEST_EN[_V11], MMBench_TEST_CN[_V11]) have no answers: their items are asked but not
  scored (score None), and `write_submission` writes the prediction file VLMEvalKit produces for the
  MMBench server (the TSV's columns but the image, plus `prediction`). VLMEvalKit writes it as .xlsx by
  default; openpyxl is not a dependency here, so it is written as the .tsv VLMEvalKit writes with
  PRED_FORMAT=tsv (convert with any spreadsheet tool if the server asks for .xlsx).

Paper ("paper" protocol): the authors' copy (InternLM/Spatial-SSRL @ b313fedf,
evaluation/Remaining_Bench_eval) builds the same prompt and appends its reasoning instruction
(`vlmevalkit.AUTHORS_REASONING_PROMPT`, chosen by the run's prompt template), reads the reply with
VLMEvalKit's matching as it was before 2025-08-04 (a lone option letter anywhere counts; no length
cap on option-text matching; no "answer is X" rule), and its run.py asks ChatGPT-0125 as judge when an
OpenAI key is set. The split the paper reports, MMBench_TEST_EN_V11, is scored by the MMBench server.

Deviations: see `vlmevalkit.py` (bounded reply length, judge calls on every unresolved copy). Indices
must be integers (VLMEvalKit asserts the same); a file without rotated copies is scored with groups of one.
"""

from __future__ import annotations

import csv
from pathlib import Path

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import (
    AUTHORS_SOURCE,
    VLMEVALKIT_SOURCE,
    group_index,
    mcq_question,
    mcq_score,
    mcq_summary,
)
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.readers.common import LETTERS

RULES = "MMBench"
# VLMEvalKit's dataset names (image_mcq.py DATASET_URL); "MMBench" alone also selects any MMBench_* name.
DATASET_NAMES = (
    "MMBench",
    "MMBench_CN",
    "MMBench_V11",
    "MMBench_CN_V11",
    "MMBench_DEV_EN",
    "MMBench_TEST_EN",
    "MMBench_DEV_CN",
    "MMBench_TEST_CN",
    "MMBench_DEV_KO",
    "MMBench_DEV_EN_V11",
    "MMBench_TEST_EN_V11",
    "MMBench_DEV_CN_V11",
    "MMBench_TEST_CN_V11",
)


def question(item: EvalItem, protocol: str) -> str:
    """ImageMCQDataset.build_prompt's text (the same in the authors' copy)."""
    return mcq_question(item)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """One copy's score (CircularEval combines the copies in `summarize`)."""
    return mcq_score(item, response, ctx)


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict:
    """CircularEval headline and report_acc's tables; a TEST file (no answers) has score None."""
    out = mcq_summary(items, records, protocol, circular=True)
    if items and all(it.extra.get("no_answer") for it in items):
        out["headline"] = "no answers in this file (MMBench TEST): predictions only, see the submission file"
    return out


def prepare(bench: Benchmark, protocol: str) -> Benchmark:
    """Check that every index is an integer (CircularEval groups by index % 1e6)."""
    for item in bench.items:
        try:
            group_index(item)
        except ValueError as err:
            raise BenchmarkFormatError(f"{bench.source or bench.name}: {err}") from None
    return bench


def write_submission(
    items: list[EvalItem], records: list[dict], path: str | Path, responses: dict[str, str] | None = None
) -> Path:
    """Write VLMEvalKit's prediction file for the MMBench server: every column of the TSV but `image`
    (in the file's order; index, question, hint, options, category, l2-category, split when the file's
    own columns are unknown), then `prediction` = the model's reply (`responses[id]`), or the option
    read from it (`record["pred"]`) when no responses are given. Tab-separated, as pandas writes it."""
    path = Path(path)
    columns: list[str] = []
    for item in items:
        for c in item.extra.get("row", {}):
            if c not in columns:
                columns.append(c)
    if not columns:
        letters = [c for c in LETTERS if any(c in it.options for it in items)]
        columns = ["index", "question", "hint", *letters, "category", "l2-category", "split"]

    def cells(item: EvalItem, record: dict) -> list[str]:
        row = item.extra.get("row") or {
            "index": item.id,
            "question": item.question,
            "hint": item.hint,
            **item.options,
            "category": item.category,
            "l2-category": item.subcategory,
            "split": item.extra.get("split", ""),
        }
        prediction = (record.get("pred") or "") if responses is None else responses.get(item.id, "")
        return [str(row.get(c, "")) for c in columns] + [prediction]

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow([*columns, "prediction"])
        for item, record in zip(items, records):
            writer.writerow(cells(item, record))
    return path


def submission_files(bench: Benchmark, records: list[dict], responses: dict[str, str], folder: Path) -> list[Path]:
    """MMBench TEST (no answers): the prediction file for the MMBench server, `<name>_submission.tsv`."""
    if not any(item.extra.get("no_answer") for item in bench.items):
        return []
    return [write_submission(bench.items, records, Path(folder) / f"{bench.name}_submission.tsv", responses)]


register_benchmark(
    BenchmarkRules(
        write_files=submission_files,
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=RULES,
        follows=(
            f"{VLMEVALKIT_SOURCE}: vlmeval/dataset/image_mcq.py ImageMCQDataset (build_prompt, evaluate_heuristic "
            "with exact matching), vlmeval/dataset/utils/multiple_choice.py mcq_circular_eval + report_acc, "
            "vlmeval/utils/matching_util.py can_infer; CircularEval headline"
        ),
        paper_differences=(
            f"{AUTHORS_SOURCE}: reasoning instruction appended to the prompt; VLMEvalKit's older can_infer (a lone "
            "letter anywhere counts, no length cap, no 'answer is X' rule); ChatGPT-0125 judge when an OpenAI key "
            "is set; the paper's MMBench_TEST_EN_V11 is scored by the MMBench server"
        ),
        dataset_names=DATASET_NAMES,
        question=question,
        score=score,
        summarize=summarize,
        prepare=prepare,
        answer_style="choice",
    )
)
