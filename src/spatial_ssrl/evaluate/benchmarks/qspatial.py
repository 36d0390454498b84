"""Q-Spatial Bench (QSpatial_plus, QSpatial_scannet): "how far / how tall" questions answered with a length.

Official ("official" protocol): VLMEvalKit, open-compass/VLMEvalKit @ e8e78f05 (2026-08-18),
vlmeval/dataset/image_vqa.py class `QSpatial` (`load_data`, `build_prompt`, `get_multiplier`,
`parse_prediction`, `evaluate` without a judge model, which is VLMEvalKit's default for this VQA
dataset), with the prompt files of andrewliao11/Q-Spatial-Bench-code @ ebe8137e (2024-10-29)
`prompt_templates/system_prompt.txt` + `spatial_prompt_single.txt`, which VLMEvalKit downloads.
What it does, and what this module does the same way:
- Data: the Hugging Face dataset andrewliao11/Q-Spatial-Bench, one parquet file per split
  (`data/QSpatial_plus-00000-of-00001.parquet`, 101 rows; `data/QSpatial_scannet-...parquet`, 170 rows)
  with columns `question`, `answer_value` (float32), `answer_unit`, `question_type`, `image_path`,
  `image` ({bytes, path}; null for ScanNet, whose images are files under the Q-Spatial-Bench-code
  checkout: pass it as --data-root). `index` = the row's position; the answer is the pair
  (answer_value, answer_unit). Read with `qspatial:FILE.parquet[:NAME]`, or as a bare `.parquet` path
  whose columns include question, answer_value and answer_unit (`sniff`). A QSpatial TSV (a file named
  QSpatial*) is read by the TSV reader and selected by name; `prepare` reads its answer
  (`96.0 centimeters`, `(96.0, 'centimeters')` or `(np.float32(96.0), 'centimeters')`).
- Prompt: one text after the image: system_prompt.txt, "\\n", then spatial_prompt_single.txt rendered
  with the question: the `\\scalar{} \\distance_unit{}` instruction, "Question: ...", and "Let's thinkg
  step by step ..." (sic). `question()` returns exactly that text.
- Parser (`official_reading`), on the whole prediction (think block included, no `\\boxed{}` reading):
  the LAST `scalar{...}` group (a group ends at the first "}"; groups do not overlap), in it every
  `\\d+\\.?\\d*` (no sign, no exponent: "-5" is 5, "1e3" is 1 and 3, "1,600" is 1 and 600), their MEAN
  (so a range `\\scalar{0.5-1.0}` is 0.75, and so is the hedge `\\scalar{0.5 or 1.0}`: the official
  parser demonstrably credits it, so this protocol does too); no digits -> NaN (never a success).
  The unit is the LAST `distance_unit{...}` group, lower-cased but not stripped, looked up in
  meters/meter/m/metre/metres = 100 cm, centimeters/centimeter/cm = 1, feet/foot/ft = 30.48,
  inch/inches/in = 2.54, mm = 0.1; any other unit ("centimetres", "km", "yd", "millimeters",
  " meters") multiplies by 0. No `scalar{}` or no `distance_unit{}` (e.g. "1.6 meters", a bare "160",
  `\\boxed{1.6 m}`) is a parse error: the prediction is 1e-8 cm.
- Success (`success`): pred = pred_cm + 1e-8 and gt = answer_value * multiplier + 1e-8, then
  max(pred/gt, gt/pred) < 2 ("delta_2", the headline) and < 1.5 ("delta_1_point_5"). The reference
  is float32 arithmetic, as under the numpy 2.x the authors pinned (numpy==2.2.6) and any current
  install: VLMEvalKit writes the answer tuple into its xlsx as "(np.float32(96.0), 'centimeters')" and
  evaluates it back to a float32, so the reference keeps float32 precision and the 1e-8 (below float32
  resolution for lengths of a few cm and up) is lost. Hence at exactly factor 2: a prediction of
  half the reference succeeds (gt/pred = 2 - 1e-8/pred < 2) and twice the reference fails
  (pred/gt = 2 + 1e-8/gt); a float32 reference such as 0.3 m (30.000002 cm) fails a 0.15 m prediction.
- Breakdowns: VLMEvalKit's score dict: delta_2, delta_1_point_5 and, per `question_type`,
  `<type>_delta_2` / `<type>_delta_1_point_5` (summary "official_scores"), also as two tables.

Paper ("paper" protocol): the Spatial-SSRL authors' copy, InternLM/Spatial-SSRL @ b313fedf (2026-04-07)
evaluation/Remaining_Bench_eval/vlmeval/dataset/image_vqa.py `QSpatial`. Differences:
- Data: their local copy of the dataset (HF revision 17b92e47) as one "train" split, rows kept when
  `image_path` contains the dataset name, then re-indexed. A parquet holding both subsets is read the
  same way: name the subset (`qspatial:FILE.parquet:QSpatial_plus`).
- Prompt: read from local files that are not published ("system.txt", "cot_prompt.txt" for the single
  spatial prompt); we use the official files (their code still calls that template spatial_prompt_single).
- Parser (`paper_reading`): when the prediction contains "boxed{": every "boxed{" becomes "scalar{", a
  "}" is inserted before the first space after the first "scalar{", and the last "}" is deleted; then
  the scalar as official. Unit: the last `distance_unit{...}`, else the last `unit{...}`, else the last
  `{...}` of any kind; when that unit reads as a number (Python float()), the unit is the run of ASCII
  letters after the last backslash. Units are lower-cased AND stripped. Consequence: `\\boxed{\\scalar{1.5}
  \\distance_unit{meters}}` is read as 1.5 meters; `\\boxed{1.5 meters}` is not (its unit becomes
  "scalar": 0).
- Success rule and breakdowns: the same.

Both protocols: VLMEvalKit stores predictions in an xlsx file before scoring. xlsxwriter truncates a
cell to 32,767 characters (XLSX_CELL_CHARS: a `\\scalar{}` after that is lost, here too), and pandas
reads back an empty cell or "None", "NA", "null", ... as NaN (`vlmevalkit.scored_text`).

Known deviations:
- VLMEvalKit's `--judge` path (an LLM extracts "(value, unit)" with in-context examples) is not
  implemented: it is not VLMEvalKit's default for QSpatial, and the run's judge is only the
  multiple-choice fallback. With or without a judge, this module scores with the regex path.
- A prediction pandas reads as NaN (empty, "None", ...) makes the official `evaluate` crash
  (re.findall on a float); here it is a parse error (0).
- The original Q-Spatial-Bench notebook (examples/evaluate_success_rate.ipynb) differs from VLMEvalKit:
  unknown units multiply by 1 (not 0) and there is no 1e-8 smoothing; VLMEvalKit's rule is followed.
- Under numpy < 2 the reference would be float64 (the tuple was written as "(96.0, 'centimeters')")
  and both exact factor-2 cases would succeed; numpy 2 is what the authors and current installs use.
- A reference unit outside the table scores every prediction 0, as official (the summary counts such
  items in "unknown_reference_units"); a reference without a unit or value is refused when loading.

Parsing is linear in the response: `str.find` scans for the groups (each starting where the previous
group ended) and one `\\d+\\.?\\d*` scan of the last scalar group.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from spatial_ssrl.evaluate.benchmarks._text import last_brace_group
from spatial_ssrl.evaluate.benchmarks.base import (
    BenchmarkRules,
    ItemScore,
    ScoringContext,
    check_protocol,
    register_benchmark,
)
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import scored_text
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.readers.common import check_image_bytes, fail, resolve_file
from spatial_ssrl.evaluate.summary import score_table
from spatial_ssrl.evaluate.summary import summarize as generic_summary
from spatial_ssrl.rewards.extract import parse_response
from spatial_ssrl.rewards.score import format_from_parsed

RULES = "QSpatial"
SUBSETS = ("QSpatial_plus", "QSpatial_scannet")  # VLMEvalKit's dataset names = the HF splits

# Q-Spatial-Bench-code prompt_templates/system_prompt.txt (no trailing newline) and spatial_prompt_single.txt.
SYSTEM_PROMPT = (
    "You will be provided with a question and a 2D image. The question involves measuring the precise distance "
    "in 3D space through a 2D image. You will answer the question by providing a numeric answer consisting of a "
    'scalar and a distance unit in the format of """\\scalar{scalar} \\distance_unit{distance unit}""" at the end '
    "of your response."
)
SPATIAL_PROMPT_SINGLE = (
    "Question: {question}\n"
    "Let's thinkg step by step and start by finding good reference objects or object parts in the image."
)

# get_multiplier: centimetres per unit; anything else multiplies by 0 (VLMEvalKit prints "Unknown unit").
CM_PER_UNIT: dict[str, float] = {
    **dict.fromkeys(("meters", "meter", "m", "metre", "metres"), 100),
    **dict.fromkeys(("centimeters", "centimeter", "cm"), 1),
    **dict.fromkeys(("feet", "foot", "ft"), 30.48),
    **dict.fromkeys(("inch", "inches", "in"), 2.54),
    "mm": 0.1,
}
SMOOTHING = 1e-8  # added to every prediction and reference (cm) before the ratios
PARSE_ERROR_CM = 1e-8  # what evaluate() uses for a prediction parse_prediction cannot read
DELTAS = {"delta_2": 2.0, "delta_1_point_5": 1.5}  # VLMEvalKit's keys and thresholds (strict <)
XLSX_CELL_CHARS = 32_767  # xlsxwriter truncates a prediction cell to this many characters
MAX_ANSWER_CHARS = 200  # a reference answer longer than this is not a (value, unit) pair
_NUMBER = re.compile(r"\d+\.?\d*")  # parse_prediction's number pattern (re's \d: any Unicode decimal digit)


# ---- parsing a prediction ---------------------------------------------------------------------------


def scalar_value(group: str) -> float:
    """The mean of the `\\d+\\.?\\d*` numbers of a scalar group (NaN when it has none)."""
    numbers = [float(x) for x in _NUMBER.findall(group)]
    if not numbers:
        return math.nan  # numpy's mean of nothing
    with np.errstate(all="ignore"):
        return float(np.mean(np.array(numbers, dtype=np.float64)))


def official_reading(text: str) -> tuple[float, str] | None:
    """VLMEvalKit's parse_prediction: (mean of the last scalar group, last distance_unit group), or None
    when either is missing (its IndexError: a parse error)."""
    scalar = last_brace_group(text, "scalar{")
    if scalar is None:
        return None
    unit = last_brace_group(text, "distance_unit{")
    if unit is None:
        return None
    return scalar_value(scalar), unit


def authors_rewrite(text: str) -> str:
    """The authors' `process_string`: boxed{ -> scalar{, a "}" before the first space after the first
    scalar{, and the last "}" removed."""
    text = text.replace("boxed{", "scalar{")
    space = text.find(" ", text.find("scalar{"))
    if space != -1:
        text = text[:space] + "}" + text[space:]
    last = text.rfind("}")
    if last != -1:
        text = text[:last] + text[last + 1 :]
    return text


def _reads_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _leading_letters(text: str) -> str:
    n = 0
    while n < len(text) and text[n].isascii() and text[n].isalpha():
        n += 1
    return text[:n]


def paper_reading(text: str) -> tuple[float, str] | None:
    """The authors' parse_prediction (see the module docstring), or None on a parse error."""
    if "boxed{" in text:
        text = authors_rewrite(text)
    scalar = last_brace_group(text, "scalar{")
    if scalar is None:
        return None
    unit = last_brace_group(text, "distance_unit{")
    if unit is None:
        unit = last_brace_group(text, "unit{")
    if unit is None:
        unit = last_brace_group(text, "{")
    if unit is None:
        return None
    if _reads_as_float(unit):  # their fix for answers like \scalar{2}\distance_unit... written as {2}\meters
        unit = _leading_letters(text.rsplit("\\", 1)[-1]) if "\\" in text else ""
    return scalar_value(scalar), unit


def cm_per_unit(unit: str, protocol: str) -> float:
    """get_multiplier: official looks up unit.lower(), the authors' copy unit.lower().strip(); unknown -> 0."""
    key = unit.lower().strip() if protocol == "paper" else unit.lower()
    return CM_PER_UNIT.get(key, 0)


def reference_cm(value: float, unit: str, protocol: str) -> float:
    """The smoothed reference in cm, in float32 as VLMEvalKit computes it (see the module docstring)."""
    gt = np.float32(value) * np.float32(cm_per_unit(unit, protocol))
    return float(gt + np.float32(SMOOTHING))


def success(pred: float, gt: float, delta: float) -> bool:
    """max(pred/gt, gt/pred) < delta, for smoothed (positive) lengths; NaN is never a success."""
    ratios = (pred / gt, gt / pred if pred else math.inf)
    return not any(math.isnan(r) for r in ratios) and max(ratios) < delta


def score(item: EvalItem, response: str, ctx: ScoringContext) -> ItemScore:
    """delta_2 (the score) and delta_1_point_5 of one prediction, read by the protocol's parser."""
    protocol = check_protocol(ctx.protocol)
    raw = response if isinstance(response, str) else ""
    text = scored_text(raw[:XLSX_CELL_CHARS], protocol)
    reading = paper_reading(text) if protocol == "paper" else official_reading(text)
    if reading is None:
        pred_cm, pred = PARSE_ERROR_CM, None
    else:
        value, unit = reading
        pred_cm, pred = value * cm_per_unit(unit, protocol), f"{value} {unit}"
    ref_value, ref_unit = reference_answer(item)
    gt = reference_cm(ref_value, ref_unit, protocol)
    smoothed = pred_cm + SMOOTHING
    passed = {key: success(smoothed, gt, delta) for key, delta in DELTAS.items()}
    return {
        "score": float(passed["delta_2"]),
        "format": format_from_parsed(parse_response(raw)),
        "pred": pred,
        "delta_2": float(passed["delta_2"]),
        "delta_1_point_5": float(passed["delta_1_point_5"]),
        "pred_cm": pred_cm if reading is not None and math.isfinite(pred_cm) else None,
        "gt_cm": float(np.float32(ref_value) * np.float32(cm_per_unit(ref_unit, protocol))),
        "parse_error": int(reading is None),
        "question_type": item.extra.get("question_type", item.category),
    }


# ---- prompt ------------------------------------------------------------------------------------------


def question(item: EvalItem, protocol: str) -> str:
    """VLMEvalKit's text after the image: the system prompt, a newline, the spatial prompt with the question
    (the authors' unpublished prompt files are taken to be the same: see the module docstring)."""
    text = item.extra.get("question_raw", item.question)
    return f"{SYSTEM_PROMPT}\n{SPATIAL_PROMPT_SINGLE.replace('{question}', text)}"


# ---- the reference answer ------------------------------------------------------------------------------


def parse_reference(answer: str) -> tuple[float, str] | None:
    """(value, unit) of a reference written `96.0 centimeters`, `(96.0, 'centimeters')` or
    `(np.float32(96.0), 'centimeters')` (VLMEvalKit's answer column), else None."""
    s = answer.strip()
    if not s or len(s) > MAX_ANSWER_CHARS:
        return None
    if s.startswith("(") and s.endswith(")"):
        value, sep, unit = s[1:-1].rpartition(",")
        if not sep:
            return None
        value, unit = value.strip(), unit.strip().strip("'\"")
        for wrapper in ("np.float32(", "np.float64(", "float("):
            if value.startswith(wrapper) and value.endswith(")"):
                value = value[len(wrapper) : -1]
    else:
        value, _, unit = s.partition(" ")
    try:
        number = float(value)
    except ValueError:
        return None
    unit = unit.strip()
    return (number, unit) if unit and math.isfinite(number) and number >= 0 else None


def reference_answer(item: EvalItem) -> tuple[float, str]:
    """(answer_value, answer_unit) of an item: from `extra` (the parquet loader, `prepare`) or its answer."""
    if "answer_value" in item.extra and "answer_unit" in item.extra:
        return float(item.extra["answer_value"]), str(item.extra["answer_unit"])
    ref = parse_reference(item.answer)
    if ref is None:
        raise BenchmarkFormatError(f"{item.benchmark}, item {item.id}: answer {item.answer!r} is not a (value, unit)")
    return ref


def prepare(bench: Benchmark, protocol: str) -> Benchmark:
    """Give every item its (answer_value, answer_unit) and question type in `extra` (items from a TSV carry
    them only in `answer` and `category`).

    Raises:
        BenchmarkFormatError: an answer that is not a non-negative value with a unit (naming the item).
    """
    for item in bench.items:
        if "answer_value" not in item.extra or "answer_unit" not in item.extra:
            ref = parse_reference(item.answer)
            if ref is None:
                raise fail(
                    bench.source or bench.name,
                    f"item {item.id}",
                    f"column 'answer' must be a length with its unit such as '96.0 centimeters' or "
                    f"\"(96.0, 'centimeters')\", got {item.answer!r}",
                )
            item.extra["answer_value"], item.extra["answer_unit"] = float(np.float32(ref[0])), ref[1]
        item.extra.setdefault("question_type", item.category)
        item.extra.setdefault("metric", "within_factor")
        item.extra.setdefault("factor", 2.0)
        item.kind = "number"
    return bench


# ---- summary -------------------------------------------------------------------------------------------


def summarize(items: list[EvalItem], records: list[dict], protocol: str) -> dict[str, Any]:
    """VLMEvalKit's score dict (delta_2 = the headline, delta_1_point_5, and both per question_type)."""
    out = generic_summary(records)
    types = [item.extra.get("question_type", item.category) for item in items]
    official: dict[str, float] = {}
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for key in DELTAS:
        values = [float(r.get(key) or 0.0) for r in records]
        official[key] = sum(values) / len(values) if values else 0.0
        rows = [{"score": v, "type": t} for v, t in zip(values, types)]
        tables[key] = score_table(rows, lambda r: r["type"])
    for qtype in sorted(set(types)):
        for key in DELTAS:
            official[f"{qtype}_{key}"] = tables[key][qtype]["score"]
    out["score"] = official["delta_2"]
    out["delta_2"] = official["delta_2"]
    out["delta_1_point_5"] = official["delta_1_point_5"]
    out["official_scores"] = official
    out["parse_errors"] = sum(int(r.get("parse_error") or 0) for r in records)
    out["unknown_reference_units"] = sum(1 for item in items if cm_per_unit(reference_answer(item)[1], protocol) == 0)
    out["breakdowns"] = {
        "delta_2 (max(pred/gt, gt/pred) < 2) per question_type": tables["delta_2"],
        "delta_1_point_5 (max(pred/gt, gt/pred) < 1.5) per question_type": tables["delta_1_point_5"],
    }
    out["headline"] = "success rate delta_2: max(pred/gt, gt/pred) < 2 with 1e-8 smoothing (VLMEvalKit QSpatial)"
    return out


# ---- loader --------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("question", "answer_value", "answer_unit")  # plus `image` or `image_path`
COLUMNS = (*REQUIRED_COLUMNS, "question_type", "image_path", "image")


def subset_of(text: Any) -> str | None:
    """The QSpatial subset a name or an image path mentions (VLMEvalKit's split names), else None."""
    if not isinstance(text, str):
        return None
    folded = text.casefold()
    found = [s for s in SUBSETS if s.casefold() in folded]
    return found[0] if len(found) == 1 else None


def default_name(path: Path, subsets: set[str]) -> str:
    """The subset the file's name, its folder's name or its rows' image paths name, else "QSpatial-<stem>"."""
    for text in (path.stem, path.parent.name):
        if subset_of(text):
            return subset_of(text)
    if len(subsets) == 1:
        return next(iter(subsets))
    return f"{RULES}-{path.stem}"


def _columns(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as err:
        raise BenchmarkFormatError(f"{path}: not a readable parquet file ({err})") from None


def _image(row: dict, path: Path, where: str, bases: list[Path]):
    """The row's encoded image bytes (column `image`: {bytes, path} or bytes), else its file (`image_path`)."""
    image = row.get("image")
    data = image.get("bytes") if isinstance(image, dict) else image
    if isinstance(data, (bytes, bytearray)) and data:
        check_image_bytes(bytes(data), path, where, "image")
        return bytes(data)
    if data is not None and not isinstance(data, (bytes, bytearray)):
        raise fail(path, where, f"column 'image' must hold image bytes, got {type(data).__name__}")
    rel = row.get("image_path") or (image.get("path") if isinstance(image, dict) else None)
    if not isinstance(rel, str) or not rel.strip():
        raise fail(path, where, "no image: column 'image' has no bytes and column 'image_path' is empty")
    return str(resolve_file(rel.strip(), bases, path, where))


def _row_item(row: dict, n: int, index: int, name: str, path: Path, bases: list[Path]) -> EvalItem:
    where = f"row {n} (index {index})"
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise fail(path, where, "column 'question' must be a non-empty string")
    value = row.get("answer_value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise fail(path, where, f"column 'answer_value' must be a non-negative number, got {value!r}")
    unit = row.get("answer_unit")
    if not isinstance(unit, str) or not unit.strip():
        raise fail(path, where, f"column 'answer_unit' must be a unit name such as 'meters', got {unit!r}")
    qtype = row.get("question_type")
    if qtype is not None and not isinstance(qtype, str):
        raise fail(path, where, f"column 'question_type' must be a string, got {type(qtype).__name__}")
    value32 = np.float32(value)  # the dataset's float32, as VLMEvalKit keeps it
    return EvalItem(
        benchmark=name,
        id=str(index),
        question=text.strip(),
        answer=f"{value32!s} {unit}",
        kind="number",
        images=[_image(row, path, where, bases)],
        category=qtype or "",
        extra={
            "metric": "within_factor",
            "factor": 2.0,
            "answer_value": float(value32),
            "answer_unit": unit,
            "question_type": qtype or "",
            "question_raw": text,
            "image_path": row.get("image_path") or "",
        },
    )


def read(path, *, name: str | None = None, data_root=None, num_frames: int = 16, seed: int = 0) -> Benchmark:
    """A Q-Spatial-Bench parquet file as a Benchmark (frames and seed do not apply).

    The default name is the subset (`QSpatial_plus` / `QSpatial_scannet`) the file name, its folder or its
    image paths name. A file holding both subsets keeps the rows whose `image_path` contains the subset
    `name` names (as the authors' loader does), re-indexed from 0.

    Raises:
        BenchmarkFormatError: not a parquet file, a missing column, a malformed row (naming file, row and
            column), an image file not found, or both subsets in the file without a subset name.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    columns = _columns(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if "image" not in columns and "image_path" not in columns:
        missing.append("image")
    if missing:
        raise BenchmarkFormatError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} (columns: {', '.join(columns)})"
        )
    rows = pq.read_table(path, columns=[c for c in COLUMNS if c in columns]).to_pylist()
    subsets = {s for s in (subset_of(r.get("image_path")) for r in rows) if s}
    name = name or default_name(path, subsets)
    numbered = list(enumerate(rows, 1))
    if len(subsets) > 1:  # the authors' single "train" split: keep the named subset's rows
        chosen = subset_of(name)
        if chosen is None:
            raise BenchmarkFormatError(
                f"{path}: holds rows of {' and '.join(sorted(subsets))}; name the subset, "
                f"e.g. qspatial:{path}:{SUBSETS[0]}"
            )
        numbered = [(n, r) for n, r in numbered if chosen in (r.get("image_path") or "")]
    if not numbered:
        raise BenchmarkFormatError(f"{path}: no rows")
    bases = ([Path(data_root)] if data_root else []) + [path.parent, path.parent.parent]
    items = [_row_item(row, n, index, name, path, bases) for index, (n, row) in enumerate(numbered)]
    return Benchmark(name=name, items=items, source=str(path), rules=RULES)


def sniff(path, keys: set[str] | None) -> bool:
    """A bare `.parquet` path is Q-Spatial-Bench when its columns include question, answer_value and answer_unit."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        return False
    if keys is None:
        try:
            keys = set(_columns(path))
        except BenchmarkFormatError:
            return False
    return set(REQUIRED_COLUMNS) <= keys


register_benchmark(
    BenchmarkRules(
        paper_cot_prompt="",  # their copy leaves QSpatial with its own prompt (vlm/base.py comment)
        name=RULES,
        follows=(
            "open-compass/VLMEvalKit vlmeval/dataset/image_vqa.py QSpatial (no judge) @ e8e78f05 (2026-08-18); "
            "prompts: andrewliao11/Q-Spatial-Bench-code prompt_templates @ ebe8137e"
        ),
        paper_differences=(
            "InternLM/Spatial-SSRL evaluation/Remaining_Bench_eval image_vqa.py QSpatial @ b313fedf: boxed{ is "
            "rewritten to scalar{, the unit falls back to unit{...} then any {...}, units are stripped; rows "
            "selected by image_path from one split; prompt files unpublished (official ones used)"
        ),
        dataset_names=(RULES, *SUBSETS),
        question=question,
        score=score,
        summarize=summarize,
        prepare=prepare,
        answer_style="number_unit",
        spec_kinds=("qspatial",),
        read=read,
        sniff=sniff,
    )
)
