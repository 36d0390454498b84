"""VLMEvalKit's TSV layout, which Spatial457, 3DSRBench, SpatialEval, QSpatial, CV-Bench, BLINK,
RealWorldQA and MMBench are distributed in.

Columns: `index`, `image` (base64 of an encoded image; a JSON list of base64 strings for a multi-image
row; or, as VLMEvalKit does to save space, the `index` of another row whose image is the same),
`question`, option columns `A`..`H` (present and non-empty ones are the options), `answer`, `category`,
optional `hint` (prepended as "Hint: ..."), `l2-category`, `image_path` (files relative to the TSV or
--data-root, used when there is no `image`), QSpatial's `answer_value` + `answer_unit`, and our own
export's `answer_type`.

Answer kind per row: options present -> multiple choice (the answer must be one of the option letters,
or exactly one option's text); answer yes/no without options -> yes/no; a quantity (`2.5 meters`,
QSpatial's `(2.5, 'meters')`, or answer_value/answer_unit) -> numeric, with QSpatial's factor-2 rule
when it has a length unit or the benchmark is named QSpatial*, exact otherwise (counts); anything else
-> text (exact match after normalising case and spacing).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.readers.common import (
    LETTERS,
    BenchmarkFormatError,
    answer_letter,
    decode_base64_image,
    fail,
    resolve_file,
)
from spatial_ssrl.rewards.match import parse_number_with_unit

REQUIRED = ("index", "question", "answer")  # plus `image` or `image_path`
# pandas (which VLMEvalKit reads TSVs with) takes these cell values as missing.
NA_VALUES = frozenset({"", "nan", "NaN", "NAN", "None", "null", "NULL", "N/A", "n/a", "NA", "#N/A", "<NA>"})
_QUANTITY = re.compile(r"^\s*[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?\s*[A-Za-z]*\s*$")
_TUPLE = re.compile(r"^\(\s*([-+]?[\d.]+)\s*,\s*['\"]?([A-Za-z ]+?)['\"]?\s*\)$")  # QSpatial's (value, unit)
MAX_REF_CHARS = 64  # VLMEvalKit: an `image` cell this short is another row's index, not base64


def _missing(value: str | None) -> bool:
    return value is None or value.strip() in NA_VALUES


def _quantity_text(answer: str) -> str | None:
    """`2.5 meters` for answers written as a quantity or as QSpatial's `(2.5, 'meters')`; else None."""
    s = answer.strip()
    m = _TUPLE.match(s)
    if m:
        return f"{m.group(1)} {m.group(2).strip()}"
    return s if _QUANTITY.match(s) else None


def _images(row: dict, refs: dict[str, str], columns: list[str], path: Path, where: str, bases: list[Path]) -> list:
    value = row.get("image")
    if "image" in columns and not _missing(value):
        value = value.strip()
        if len(value) <= MAX_REF_CHARS and value in refs:  # the index of the row that holds the image
            target = refs[value].strip()
            if len(target) <= MAX_REF_CHARS:
                raise fail(path, where, f"column 'image' refers to row index {value}, which holds no image")
            value = target
        if value.startswith("["):
            try:
                values = json.loads(value)
            except json.JSONDecodeError:
                raise fail(
                    path, where, "column 'image' starts with '[' but is not a JSON list of base64 strings"
                ) from None
            if not values or not all(isinstance(v, str) for v in values):
                raise fail(path, where, "column 'image' must be a non-empty JSON list of base64 strings")
            return [decode_base64_image(v, path, where) for v in values]
        return [decode_base64_image(value, path, where)]
    paths = row.get("image_path")
    if "image_path" in columns and not _missing(paths):
        paths = paths.strip()
        names = json.loads(paths) if paths.startswith("[") else [paths]
        return [str(resolve_file(n, bases, path, where)) for n in names]
    raise fail(path, where, "no image: column 'image' (base64) and column 'image_path' are both empty")


def _row_item(row: dict, columns: list[str], path: Path, where: str, name: str, refs: dict, bases: list[Path]):
    index = row["index"].strip()
    options = {c: row[c].strip() for c in LETTERS if c in columns and not _missing(row.get(c))}
    answer = row["answer"].strip()
    if "answer_value" in columns and not _missing(row.get("answer_value")):
        answer = f"{row['answer_value'].strip()} {(row.get('answer_unit') or '').strip()}".strip()
    if not answer:
        raise fail(path, where, "column 'answer' is empty")
    answer_type = (row.get("answer_type") or "").strip()
    extra: dict = {}
    if answer_type in ("permutation", "label_direction"):  # our own export of the pretext tasks
        kind = f"pretext:{answer_type}"
    elif options:
        kind, answer = "choice", answer_letter(answer, options, path, where)
    elif answer.casefold() in ("yes", "no"):
        kind = "yesno"
    elif (quantity := _quantity_text(answer)) is not None and parse_number_with_unit(quantity) is not None:
        kind, answer = "number", quantity
        _, unit = parse_number_with_unit(quantity)
        if unit == "m" or name.casefold().startswith("qspatial"):
            extra = {"metric": "within_factor", "factor": 2.0}  # QSpatial's success rule
        else:
            extra = {"metric": "exact"}
    else:
        kind = "text"
    hint = row.get("hint")
    return EvalItem(
        benchmark=name,
        id=index,
        question=row["question"].strip(),
        answer=answer,
        kind=kind,
        images=_images(row, refs, columns, path, where, bases),
        options=options,
        category=(row.get("category") or "").strip(),
        subcategory=(row.get("l2-category") or "").strip(),
        hint="" if _missing(hint) else hint.strip(),
        extra=extra,
    )


def read_tsv(path: str | Path, name: str | None = None, data_root: str | Path | None = None) -> Benchmark:
    """A VLMEvalKit TSV as a Benchmark; errors name the file, the row and the column."""
    path = Path(path)
    name = name or path.stem
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # base64 images are far longer than csv's 128 kB default
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        columns = list(reader.fieldnames or [])
        missing = [c for c in REQUIRED if c not in columns]
        if "image" not in columns and "image_path" not in columns:
            missing.append("image")
        if missing:
            raise BenchmarkFormatError(
                f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} (header: {', '.join(columns)})"
            )
        rows = list(reader)
    refs = {(r.get("index") or "").strip(): r.get("image") or "" for r in rows}
    bases = [Path(data_root)] if data_root else []
    bases += [path.parent, path.parent / "images"]
    items = []
    for n, row in enumerate(rows, 1):
        where = f"row {n} (index {(row.get('index') or '').strip() or '?'})"
        if None in row:  # DictReader puts surplus cells under the key None
            raise fail(path, where, f"{len(columns) + len(row[None])} cells for {len(columns)} columns")
        absent = [c for c in REQUIRED if row.get(c) is None]
        if absent:
            raise fail(path, where, f"column {absent[0]!r} is missing (the row has fewer cells than the header)")
        if not row["index"].strip():
            raise fail(path, where, "column 'index' is empty")
        items.append(_row_item(row, columns, path, where, name, refs, bases))
    return Benchmark(name=name, items=items, source=str(path))
