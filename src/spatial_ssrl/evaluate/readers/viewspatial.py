"""ViewSpatial-Bench (`eval/ViewSpatial-Bench.json` of ZJU-REAL/ViewSpatial-Bench): a JSON list of records

    {"question_type": "Camera perspective - Relative Direction",
     "image_path": ["ViewSpatial-Bench/scannetv2_val/scene0011_00/original_images/280.jpg"],
     "question": "Could you tell me the location of the counter in comparison to the refrigerator?",
     "answer": "A. right",
     "choices": "A. right\\nB. front-up\\nC. back-left\\nD. front"}

These five fields are the release's (5,712 records: 1 to 32 images each, 2 or 4 options). Also accepted
(with the `viewspatial:` prefix): `options` for `choices` (a string of lettered lines, a list, or a dict),
`image` / `images` for `image_path` (a string or a list), `category` for `question_type`, and an `id`.
Image paths are looked up under --data-root, the JSON's folder and its parent (the release's paths are
relative to the repository root, one level above `eval/`), also without their leading folders.

Each item keeps the record's `choices` text as written (`extra["choices_text"]`): the official harness
pastes it into the prompt verbatim (`benchmarks/viewspatial.py`). Scoring is the module's.
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

RULES = "ViewSpatial"  # the benchmark module that scores these items (evaluate/benchmarks/viewspatial.py)
RELEASE_STEM = "ViewSpatial-Bench"  # the release's file name: its default benchmark name is plain RULES


def default_name(path: Path) -> str:
    """The default name: ViewSpatial for the release's `ViewSpatial-Bench.json`, else ViewSpatial-<file stem>."""
    return RULES if path.stem == RELEASE_STEM else f"{RULES}-{path.stem}"


def _choices_text(raw, options: dict[str, str]) -> str:
    """The choices as the official prompt shows them: the record's string as written, else `A. x` lines."""
    if isinstance(raw, str) and not raw.strip().startswith(("[", "{")):
        return raw
    return "\n".join(f"{k}. {v}" for k, v in options.items())


def read_viewspatial(path: str | Path, name: str | None = None, data_root: str | Path | None = None) -> Benchmark:
    """The ViewSpatial-Bench records of `path` as a Benchmark (default name: `default_name`).

    Args:
        data_root: searched first for the image files, before the JSON's folder and its parent.

    Raises:
        BenchmarkFormatError: a record misses a field or has one of the wrong type, its answer is not
            one of its options, or an image file is not found (the message names file, record and field).
    """
    path = Path(path)
    name = name or default_name(path)
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
        if not isinstance(question, str):
            raise fail(path, where, f"field 'question' must be a string, not {type(question).__name__}")
        images = [images] if isinstance(images, str) else images
        if not isinstance(images, list) or not all(isinstance(p, str) and p for p in images):
            raise fail(path, where, "field 'image_path' must be a file name or a list of file names")
        raw_choices = first_field(rec, ("choices", "options"))
        options = parse_options_field(raw_choices, path, where)
        if not options:
            raise fail(path, where, "field 'choices' is missing or empty")
        qtype = first_field(rec, ("question_type", "category"))
        items.append(
            EvalItem(
                benchmark=name,
                id=rid,
                question=question.strip(),
                answer=answer_letter(str(answer), options, path, where),
                kind="choice",
                images=[str(resolve_file(p, bases, path, where)) for p in images],
                options=options,
                category=str(qtype or ""),
                extra={"question_raw": question, "choices_text": _choices_text(raw_choices, options)},
            )
        )
    return Benchmark(name=name, items=items, source=str(path), rules=RULES)
