"""VSI-Bench (Yang et al., 2024) records and videos, in the layouts the benchmark is distributed in.

- The official release (Hugging Face `nyu-visionx/VSI-Bench`: `test-00000-of-00001.parquet`,
  `test.jsonl`, `test_debiased.parquet`, `test_pruned.parquet`, or the same records as a JSON list):
  `id`, `dataset`, `scene_name`, `question_type`, `question`, `options` (a list such as
  `["A. sofa", "B. table"]`, null for numeric questions), `ground_truth` (an option letter, or a number).
  The video is `<dataset>/<scene_name>.mp4` (or a `video` / `video_path` field).
- The Spatial-SSRL authors' `vsi_bench.json` (InternLM/Spatial-SSRL, evaluation/VSI-bench_eval/VSIBench):
  a JSON list of `mp4_path` (an absolute path on the authors' machines), `question_type`, `question`,
  `answer`, and the options as columns `A`..`D` (`"A. front-left"`, null when absent). It has no ids:
  an item's id is its position in the file (0, 1, ...).

Videos are looked up under --data-root, the file's folder and its parent, also by the trailing parts of
their path (`arkitscenes/41069025.mp4` of the authors' absolute `mp4_path`).

What is scored how (the official rules and the authors') is `evaluate/benchmarks/vsibench.py`; this
module only reads. Multiple-choice and numeric questions are told apart by their question type, as the
official code does (`MCA_TYPES`, `NA_TYPES`); a record of another type is multiple choice when it has
options. A numeric ground truth must be a positive finite number (mean relative accuracy divides by it;
the official code fails on a zero).
"""

from __future__ import annotations

import math
from pathlib import Path

from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.readers.common import (
    LETTERS,
    answer_letter,
    fail,
    first_field,
    parse_options_field,
    read_records,
    resolve_file,
)

RULES = "VSI-Bench"  # the benchmark module (evaluate/benchmarks/vsibench.py) that scores these items
DEFAULT_FRAMES = 32  # frames per video when neither --frames nor a protocol sets them (the official count)

# The question types of the official code (thinking-in-space lmms_eval/tasks/vsibench/utils.py).
MCA_TYPES = (
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "object_rel_distance",
    "route_planning",
    "obj_appearance_order",
)
NA_TYPES = ("object_abs_distance", "object_counting", "object_size_estimation", "room_size_estimation")

# The unit a numeric question asks in (informational: the official scorer takes the number as given).
UNITS = {"object_abs_distance": "m", "object_size_estimation": "cm", "room_size_estimation": "m2"}

AUTHOR_OPTION_COLUMNS = tuple("ABCD")  # the authors' vsi_bench.json writes the options as columns A..D

# File stems of the full benchmark; any other file gets its stem in the name (a subset never shares a cache).
_FULL_SET_STEMS = {"test", "test-00000-of-00001", "0000", "vsibench", "vsi_bench", "vsi-bench"}


def category_of(question_type: str) -> str:
    """The official report merges the three relative-direction levels into one type."""
    return "object_rel_direction" if question_type.startswith("object_rel_direction") else question_type


def default_name(path: Path) -> str:
    """The name "VSI-Bench" for the full set (`test.parquet`, the authors' `vsi_bench.json`, ...); otherwise
    "VSI-Bench-<subset>" (`test_debiased.parquet` -> "VSI-Bench-debiased", `mine.json` -> "VSI-Bench-mine")."""
    stem = path.stem
    if stem.casefold() in _FULL_SET_STEMS:
        return "VSI-Bench"
    if stem.casefold().startswith("test_") and len(stem) > 5:
        stem = stem[5:]
    return f"VSI-Bench-{stem}"


def sniff(path: Path, keys: set[str] | None) -> bool:
    """True for records in one of the layouts above (a bare path given without `vsibench:`)."""
    if not keys:
        return False
    if keys & {"mp4_path", "scene_name", "video", "video_path"}:
        return True
    return {"ground_truth", "question_type"} <= keys


def _records(path: Path) -> list:
    try:
        return read_records(path)
    except BenchmarkFormatError:
        raise
    except (OSError, ValueError) as err:  # an unreadable parquet (ArrowInvalid), bytes that are not UTF-8
        raise BenchmarkFormatError(f"{path}: not a readable VSI-Bench file ({type(err).__name__}: {err})") from None


def _option_lines(rec: dict, path: Path, where: str) -> tuple[list[str], str]:
    """The option strings as the record gives them (shown verbatim by both prompts) and the field they are in."""
    if "options" in rec:
        value = rec["options"]
        if value is None or value == "":
            return [], "options"
        if isinstance(value, str):
            return [line for line in value.splitlines() if line.strip()], "options"
        if isinstance(value, dict):
            return [f"{k}. {v}" for k, v in value.items()], "options"
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value], "options"
        raise fail(path, where, f"field 'options' of type {type(value).__name__} is not a list of options")
    lines = []
    for column in AUTHOR_OPTION_COLUMNS:  # the authors' script stops at the first empty column
        value = rec.get(column)
        if value is None:
            break
        lines.append(str(value))
    return lines, "A..D"


def _video(rec: dict, bases: list[Path], path: Path, where: str) -> str:
    field = next((f for f in ("video", "video_path", "mp4_path") if rec.get(f)), None)
    if field is not None:
        video = str(rec[field])
    elif rec.get("dataset") and rec.get("scene_name"):
        field, video = "dataset/scene_name", f"{rec['dataset']}/{rec['scene_name']}.mp4"
    else:
        raise fail(path, where, "no video: give 'video', 'mp4_path' or 'dataset' + 'scene_name'")
    try:
        return str(resolve_file(video, bases, path, where, what="video"))
    except BenchmarkFormatError as err:
        raise BenchmarkFormatError(f"{err} (field {field!r})") from None


def read_vsibench(
    path: str | Path,
    name: str | None = None,
    data_root: str | Path | None = None,
    num_frames: int | None = None,
    seed: int = 0,
) -> Benchmark:
    """The VSI-Bench records of `path` as a Benchmark scored by the VSI-Bench module (macro over types).

    Args:
        name: the benchmark's name (default: `default_name(path)`, unique per file).
        data_root: searched first for the videos, before the records' folder and its parent.
        num_frames: frames sampled from each video; None leaves the count to the protocol (the module's
            `prepare`: 32 official, 128 paper), a number is kept whatever the protocol.
        seed: unused (the reader is deterministic); accepted as every module's reader does.

    Raises:
        BenchmarkFormatError: the file is unreadable, or a record misses its question, answer or video,
            its answer is not one of its options (or, for a numeric question, not a positive number), or
            the video file is not found. The message names the file, the record and the field.
    """
    path = Path(path)
    name = name or default_name(path)
    bases = ([Path(data_root)] if data_root else []) + [path.parent, path.parent.parent]
    frames_given = num_frames is not None
    frames = int(num_frames) if frames_given else DEFAULT_FRAMES
    items = []
    for n, rec in enumerate(_records(path), 1):
        if not isinstance(rec, dict):
            raise fail(path, f"record {n}", f"expected an object with the record's fields, got {type(rec).__name__}")
        rid = first_field(rec, ("id", "question_id", "index"))
        rid = str(n - 1) if rid is None else str(rid)
        where = f"record {n} (id {rid})"
        question = rec.get("question")
        truth_field = "ground_truth" if rec.get("ground_truth") is not None else "answer"
        truth = rec.get(truth_field)
        qtype = first_field(rec, ("question_type", "category"))
        qtype = "" if qtype is None else str(qtype).strip()
        if not isinstance(question, str) or not question.strip():
            raise fail(path, where, "field 'question' is missing or not text")
        if truth is None or str(truth).strip() == "":
            raise fail(path, where, "field 'ground_truth' (or 'answer') is missing")
        truth = str(truth).strip()
        lines, options_field = _option_lines(rec, path, where)
        is_choice = qtype in MCA_TYPES or (qtype not in NA_TYPES and bool(lines))
        extra: dict = {"question_type": qtype, "frames_given": frames_given}
        for key in ("dataset", "scene_name"):
            if rec.get(key) is not None:
                extra[key] = str(rec[key])
        if is_choice:
            if len(lines) > len(LETTERS):
                raise fail(path, where, f"field {options_field!r}: {len(lines)} options, at most {len(LETTERS)}")
            options = parse_options_field(lines, path, where)
            if not options:
                raise fail(path, where, f"question type {qtype!r} is multiple choice but field 'options' is empty")
            try:
                answer = answer_letter(truth, options, path, where)
            except BenchmarkFormatError as err:
                raise BenchmarkFormatError(f"{err} (field {truth_field!r})") from None
            kind = "choice"
            extra["option_lines"] = lines
        else:
            options = {}
            try:
                value = float(truth)
            except ValueError:
                raise fail(
                    path, where, f"field {truth_field!r}: {truth!r} of a numeric question is not a number"
                ) from None
            if not math.isfinite(value) or value <= 0:
                raise fail(
                    path,
                    where,
                    f"field {truth_field!r}: {truth!r} is not a positive finite number "
                    "(mean relative accuracy divides by the ground truth)",
                )
            kind, answer = "number", truth
            extra.update(metric="mra", unit=UNITS.get(qtype))
        items.append(
            EvalItem(
                benchmark=name,
                id=rid,
                question=question,  # as given: both prompts show it verbatim
                answer=answer,
                kind=kind,
                options=options,
                category=category_of(qtype),
                subcategory=qtype,
                video=_video(rec, bases, path, where),
                num_frames=frames,
                extra=extra,
            )
        )
    return Benchmark(name=name, items=items, aggregate="macro", source=str(path), rules=RULES)
