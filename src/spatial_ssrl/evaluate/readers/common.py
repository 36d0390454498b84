"""Helpers every reader shares: row-naming errors, base64 images, file lookup, option parsing."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from spatial_ssrl.evaluate.items import BenchmarkFormatError

LETTERS = "ABCDEFGH"  # option letters, in order; a question with more options is rejected
_OPTION_LINE = re.compile(r"^\s*\(?([A-H])[.):]\s*(.*?)\s*$")


def fail(source: str | Path, where: str, message: str) -> BenchmarkFormatError:
    """An error that names the file and the row: `file.tsv, row 3 (index 12): ...`."""
    return BenchmarkFormatError(f"{source}, {where}: {message}")


def decode_base64_image(value: str, source: str | Path, where: str, column: str = "image") -> bytes:
    """Encoded image bytes from a base64 string, checked to be a readable image."""
    text = "".join(value.split())
    if text.startswith("data:") and "," in text:  # a data URL
        text = text.split(",", 1)[1]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise fail(source, where, f"column {column!r} is not valid base64 ({err})") from None
    check_image_bytes(data, source, where, column)
    return data


def check_image_bytes(data: bytes, source: str | Path, where: str, column: str = "image") -> None:
    """Check that `data` is an image PIL can read (its header only).

    Raises:
        BenchmarkFormatError: it is not, naming `source`, `where` and `column`.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.size  # noqa: B018 - the header parse is the check
    except (UnidentifiedImageError, OSError) as err:
        raise fail(source, where, f"column {column!r} does not hold an image ({err})") from None


def resolve_file(rel: str, bases: list[Path], source: str | Path, where: str, what: str = "image") -> Path:
    """The first existing file among base/rel for each base, also trying rel without its leading
    folders (benchmarks store paths relative to wherever their authors unpacked them). An absolute path
    that exists is used as it is; one that does not (a path on the authors' machine, as in VSI-Bench's
    `mp4_path` or a localized TSV) is looked up by its trailing parts the same way.

    Raises:
        BenchmarkFormatError: no base holds the file, naming `source`, `where` and the bases tried.
    """
    p = Path(rel)
    if p.is_absolute() and p.is_file():
        return p
    parts = p.parts[1:] if p.is_absolute() else p.parts
    for k in range(len(parts)):
        tail = Path(*parts[k:])
        for base in bases:
            if (base / tail).is_file():
                return base / tail
    tried = ", ".join(str(b) for b in bases)
    raise fail(source, where, f"{what} file {rel!r} not found under {tried} (pass --data-root)")


def parse_options_field(value, source: str | Path, where: str) -> dict[str, str]:
    """Options written as a dict, a list (`["A. left", ...]` or plain texts lettered in order), or one
    string of `A. left` lines. Returns letter -> text."""
    if value is None or value == "" or value == []:
        return {}
    if isinstance(value, str):
        s = value.strip()
        if s.startswith(("[", "{")):
            try:
                return parse_options_field(json.loads(s), source, where)
            except json.JSONDecodeError:
                pass
        value = [line for line in s.splitlines() if line.strip()]
    if isinstance(value, dict):
        return {str(k).strip().upper(): str(v).strip() for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) > len(LETTERS):
            raise fail(source, where, f"{len(value)} options, at most {len(LETTERS)} are supported")
        texts = [str(v).strip() for v in value]
        matches = [_OPTION_LINE.match(t) for t in texts]
        if all(matches):
            letters = [m.group(1) for m in matches]
            if len(set(letters)) == len(letters):
                return {m.group(1): m.group(2) for m in matches}
        return {LETTERS[i]: t for i, t in enumerate(texts)}
    raise fail(source, where, f"cannot read options of type {type(value).__name__}")


def answer_letter(answer: str, options: dict[str, str], source: str | Path, where: str) -> str:
    """The option letter of a reference answer given as `B`, `(B)`, `B. left` or the option's text."""
    s = str(answer).strip()
    m = _OPTION_LINE.match(s)
    if len(s) == 1 and s.isalpha():
        letter = s.upper()
    elif m:
        letter = m.group(1)
    else:
        by_text = [k for k, v in options.items() if v.strip().casefold() == s.casefold()]
        if len(by_text) != 1:
            raise fail(source, where, f"answer {s!r} is neither an option letter nor one option's text")
        letter = by_text[0]
    if letter not in options:
        raise fail(source, where, f"answer letter {letter!r} is not one of the options {', '.join(options)}")
    return letter


def read_records(path: Path) -> list[dict]:
    """Records from a JSON list (or {"data": [...]}), JSON Lines, or a parquet file."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise fail(path, f"line {n}", f"not valid JSON ({err})") from None
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise BenchmarkFormatError(f"{path}: not valid JSON ({err})") from None
    if isinstance(data, dict):
        for key in ("data", "questions", "annotations", "items"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise BenchmarkFormatError(f"{path}: expected a JSON list of records (objects)")
    return data


def first_field(record: dict, names: tuple[str, ...]):
    """The value of the first of `names` the record has (field-name aliases across releases)."""
    for name in names:
        if name in record and record[name] is not None:
            return record[name]
    return None
