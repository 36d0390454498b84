"""ViewSpatial-Bench: multiple-choice questions on camera- and person-perspective spatial relations.

Official ("official" protocol): ZJU-REAL/ViewSpatial-Bench `evaluate.py`, read at commit 2e85a5e4
(2026-03-09; the file last changed in 90a8c34a, 2026-01-08, "Update question formatting to include
choices"). What it does, and what this module does the same way:
- Prompt: `question + choices + "\\nReply only to the corresponding option.\\nAnswer:"`, the record's
  `question` and `choices` strings pasted together with no separator between them (that is what
  evaluate.py concatenates since 90a8c34a: "...the refrigerator?A. right\\nB. front-up...").
- Answer extraction: the LAST LINE of the raw response (`split("\\n")[-1]`, nothing else: not the box,
  not the text after </think>), then the first standalone letter A-D in it, case-insensitive (the regex
  `\\b([A-D])\\b` with IGNORECASE, `\\b` as Python defines it for str: Unicode word characters). The
  reference is the first such letter of the record's `answer` ("A. right" -> A). Correct when they are
  equal. Consequences, each in the conformance tests:
  - option text alone ("right", "\\boxed{right}") has no letter: 0;
  - a hedge is credited by its first letter: "A or B" -> A (1 when the answer is A), "B or A" -> B.
    The official scorer demonstrably credits it, so this protocol does too (the project's own rule
    never credits a hedge);
  - a lowercase letter counts ("a" -> A), and so does the English article "a" when it comes first
    ("a chair is on the left" -> A);
  - a reply whose last line is empty (ends with a newline) has no letter: 0;
  - "\\boxed{B}" on the last line -> B; "A_", "A1", "AB" are words, not letters.
- Score: accuracy over all questions (total_correct / total_questions: a failed generation counts as a
  wrong answer, as a missing prediction does here), and per question_type "correct/total" in the order
  types first appear. Those are the only breakdowns evaluate.py prints.

Paper ("paper" protocol): the Spatial-SSRL authors' copy, InternLM/Spatial-SSRL
`evaluation/ViewSpatial_eval/main.py` run with `--CoT` (their run_cot.sh), read at commit b313fedf
(2026-04-07; the file last changed in 30468d92, 2025-11-03). It differs from official in:
- Prompt: `question + "\\n" + choices`, then "\\nThe final answer should be the option letter from the
  given choices.\\n" and the released checkpoints' format prompt. `question()` returns everything up
  to and including the option-letter sentence; the run's template (default for this protocol:
  "spatial-ssrl") appends the format prompt.
- Answer extraction: the content of the LAST `\\boxed{...}` (regex `\\\\boxed\\{([^}]*)\\}`: up to the
  first "}", so `\\boxed{\\text{B}}` reads "\\text{B"), "" when there is none, then the first standalone
  A-D letter in it, case-insensitive. No box: 0 (whatever the prose says); "\\boxed{A or B}" -> A.
- Same overall accuracy and per-question-type breakdown.

Known deviations (both protocols):
- The scripts resize images for Qwen2.5-VL to 420x280 (`resized_width/height`) and cap generation at
  128 new tokens (official) or 4096 (paper, greedy); here images go to the backend as stored and the
  run's --max-pixels / --max-new-tokens apply. These change what the model generates, not how it is scored.
- Paper: the authors' format prompt follows "choices." after "\\n"; the "spatial-ssrl" template adds it
  after "\\n " (a newline and a space, as the authors' demo.py and training data have it).
- The authors' non-CoT branch (first letter anywhere in the reply, official prompt) is not a protocol
  here: "paper" is their `--CoT` run, the one their ViewSpatial numbers come from.
- Malformed records are refused with a BenchmarkFormatError; the scripts skip a record whose fields
  are missing (KeyError before it is counted) and print the error.
- Records of other layouts (`viewspatial:` aliases) whose answer is option text are scored against the
  letter the reader resolved; evaluate.py would find no letter in such a reference.

Parsing is linear in the response: one regex scan with no nested quantifiers for the letter, and
`str.find` scans for the last box.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks._text import last_brace_group
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.readers.viewspatial import RULES, read_viewspatial
from spatial_ssrl.evaluate.summary import summarize as generic_summary
from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.score import format_from_parsed

OFFICIAL_INSTRUCTION = "\nReply only to the corresponding option.\nAnswer:"  # evaluate.py's prompt_format
PAPER_INSTRUCTION = "\nThe final answer should be the option letter from the given choices."  # main.py --CoT
_LETTER = re.compile(r"\b([A-D])\b", re.IGNORECASE)  # evaluate.py's extract_option: the first standalone A-D


def option_letter(text: str | None) -> str | None:
    """The first standalone letter A-D of `text`, upper-cased (any case matches), or None."""
    m = _LETTER.search(text) if text else None
    return m.group(1).upper() if m else None


def last_line(text: str) -> str:
    """What evaluate.py reads: the text after the last newline ("" when the reply ends with one)."""
    return text.rpartition("\n")[2]


def official_letter(response: str) -> str | None:
    """evaluate.py: the first A-D letter on the response's last line."""
    return option_letter(last_line(response))


def paper_letter(response: str) -> str | None:
    """The authors' main.py --CoT: the first A-D letter in the last `\\boxed{}` (None without a box)."""
    return option_letter(last_brace_group(response, "\\boxed{") or "")


def _choices_text(item: EvalItem) -> str:
    return item.extra.get("choices_text") or "\n".join(f"{k}. {v}" for k, v in item.options.items())


def question(item: EvalItem, protocol: str) -> str:
    """The question as each script builds it (without the paper's format prompt, which the template adds)."""
    text = item.extra.get("question_raw", item.question)
    if protocol == "paper":
        return f"{text}\n{_choices_text(item)}{PAPER_INSTRUCTION}"
    return f"{text}{_choices_text(item)}{OFFICIAL_INSTRUCTION}"


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """1 when the letter the protocol's script extracts is the answer's letter, else 0."""
    response = response if isinstance(response, str) else ""
    letter = paper_letter(response) if ctx.protocol == "paper" else official_letter(response)
    fmt = format_from_parsed(parse_response(response))
    return {"score": float(letter is not None and letter == item.answer), "format": fmt, "pred": letter}


def question_type_table(records: list[dict]) -> dict[str, dict[str, Any]]:
    """{question_type: {"n", "score"}} in the order types first appear, as evaluate.py prints its
    "type: correct/total" lines (correct = score * n)."""
    counts: dict[str, list[float]] = {}
    for r in records:
        counts.setdefault(r["category"], []).append(r["score"] or 0.0)
    return {qtype: {"n": len(v), "score": sum(v) / len(v)} for qtype, v in counts.items()}


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict[str, Any]:
    """Overall accuracy (total_correct / total_questions) and the per-question-type table."""
    out = generic_summary(records)
    out["breakdowns"] = {"question type": question_type_table(records)}
    out["headline"] = (
        "accuracy over all questions, letter read from the last \\boxed{} (authors' main.py --CoT)"
        if protocol == "paper"
        else "accuracy over all questions, first A-D letter of the reply's last line (evaluate.py)"
    )
    return out


def read(path, *, name=None, data_root=None, num_frames: int = 16, seed: int = 0) -> Benchmark:
    """The `viewspatial:` loader (`readers.viewspatial.read_viewspatial`); frames and seed do not apply."""
    return read_viewspatial(path, name=name, data_root=data_root)


def sniff(path, keys: set[str] | None) -> bool:
    """A bare path is the release's layout when its records have all five of the release's fields."""
    return Path(path).suffix.lower() in (".json", ".jsonl") and bool(
        keys and {"question", "answer", "choices", "image_path", "question_type"} <= keys
    )


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt="\n" + RELEASED_REASONING_SENTENCE,  # main.py --CoT: prompt_format
        name=RULES,
        follows="ZJU-REAL/ViewSpatial-Bench evaluate.py @ 2e85a5e4 (file last changed 90a8c34a, 2026-01-08)",
        paper_differences=(
            "InternLM/Spatial-SSRL evaluation/ViewSpatial_eval/main.py --CoT @ b313fedf: question + '\\n' + "
            "choices + option-letter sentence + format prompt; letter read from the last \\boxed{} (no box: 0) "
            "instead of the reply's last line"
        ),
        dataset_names=("ViewSpatial", "ViewSpatial_Bench"),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="choice",
        spec_kinds=("viewspatial",),
        read=read,
        sniff=sniff,
    )
)
