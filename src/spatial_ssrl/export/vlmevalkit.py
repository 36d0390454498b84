"""VLMEvalKit export: TSV files for evaluating the pretext tasks as custom datasets.

Columns: `index` (int, per file), `image` (base64 of the encoded image; for a multi-image sample a
JSON list of base64 strings, which VLMEvalKit parses into a list), `image_path` (file names VLMEvalKit
saves the decoded images under, always `.png` so its save is lossless; a JSON list for a multi-image
row), `question` (the problem without `<image>` placeholders and without its option lines; for
multi-image samples it ends with a line saying which image is which option), `A`..`D` (option texts),
`answer` (letter, or the canonical answer string), `category` (task), `l2-category` (variant), `split`,
`answer_type`, `id`.

Cells a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return)
get a leading `'` (`common.neutralise_formula`) in every column except RAW_COLUMNS, which VLMEvalKit
parses and we build ourselves (`index`: our integer; `image`: base64, whose alphabet cannot spell a
function call; `image_path`: safe file names). Carriage returns in text become newlines: `csv` does not
quote a cell holding only a CR, and every reader would end the row there. Task names, variants,
canonical answers and generated questions never start with those characters, so ordinary TSVs are
unchanged; an id made from a file name such as `-x.jpg` gets the quote. docs/exports.md explains the choice.
Image file names in `image_path` are built from the split name made safe (`dataset.paths.safe_component`),
as VLMEvalKit writes the decoded images under those names (`os.path.join(img_root, name)`).

Per split three files are written:
- `spatial_ssrl_{split}.tsv`: every task; `A`..`D` empty for the ordering tasks.
- `spatial_ssrl_{split}_mcq.tsv`: choice tasks only (crop, position). VLMEvalKit treats a custom TSV
  with `A` and `B` columns as a multiple-choice dataset and scores it itself.
- `spatial_ssrl_{split}_open.tsv`: the other tasks (shuffle, flip, depth_order), without option
  columns, so VLMEvalKit treats it as an open VQA dataset: it runs inference, but its custom VQA class
  does not score; score the predictions with `spatial_ssrl.rewards.score` (answer_type is a column).
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from typing import Any

from spatial_ssrl.contract import image_names, parse_options
from spatial_ssrl.dataset.paths import confined, safe_component
from spatial_ssrl.export.common import (
    atomic_open,
    check_placeholders,
    neutralise_formula,
    question_without_options,
    rows_of,
)
from spatial_ssrl.export.common import splits_present as _splits_present

LETTERS = ("A", "B", "C", "D")  # the option columns; a sample with more options cannot be exported
# A TSV's columns: BASE_COLUMNS, then the option letters (not in the open file), then TAIL_COLUMNS.
BASE_COLUMNS = ["index", "image", "image_path", "question"]
TAIL_COLUMNS = ["answer", "category", "l2-category", "split", "answer_type", "id"]
ALL_COLUMNS = BASE_COLUMNS + list(LETTERS) + TAIL_COLUMNS
"""Columns of the all-task and multiple-choice files."""
OPEN_COLUMNS = BASE_COLUMNS + TAIL_COLUMNS
"""Columns of the open file: no option columns, so VLMEvalKit treats it as open VQA."""
# Parsed back by VLMEvalKit (`index` as an int, `image` as base64 or a list literal, `image_path` as
# file names or a list literal): never neutralised. We write all three ourselves, none from row text.
RAW_COLUMNS = ("index", "image", "image_path")


def convert(row: dict, index: int) -> dict:
    """One TSV record (every column of ALL_COLUMNS) from a dataset row, formula-like text neutralised.

    Args:
        row: a dataset row.
        index: the row's position in its split; names the image files in `image_path` (each TSV file
            numbers its own `index` column).

    Raises:
        ValueError: more options than LETTERS, or image placeholders that do not match the images.
    """
    check_placeholders(row)
    options = parse_options(row["options"]) or {}
    if len(options) > len(LETTERS):
        raise ValueError(f"{row['id']}: {len(options)} options, VLMEvalKit columns hold A-D")
    question, option_images = question_without_options(row["problem"], options)
    images = row["images"]
    if len(images) > 1:
        given = image_names(row) or []  # a video task names its frames (clip 2, frame 1)
        names = {k: given[k - 1] if k <= len(given) else "the picture" for k in range(1, len(images) + 1)}
        names.update({k: f"option {letter}" for k, letter in option_images})
        question += "\nThe images are, in order: " + ", ".join(f"image {k} is {v}" for k, v in names.items()) + "."
    b64 = [base64.b64encode(im["bytes"]).decode("ascii") for im in images]
    # VLMEvalKit decodes each image and saves it under these names with PIL, which picks the format from
    # the extension: `.png` keeps the pixels the answer was made from (a `.jpg` name re-encoded every
    # image at PIL's default JPEG quality, median 34 dB PSNR). The split (a row value) must not hold a path.
    split = safe_component(row["split"])
    paths = [f"spatial_ssrl_{split}_{index}_{k}.png" for k in range(len(images))]
    record = {
        "index": index,
        "image": b64[0] if len(b64) == 1 else json.dumps(b64),
        "image_path": paths[0] if len(paths) == 1 else json.dumps(paths),
        "question": question,
        "answer": row["answer"],
        "category": row["task"],
        "l2-category": row["variant"],
        "split": row["split"],
        "answer_type": row["answer_type"],
        "id": row["id"],
    }
    record.update({letter: options.get(letter, "") for letter in LETTERS})
    return {k: v if k in RAW_COLUMNS else _text_cell(v) for k, v in record.items()}


def _text_cell(value: Any) -> Any:
    """A text cell made safe for a TSV: formula-like text neutralised, carriage returns made newlines
    (csv quotes a cell holding a newline, but not one holding only a carriage return, which readers
    take as the end of the row: a crafted text could otherwise add rows and columns)."""
    value = neutralise_formula(value)
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class _TsvSink:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns, self.count = path, columns, 0
        self._ctx = atomic_open(path, "w", newline="", encoding="utf-8")
        fh = self._ctx.__enter__()
        self._writer = csv.DictWriter(
            fh, fieldnames=columns, delimiter="\t", lineterminator="\n", extrasaction="ignore"
        )
        self._writer.writeheader()

    def add(self, record: dict) -> None:
        """Append one row to the TSV."""
        self._writer.writerow({**record, "index": self.count})
        self.count += 1

    def close(self, exc: BaseException | None = None) -> Path:
        """Finish the file (renamed into place by the caller on success)."""
        if exc is None:
            self._ctx.__exit__(None, None, None)
        else:
            self._ctx.__exit__(type(exc), exc, exc.__traceback__)
        return self.path


def write(dataset_dir: Path, out_dir: Path, splits: tuple[str, ...], format_prompt: str | None = None) -> list[Path]:
    """`format_prompt` is ignored: VLMEvalKit builds its own prompt from `question` and `A`..`D`.

    Raises:
        ValueError: a split that is not one of SPLITS; a row that `convert` rejects.
        UnsafePath: an output file would resolve outside `out_dir` (a symbolic link out of it).
    """
    written: list[Path] = []
    for split in _splits_present(dataset_dir, splits):
        sinks = {
            "all": _TsvSink(confined(out_dir, out_dir / f"spatial_ssrl_{split}.tsv"), ALL_COLUMNS),
            "mcq": _TsvSink(confined(out_dir, out_dir / f"spatial_ssrl_{split}_mcq.tsv"), ALL_COLUMNS),
            "open": _TsvSink(confined(out_dir, out_dir / f"spatial_ssrl_{split}_open.tsv"), OPEN_COLUMNS),
        }
        try:
            for index, row in enumerate(rows_of(dataset_dir, split)):
                record = convert(row, index)
                sinks["all"].add(record)
                sinks["mcq" if row["answer_type"] == "choice" else "open"].add(record)
        except BaseException as err:
            for sink in sinks.values():
                sink.close(err)
            raise
        written.extend(sink.close() for sink in sinks.values())
    return written
