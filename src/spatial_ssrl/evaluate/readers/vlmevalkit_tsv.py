"""VLMEvalKit's TSV layout, which Spatial457, 3DSRBench, SpatialEval, QSpatial, CV-Bench, BLINK,
RealWorldQA and MMBench are distributed in.

Read as VLMEvalKit reads it (open-compass/VLMEvalKit @ e8e78f05, 2026-08-18: vlmeval/dataset/image_base.py
`ImageBaseDataset.__init__` / `dump_image`, vlmeval/smp/misc.py `toliststr`, vlmeval/smp/file.py
`localize_df`), without pandas and without `eval`:

- `index`, `question`, option columns `A`..`H` (present and non-empty ones are the options), `answer`,
  `category`, optional `hint` (prepended as "Hint: ..."), `l2-category`, `split` and `g_index`
  (MMBench's circular groups, also in `item.extra`), QSpatial's `answer_value` + `answer_unit`, our own
  export's `answer_type`. The non-empty cells of every other column (3DSRBench's `qid`, CV-Bench's
  `source`, `prompt`, ...) are kept as written in `item.extra["tsv"]` {column: text}.
- `image`: base64 of an encoded image; a list of base64 strings for a multi-image row, written as a
  Python literal (`['iVBOR...', '/9j/...']`, what pandas writes for a list and what VLMEvalKit reads with
  `eval`: read here with `ast.literal_eval`, at most MAX_LIST_CHARS) or as JSON; or, as VLMEvalKit does
  to save space, the `index` of another row whose image is the same (a cell of at most 64 characters).
- `image_path` without `image` (VLMEvalKit's localized `*_local.tsv`, or files unpacked by hand): one
  path, or a Python-literal / JSON list of paths. Absolute paths are used when they exist; otherwise
  a path (or its tail, without its leading folders) is looked for under --data-root, the TSV's folder
  and its `images/` folder (VLMEvalKit itself looks under $LMUData/images/<dataset>: pass that folder as
  --data-root).
- Option cells as VLMEvalKit sees them: pandas reads a column whose cells are all integers as int64
  (or float64 when the column has an empty cell), so an option `3` is `3` or `3.0` in VLMEvalKit's
  prompt and text matching; columns of all numbers become floats (`0.50` -> `0.5`). This is mirrored
  for the option columns (pandas' boolean and other conversions are not).
- MMBench TEST files (a name starting with "MMBench", as VLMEvalKit's MMBench_TEST_EN/CN[_V11]) have
  no `answer` column: their items get answer "" with `extra["no_answer"] = True` (inference and the
  submission file only). Every other benchmark requires `answer`.

Answer kind per row: options present -> multiple choice (the answer must be one of the option letters,
or exactly one option's text); answer yes/no without options -> yes/no; a quantity (`2.5 meters`,
QSpatial's `(2.5, 'meters')`, or answer_value/answer_unit) -> numeric, with QSpatial's factor-2 rule
when it has a length unit or the benchmark is named QSpatial*, exact otherwise (counts); anything else
-> text (exact match after normalising case and spacing).

Deviations from VLMEvalKit: a row whose `image` is empty is an error here (VLMEvalKit drops such rows
silently: skip_noimg); cells are stripped of surrounding whitespace.
"""

from __future__ import annotations

import ast
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
# Columns read into EvalItem fields; every other non-empty cell is kept in item.extra["tsv"] (raw text).
KNOWN_COLUMNS = frozenset(
    {"index", "image", "image_path", "question", "hint", "answer", "category", "l2-category", *LETTERS}
    | {"answer_value", "answer_unit", "answer_type"}
)
ANSWERLESS_PREFIXES = ("mmbench",)  # benchmarks whose TEST files have no `answer` column (see the docstring)
# pandas' default NA spellings (pandas._libs.parsers.STR_NA_VALUES): VLMEvalKit reads these cells as missing.
NA_VALUES = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA"}
    | {"NULL", "NaN", "None", "n/a", "nan", "null"}
)
_QUANTITY = re.compile(r"^\s*[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?\s*[A-Za-z]*\s*$")
_TUPLE = re.compile(r"^\(\s*([-+]?[\d.]+)\s*,\s*['\"]?([A-Za-z ]+?)['\"]?\s*\)$")  # QSpatial's (value, unit)
MAX_REF_CHARS = 64  # VLMEvalKit: an `image` cell this short is another row's index, not base64
MAX_LIST_CHARS = 1 << 30  # a list cell longer than this is not parsed (ast.literal_eval holds it all in memory)
MAX_PATH_LIST_CHARS = 1 << 20  # an `image_path` list is a few paths
_INT = re.compile(r"[-+]?\d{1,18}")  # what pandas reads as int64 (shorter than 19 digits, to stay in range)
_FLOAT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")  # unambiguous: no backtracking


def _missing(value: str | None) -> bool:
    return value is None or value.strip() in NA_VALUES


def _quantity_text(answer: str) -> str | None:
    """`2.5 meters` for answers written as a quantity or as QSpatial's `(2.5, 'meters')`; else None."""
    s = answer.strip()
    m = _TUPLE.match(s)
    if m:
        return f"{m.group(1)} {m.group(2).strip()}"
    return s if _QUANTITY.match(s) else None


def cell_list(value: str, path: Path, where: str, column: str, limit: int) -> list[str]:
    """The strings of a list cell (`toliststr`): a Python literal as pandas writes lists, or JSON.

    Raises:
        BenchmarkFormatError: not a list of strings (or longer than `limit` characters).
    """
    if len(value) > limit:
        raise fail(path, where, f"column {column!r}: a list of {len(value)} characters (at most {limit} are read)")
    try:
        values = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        try:
            values = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            raise fail(
                path, where, f"column {column!r} starts with '[' but is not a list (Python literal or JSON)"
            ) from None
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise fail(path, where, f"column {column!r} must be a non-empty list of strings")
    return values


def _is_list(value: str) -> bool:
    """toliststr's test: a cell of more than one character, starting with '[' and ending with ']'."""
    return len(value) > 1 and value[0] == "[" and value[-1] == "]"


def _images(row: dict, refs: dict[str, str], columns: list[str], path: Path, where: str, bases: list[Path]) -> list:
    value = row.get("image")
    if "image" in columns and not _missing(value):
        value = value.strip()
        if len(value) <= MAX_REF_CHARS and value in refs:  # the index of the row that holds the image
            target = refs[value].strip()
            if len(target) <= MAX_REF_CHARS:
                raise fail(path, where, f"column 'image' refers to row index {value}, which holds no image")
            value = target
        if _is_list(value):
            values = cell_list(value, path, where, "image", MAX_LIST_CHARS)
            return [decode_base64_image(v, path, where) for v in values]
        return [decode_base64_image(value, path, where)]
    paths = row.get("image_path")
    if "image_path" in columns and not _missing(paths):
        paths = paths.strip()
        names = cell_list(paths, path, where, "image_path", MAX_PATH_LIST_CHARS) if _is_list(paths) else [paths]
        return [str(resolve_file(n, bases, path, where, what="column 'image_path':")) for n in names]
    raise fail(path, where, "no image: column 'image' (base64) and column 'image_path' are both empty")


def option_columns(rows: list[dict], columns: list[str]) -> dict[str, dict[int, str]]:
    """{option column: {row number: the cell as VLMEvalKit sees it}} for the columns pandas reads as
    numbers: all-integer columns as int64 (`007` -> `7`), or float64 when a cell is empty (`3` -> `3.0`),
    all-number columns as float64 (`0.50` -> `0.5`). Other columns are not listed (kept as written)."""
    out: dict[str, dict[int, str]] = {}
    for c in LETTERS:
        if c not in columns:
            continue
        cells = {n: (r.get(c) or "").strip() for n, r in enumerate(rows)}
        present = {n: v for n, v in cells.items() if not _missing(rows[n].get(c))}
        if not present:
            continue
        has_na = len(present) < len(cells)
        if all(_INT.fullmatch(v) for v in present.values()):
            out[c] = {n: str(float(int(v))) if has_na else str(int(v)) for n, v in present.items()}
        elif all(_FLOAT.fullmatch(v) for v in present.values()):
            out[c] = {n: str(float(v)) for n, v in present.items()}
    return out


def _row_item(row: dict, n: int, columns: list[str], path: Path, where: str, name: str, refs: dict, bases, numeric):
    """The item of data row `n` (0-based); `numeric` = option_columns(...)."""
    index = row["index"].strip()
    options = {
        c: numeric[c][n] if c in numeric else row[c].strip()
        for c in LETTERS
        if c in columns and not _missing(row.get(c))
    }
    extra: dict = {}
    if "answer" not in columns:  # an MMBench TEST file (read_tsv checked the name)
        # the row's cells but the image, kept for the submission file (VLMEvalKit's prediction file)
        answer, extra = "", {"no_answer": True, "row": {c: row[c] for c in columns if c != "image"}}
    else:
        answer = row["answer"].strip()
        if "answer_value" in columns and not _missing(row.get("answer_value")):
            answer = f"{row['answer_value'].strip()} {(row.get('answer_unit') or '').strip()}".strip()
        if not answer:
            raise fail(path, where, "column 'answer' is empty")
    answer_type = (row.get("answer_type") or "").strip()
    if answer_type in ("permutation", "label_direction"):  # our own export of the pretext tasks
        kind = f"pretext:{answer_type}"
    elif options:
        kind = "choice"
        if answer:
            answer = answer_letter(answer, options, path, where)
    elif not answer:
        raise fail(path, where, "a row without an answer must have options (columns A, B, ...)")
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
    for column in ("g_index", "split"):
        if column in columns and not _missing(row.get(column)):
            extra[column] = row[column].strip()
    others = {c: row[c].strip() for c in columns if c not in KNOWN_COLUMNS and not _missing(row.get(c))}
    if others:
        extra["tsv"] = others
    if row["question"] != row["question"].strip():
        extra["question_raw"] = row["question"]  # as written: VLMEvalKit prompts with the cell unstripped
    category = (row.get("category") or "").strip()
    if not category and not _missing(row.get("question_type")):
        category = row["question_type"].strip()  # QSpatial tables give the type instead of a category
        extra.setdefault("question_type", category)
    hint = row.get("hint")
    return EvalItem(
        benchmark=name,
        id=index,
        question=row["question"].strip(),
        answer=answer,
        kind=kind,
        images=_images(row, refs, columns, path, where, bases),
        options=options,
        category=category,
        subcategory=(row.get("l2-category") or "").strip(),
        hint="" if _missing(hint) else hint.strip(),
        extra=extra,
    )


def answerless(name: str) -> bool:
    """True for a benchmark name whose files may lack the `answer` column (MMBench TEST)."""
    return name.casefold().startswith(ANSWERLESS_PREFIXES)


def read_tsv(path: str | Path, name: str | None = None, data_root: str | Path | None = None) -> Benchmark:
    """A VLMEvalKit TSV as a Benchmark; errors name the file, the row and the column."""
    path = Path(path)
    name = name or path.stem
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # base64 images are far longer than csv's 128 kB default
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            columns = list(reader.fieldnames or [])
            required = [c for c in REQUIRED if c != "answer" or not answerless(name) or "answer" in columns]
            missing = [c for c in required if c not in columns]
            if "image" not in columns and "image_path" not in columns:
                missing.append("image")
            if missing:
                raise BenchmarkFormatError(
                    f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} (header: {', '.join(columns)})"
                )
            rows = list(reader)
    except UnicodeDecodeError as err:
        raise BenchmarkFormatError(f"{path}: not UTF-8 text ({err}); a VLMEvalKit TSV is UTF-8") from None
    except csv.Error as err:
        raise BenchmarkFormatError(f"{path}: not a readable TSV ({err})") from None
    refs = {(r.get("index") or "").strip(): r.get("image") or "" for r in rows}
    bases = [Path(data_root)] if data_root else []
    bases += [path.parent, path.parent / "images"]
    numeric = option_columns(rows, columns)
    items = []
    for n, row in enumerate(rows, 1):
        where = f"row {n} (index {(row.get('index') or '').strip() or '?'})"
        if None in row:  # DictReader puts surplus cells under the key None
            raise fail(path, where, f"{len(columns) + len(row[None])} cells for {len(columns)} columns")
        absent = [c for c in required if row.get(c) is None]
        if absent:
            raise fail(path, where, f"column {absent[0]!r} is missing (the row has fewer cells than the header)")
        if not row["index"].strip():
            raise fail(path, where, "column 'index' is empty")
        items.append(_row_item(row, n - 1, columns, path, where, name, refs, bases, numeric))
    return Benchmark(name=name, items=items, source=str(path))
