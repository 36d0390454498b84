"""CV-Bench (Cambrian-1, Tong et al. 2024): 2D (ADE20K, COCO) and 3D (Omni3D) vision-centric questions.

Official ("official" protocol), followed for its rules (no code copied):
- open-compass/VLMEvalKit @ e8e78f05 (2026-08-18), vlmeval/dataset/image_mcq.py `CVBench` (datasets
  `CV-Bench-2D` and `CV-Bench-3D`, two TSVs with the columns `prompt`, `split` ("2D"/"3D") and
  `source` besides the usual ones):
  - Prompt: the row's own `prompt` column and nothing else (CVBench.build_prompt: no hint, no option
    lines, no answer instruction; the release's prompt already lists the choices, "(A) ...").
  - Matching: `mcq_vanilla_eval`, i.e. exact matching (`can_infer` over the option columns), with the
    LLM judge only when one is configured: vlmevalkit.py `mcq_score`.
  - 2D (`report_accuracy`, "CV-Bench-2D evaluation strategy"): the accuracy of each source, then
    Overall = the mean of the source accuracies (ADE20K and COCO), not the mean over questions.
  - 3D: `report_acc` (the plain accuracy, all rows being Omni3D, plus one row per category).
- The release's own evaluation (nyu-visionx/CV-Bench dataset card, "the original formula" as lmms-eval
  EvolvingLMMs-Lab/lmms-eval @ 75571cfe lmms_eval/tasks/cv_bench/utils.py reproduces it): accuracy per
  source, 2D = (ADE20K + COCO) / 2, 3D = Omni3D, CV-Bench = (2D + 3D) / 2.
This module scores a file holding one split as VLMEvalKit reports that dataset (2D: mean over sources;
3D: plain accuracy) and a file holding both (the release's test.parquet / test.jsonl) by the release's
formula, whose halves are exactly VLMEvalKit's two Overalls. Example (in the tests): on CV-Bench-2D
with ADE20K 1/1 right and COCO 0/4 right the score is (1 + 0) / 2 = 0.50, where the mean over
questions is 0.20.

Paper ("paper" protocol): the Spatial-SSRL authors did not report CV-Bench. Their VLMEvalKit copy
(InternLM/Spatial-SSRL @ b313fedf, evaluation/Remaining_Bench_eval) has the same `CVBench` class
(same prompt, same aggregation); under "paper" only the shared rules of that copy apply (vlmevalkit.py:
their older `can_infer`; their model wrapper's reasoning sentence after the prompt, which the run's
template adds here).

Layouts:
- VLMEvalKit's TSVs (`tsv:CV-Bench-2D.tsv`): read by the project's TSV reader, which keeps the
  `prompt`, `split` and `source` cells (`threedsr.tsv_value`).
- The release (`cvbench:test.parquet`, `test_2d.parquet`, `test_3d.parquet`, or the `.jsonl` twins
  with the `img/` folder): records with `idx`, `type` ("2D"/"3D"), `task`, `image` (parquet: the
  encoded image) or `filename` (jsonl: a path such as img/2D/count/ade20k_10.png, looked up under
  --data-root and the file's folder), `question`, `choices` (a list of option texts, lettered A, B, ...
  in order), `answer` ("(A)"), `prompt`, `source`. Default name: "CV-Bench-<file stem>".

Known deviations: a file mixing 2D and 3D rows is reported with the release's formula (VLMEvalKit
reports such a file with `report_acc`, a plain mean per split; no official VLMEvalKit TSV mixes them);
a row whose source is empty is left out of the per-source means (VLMEvalKit: a NaN source).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
from spatial_ssrl.evaluate.benchmarks.base import BenchmarkRules, ItemScore, ScoringContext, register_benchmark
from spatial_ssrl.evaluate.benchmarks.threedsr import tsv_value
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import (
    AUTHORS_SOURCE,
    VLMEVALKIT_SOURCE,
    mcq_question,
    mcq_score,
    mcq_summary,
)
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.readers.common import (
    answer_letter,
    check_image_bytes,
    fail,
    parse_options_field,
    read_records,
    resolve_file,
)
from spatial_ssrl.evaluate.summary import mean

NAME = "CV-Bench"
SPLITS = ("2D", "3D")
SOURCE_SPLIT = {"ADE20K": "2D", "COCO": "2D", "Omni3D": "3D"}  # the release's sources
RELEASE_FIELDS = ("prompt", "choices", "answer", "source", "type")  # required in a release record


def question(item: EvalItem, protocol: str) -> str:
    """CVBench.build_prompt: the row's `prompt` (ImageMCQDataset's prompt for a row without one)."""
    prompt = tsv_value(item, "prompt")
    return prompt if prompt is not None else mcq_question(item)


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """VLMEvalKit's multiple-choice score under ctx.protocol (vlmevalkit.mcq_score)."""
    return mcq_score(item, response, ctx)


def item_split(item: EvalItem) -> str | None:
    """ "2D" or "3D": the row's split (TSV) or type (release), else its source's."""
    split = (tsv_value(item, "split") or "").strip().upper()
    return split if split in SPLITS else SOURCE_SPLIT.get(tsv_value(item, "source") or "")


def cvbench_scores(items: list[EvalItem], records: list[dict]) -> dict[str, Any]:
    """{"sources": {source: {"n", "score"}}, "2D", "3D", "Overall": {"n", "score"}} over the scored rows.

    2D = the mean of the 2D sources' accuracies; 3D = the plain accuracy of the 3D rows; Overall =
    (2D + 3D) / 2 when the file has both, else the one it has."""
    by_source: dict[tuple[str, str], list[float]] = defaultdict(list)
    by_split: dict[str, list[float]] = defaultdict(list)
    for it, r in zip(items, records):
        split = item_split(it)
        if r.get("score") is None or split is None:
            continue
        by_split[split].append(float(r["score"]))
        source = tsv_value(it, "source")
        if source:
            by_source[(split, str(source))].append(float(r["score"]))
    sources = {src: {"n": len(v), "score": mean(v)} for (_, src), v in sorted(by_source.items())}
    halves: dict[str, dict[str, Any]] = {}
    if by_split.get("2D"):
        per_source = [mean(v) for (split, _), v in by_source.items() if split == "2D"]
        value = mean(per_source) if per_source else mean(by_split["2D"])
        halves["2D"] = {"n": len(by_split["2D"]), "score": value}
    if by_split.get("3D"):
        halves["3D"] = {"n": len(by_split["3D"]), "score": mean(by_split["3D"])}
    overall = None
    if halves:
        overall = {"n": sum(h["n"] for h in halves.values()), "score": mean([h["score"] for h in halves.values()])}
    return {"sources": sources, **halves, "Overall": overall}


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict[str, Any]:
    """Per source, 2D, 3D and Overall as above; by task (category) as report_acc gives it."""
    out = mcq_summary(items, records, protocol, circular=False)  # report_acc's tables (by task, split)
    scores = cvbench_scores(items, records)
    table = {k: scores[k] for k in ("2D", "3D") if k in scores}
    if scores["Overall"] is not None:
        table["Overall"] = scores["Overall"]
        out["score"] = scores["Overall"]["score"]
    out["breakdowns"] = {
        "CV-Bench (2D = mean over sources, 3D, overall)": table,
        "by source": scores["sources"],
        **out["breakdowns"],
    }
    halves = [k for k in SPLITS if k in table]
    if halves == ["2D", "3D"]:
        out["headline"] = "(2D + 3D) / 2, 2D = mean of the ADE20K and COCO accuracies, 3D = Omni3D accuracy"
    elif halves == ["2D"]:
        out["headline"] = "CV-Bench-2D: mean of the per-source accuracies (ADE20K, COCO)"
    elif halves == ["3D"]:
        out["headline"] = "CV-Bench-3D: accuracy (Omni3D)"
    else:
        out["headline"] = "accuracy (no split or source column: the mean over questions)"
    return out


# ---------------------------------------------------------------- the release's layout


def default_name(path: Path) -> str:
    """ "CV-Bench-<file stem>": unique per file (test, test_2d, test_3d)."""
    return f"{NAME}-{path.stem}"


def _image(record: dict, path: Path, where: str, bases: list[Path]):
    image = record.get("image")
    if isinstance(image, dict):
        image = image.get("bytes") or image.get("path")
    if isinstance(image, (bytes, bytearray)):
        check_image_bytes(bytes(image), path, where, "image")
        return bytes(image)
    rel = image if isinstance(image, str) and image.strip() else record.get("filename")
    if not isinstance(rel, str) or not rel.strip():
        raise fail(path, where, "no image: field 'image' holds no image and field 'filename' is empty")
    return str(resolve_file(rel.strip(), bases, path, where))


def _record_item(record: Any, n: int, path: Path, name: str, bases: list[Path]) -> EvalItem:
    idx = record.get("idx", n - 1) if isinstance(record, dict) else n - 1
    where = f"record {n} (idx {idx})"
    if not isinstance(record, dict):
        raise fail(path, where, f"a record must be an object, not {type(record).__name__}")
    for field in RELEASE_FIELDS:
        if record.get(field) is None or record.get(field) == "":
            raise fail(path, where, f"field {field!r} is missing or empty")
    for field in ("prompt", "answer", "source", "type"):
        if not isinstance(record[field], str):
            raise fail(path, where, f"field {field!r} must be a string, not {type(record[field]).__name__}")
    choices = record["choices"]
    if hasattr(choices, "tolist"):
        choices = choices.tolist()
    if not isinstance(choices, (list, tuple, str)):
        raise fail(path, where, f"field 'choices' must be a list of option texts, not {type(choices).__name__}")
    options = parse_options_field(choices, path, where)
    if not options:
        raise fail(path, where, "field 'choices' has no options")
    if record["type"].strip().upper() not in SPLITS:
        raise fail(path, where, f"field 'type' must be 2D or 3D, not {record['type']!r}")
    question_text = record.get("question")
    return EvalItem(
        benchmark=name,
        id=str(idx),
        question=question_text.strip() if isinstance(question_text, str) else record["prompt"].strip(),
        answer=answer_letter(record["answer"], options, path, where),
        kind="choice",
        images=[_image(record, path, where, bases)],
        options=options,
        category=str(record.get("task") or ""),
        extra={"prompt": record["prompt"], "split": record["type"].strip().upper(), "source": record["source"]},
    )


def read(path, *, name: str | None = None, data_root=None, num_frames: int = 16, seed: int = 0) -> Benchmark:
    """The release's records (`test*.parquet` / `test*.jsonl`) as a Benchmark; frames and seed do not apply.

    Raises:
        BenchmarkFormatError: the file is not readable as records, or a record misses a field, has one of
            the wrong type, an answer that is not one of its choices, or an image that is not found or not
            an image (the message names the file, the record and the field).
    """
    path = Path(path)
    name = name or default_name(path)
    try:
        records = read_records(path)
    except BenchmarkFormatError:
        raise
    except UnicodeDecodeError as err:
        raise BenchmarkFormatError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (OSError, ValueError, NotImplementedError) as err:  # pyarrow: ArrowInvalid, ArrowIOError, ...
        raise BenchmarkFormatError(f"{path}: not readable as {path.suffix or 'records'} ({err})") from None
    bases = [Path(data_root)] if data_root else []
    bases += [path.parent, path.parent.parent]
    items = [_record_item(rec, n, path, name, bases) for n, rec in enumerate(records, 1)]
    return Benchmark(name=name, items=items, source=str(path), rules=NAME)


def sniff(path, keys: set[str] | None) -> bool:
    """A bare path is the release's layout when its records have the release's fields (prompt, choices,
    answer, source, type and task)."""
    return bool(keys and {"prompt", "choices", "answer", "source", "type", "task"} <= keys)


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt=RELEASED_REASONING_SENTENCE,  # their VLMEvalKit copy appends it directly (vlm/base.py)
        name=NAME,
        follows=f"{VLMEVALKIT_SOURCE}: vlmeval/dataset/image_mcq.py CVBench (build_prompt, evaluate, "
        "report_accuracy); the release's formula (nyu-visionx/CV-Bench card; lmms-eval cv_bench 'original formula')",
        paper_differences=(
            f"not reported by the authors; {AUTHORS_SOURCE} has the same CVBench class, so only its older "
            "can_infer differs (a lone letter anywhere, no 'answer is X' rule, no length limit on the text rule)"
        ),
        dataset_names=(NAME, "CVBench", "CV_Bench"),
        question=question,
        score=score,
        summarize=summarize,
        answer_style="choice",
        spec_kinds=("cvbench",),
        read=read,
        sniff=sniff,
    )
)
