"""ViewSpatial-Bench (`ViewSpatial-Bench.json` of the release): a JSON list of records

    {"question_type": "Camera perspective - Relative Direction",
     "image_path": ["ViewSpatial-Bench/scannetv2_val/scene0011_00/original_images/280.jpg"],
     "question": "Could you tell me the location of the counter in comparison to the refrigerator?",
     "answer": "A. right",
     "choices": "A. right\\nB. front-up\\nC. back-left\\nD. front"}

Field names are the release's; also accepted: `options` for `choices` (a string of lettered lines, a
list, or a dict), `image` / `images` for `image_path` (a string or a list), `category` for
`question_type`, and an `id`. Image paths are looked up under --data-root, the JSON's folder and its
parent, also without their leading folders. Scored as the authors do: the option letter of the
prediction against the letter of `answer` (all records are multiple choice), accuracy over records,
per question type.
"""

from __future__ import annotations

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


def read_viewspatial(path: str | Path, name: str | None = None, data_root: str | Path | None = None) -> Benchmark:
    """The ViewSpatial-Bench records of `path` as a Benchmark (default name "ViewSpatial").

    Args:
        data_root: searched first for the image files, before the JSON's folder and its parent.

    Raises:
        BenchmarkFormatError: a record misses a field, its answer is not one of its options, or an
            image file is not found.
    """
    path = Path(path)
    name = name or "ViewSpatial"
    bases = ([Path(data_root)] if data_root else []) + [path.parent, path.parent.parent]
    items = []
    for n, rec in enumerate(read_records(path), 1):
        rid = str(first_field(rec, ("id", "question_id", "index")) or n - 1)
        where = f"record {n} (id {rid})"
        question = first_field(rec, ("question",))
        answer = first_field(rec, ("answer", "ground_truth"))
        images = first_field(rec, ("image_path", "image", "images", "image_paths"))
        for field, value in (("question", question), ("answer", answer), ("image_path", images)):
            if value in (None, "", []):
                raise fail(path, where, f"field {field!r} is missing")
        options = parse_options_field(first_field(rec, ("choices", "options")), path, where)
        if not options:
            raise fail(path, where, "field 'choices' is missing or empty")
        images = [images] if isinstance(images, str) else list(images)
        items.append(
            EvalItem(
                benchmark=name,
                id=rid,
                question=str(question).strip(),
                answer=answer_letter(str(answer), options, path, where),
                kind="choice",
                images=[str(resolve_file(str(p), bases, path, where)) for p in images],
                options=options,
                category=str(first_field(rec, ("question_type", "category")) or ""),
            )
        )
    return Benchmark(name=name, items=items, source=str(path))
