"""VSI-Bench (Yang et al., 2024): questions about indoor-scene videos.

Records (a JSON list, JSON Lines, or the release's parquet) with `question`, `options` (a list such as
`["A. sofa", "B. table"]`, empty or null for numeric questions), `ground_truth` (an option letter, or a
number), `question_type`, an `id`, and the video: `video` / `video_path`, else the release's
`<dataset>/<scene_name>.mp4`, looked up under --data-root, the file's folder and its parent.

Scoring as the authors define it: multiple-choice types by the option letter; numeric types
(object_counting, object_abs_distance, object_size_estimation, room_size_estimation) by mean relative
accuracy, MRA = mean over θ in {0.50, 0.55, ..., 0.95} of 1[|pred - gt| / gt <= 1 - θ] (the `<=` of
the official code). The overall score is the mean over question types, after the three
object_rel_direction difficulty levels are averaged into one (also the official rule).
"""

from __future__ import annotations

import math
from pathlib import Path

from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.readers.common import (
    answer_letter,
    fail,
    first_field,
    parse_options_field,
    read_records,
    resolve_file,
)

# The unit a numeric answer is in, so that a prediction like "120 cm" can be converted (None: no length).
UNITS = {"object_abs_distance": "m", "object_size_estimation": "cm"}


def category_of(question_type: str) -> str:
    """The official report merges the three relative-direction levels into one type."""
    return "object_rel_direction" if question_type.startswith("object_rel_direction") else question_type


def read_vsibench(
    path: str | Path, name: str | None = None, data_root: str | Path | None = None, num_frames: int = 16
) -> Benchmark:
    """The VSI-Bench records of `path` as a Benchmark (default name "VSI-Bench"), scored per type (macro).

    Args:
        data_root: searched first for the videos, before the records' folder and its parent.
        num_frames: frames sampled from each video.

    Raises:
        BenchmarkFormatError: a record misses its question, answer or video, its answer is not one of
            its options (or, without options, not a finite number), or the video file is not found.
    """
    path = Path(path)
    name = name or "VSI-Bench"
    bases = ([Path(data_root)] if data_root else []) + [path.parent, path.parent.parent]
    items = []
    for n, rec in enumerate(read_records(path), 1):
        rid = str(first_field(rec, ("id", "question_id", "index")) or n - 1)
        where = f"record {n} (id {rid})"
        question, truth = rec.get("question"), first_field(rec, ("ground_truth", "answer"))
        qtype = str(first_field(rec, ("question_type", "category")) or "")
        if not question:
            raise fail(path, where, "field 'question' is missing")
        if truth in (None, ""):
            raise fail(path, where, "field 'ground_truth' is missing")
        video = first_field(rec, ("video", "video_path"))
        if not video:
            if not rec.get("dataset") or not rec.get("scene_name"):
                raise fail(path, where, "no video: give 'video' or 'dataset' + 'scene_name'")
            video = f"{rec['dataset']}/{rec['scene_name']}.mp4"
        options = parse_options_field(rec.get("options"), path, where)
        extra: dict = {}
        if options:
            kind, answer = "choice", answer_letter(str(truth), options, path, where)
        else:
            try:
                value = float(str(truth).strip())
            except ValueError:
                raise fail(
                    path, where, f"ground_truth {truth!r} of a question without options is not a number"
                ) from None
            if not math.isfinite(value):
                raise fail(path, where, f"ground_truth {truth!r} is not finite")
            kind, answer = "number", str(truth).strip()
            extra = {"metric": "mra", "unit": UNITS.get(qtype)}
        items.append(
            EvalItem(
                benchmark=name,
                id=rid,
                question=str(question).strip(),
                answer=answer,
                kind=kind,
                options=options,
                category=category_of(qtype),
                subcategory=qtype,
                video=str(resolve_file(str(video), bases, path, where, what="video")),
                num_frames=num_frames,
                extra=extra,
            )
        )
    return Benchmark(name=name, items=items, aggregate="macro", source=str(path))
