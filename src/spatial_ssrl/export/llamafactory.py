"""LLaMA-Factory export: alpaca JSON with image files on disk and a `dataset_info.json` entry.

Per split, `spatial_ssrl_{split}.json` is a JSON list of records
`{"instruction", "input", "output", "images", "id"}`: `instruction` is the problem (one `<image>`
placeholder per image, in order) followed by the format instruction, `input` is "", `output` is a
response (by default the cold-start template of `spatial_ssrl.dataset.coldstart.response_for`), `images` are
paths relative to the export folder, written under `images/spatial_ssrl_{split}/`. `dataset_info.json`
gets one entry per file, merged into any entries already there:

    "spatial_ssrl_train": {"file_name": "spatial_ssrl_train.json", "formatting": "alpaca",
                           "columns": {"prompt": "instruction", "query": "input",
                                       "response": "output", "images": "images"}}

Use it with `dataset_dir: <export folder>` and `dataset: spatial_ssrl_train` (LLaMA-Factory resolves
image paths against `media_dir`, which defaults to `dataset_dir`).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from spatial_ssrl.contract import resolve_format_prompt, with_format_prompt
from spatial_ssrl.dataset.coldstart import has_template, response_for
from spatial_ssrl.dataset.paths import confined, safe_component
from spatial_ssrl.export.common import atomic_open, check_placeholders, image_ext, rows_of, splits_present, tmp_path

COLUMNS = {"prompt": "instruction", "query": "input", "response": "output", "images": "images"}
"""LLaMA-Factory's alpaca column role -> our record key (the `columns` of a dataset_info entry)."""
INFO_FILE = "dataset_info.json"  # LLaMA-Factory's dataset registry, read from `dataset_dir`


def dataset_entry(name: str) -> dict:
    """The `dataset_info.json` entry of the alpaca file `<name>.json`."""
    return {"file_name": f"{name}.json", "formatting": "alpaca", "columns": dict(COLUMNS)}


def update_dataset_info(out_dir: Path, names: list[str]) -> Path:
    """Add (or refresh) one entry per dataset name in `out_dir/dataset_info.json`, keeping the others.

    Raises:
        ValueError: the existing file is not a JSON object (named, so it can be fixed or removed).
    """
    path = Path(out_dir) / INFO_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err}); fix or remove it") from None
    if not isinstance(info, dict):
        raise ValueError(f"{path}: not a JSON object of dataset entries; fix or remove it")
    info.update({name: dataset_entry(name) for name in names})
    with atomic_open(path) as fh:
        json.dump(info, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return path


class AlpacaWriter:
    """Stream alpaca records and their image files. Images go to `images/<name>.tmp/` and the JSON to
    `<name>.json.tmp`; `commit()` swaps both into place (replacing an earlier export of that name)."""

    def __init__(self, out_dir: Path, name: str, format_prompt: str | None = None) -> None:
        """Raises ValueError for a `name` that is not a plain file name (`dataset.paths.safe_component`),
        and UnsafePath if the files would resolve outside `out_dir` (a symbolic link out of it)."""
        if safe_component(name) != name:
            raise ValueError(f"dataset name {name!r} is not a plain file name (letters, digits, ._+-)")
        self.out_dir, self.name = Path(out_dir), name
        self.format_prompt = resolve_format_prompt(format_prompt)
        # The folders are checked; the entries we create in them are ours to replace (a link planted
        # under one of our names is removed, never followed).
        images = confined(self.out_dir, self.out_dir / "images")
        self.json_path = self.out_dir / f"{name}.json"
        self.image_dir = images / name
        self._image_tmp = tmp_path(self.image_dir)
        if self._image_tmp.is_symlink() or self._image_tmp.is_file():
            self._image_tmp.unlink()  # not a folder of ours: remove the entry, never what it points to
        elif self._image_tmp.exists():
            shutil.rmtree(self._image_tmp)  # left over by an interrupted run of ours
        self._image_tmp.mkdir(parents=True)
        tmp_path(self.json_path).unlink(missing_ok=True)
        self._fh = open(tmp_path(self.json_path), "x", encoding="utf-8")  # noqa: SIM115 (closed in commit/abort)
        self._fh.write("[")
        self.count = 0

    def add(self, row: dict, output: str) -> None:
        """Write the row's images and append its record, with `output` as the response.

        Raises:
            ValueError: the problem's image placeholders do not match its images.
        """
        check_placeholders(row)
        rel_paths = []
        for k, image in enumerate(row["images"]):
            file_name = f"{self.count:07d}_{k}.{image_ext(image)}"
            (self._image_tmp / file_name).write_bytes(image["bytes"])
            rel_paths.append(f"images/{self.name}/{file_name}")
        record = {
            "instruction": with_format_prompt(row["problem"], self.format_prompt),
            "input": "",
            "output": output,
            "images": rel_paths,
            "id": row["id"],
        }
        self._fh.write(("\n" if self.count == 0 else ",\n") + json.dumps(record, ensure_ascii=False))
        self.count += 1

    def commit(self) -> Path:
        """Close the JSON list and move the JSON file and image folder into place; returns the JSON path."""
        self._fh.write("\n]\n")
        self._fh.close()
        if self.image_dir.is_symlink() or self.image_dir.is_file():
            self.image_dir.unlink()
        elif self.image_dir.exists():
            shutil.rmtree(self.image_dir)
        os.replace(self._image_tmp, self.image_dir)
        os.replace(tmp_path(self.json_path), self.json_path)
        return self.json_path

    def abort(self) -> None:
        """Delete the temporary JSON file and image folder; an earlier export of this name is kept."""
        self._fh.close()
        tmp_path(self.json_path).unlink(missing_ok=True)
        shutil.rmtree(self._image_tmp, ignore_errors=True)

    def __enter__(self) -> AlpacaWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def write(
    dataset_dir: Path,
    out_dir: Path,
    splits: tuple[str, ...],
    format_prompt: str | None = None,
    responder: Callable[[dict], str] | None = None,
) -> list[Path]:
    """One alpaca file per split; `output` comes from `responder(row)` (default: the task's cold-start
    template; rows of a task without one are skipped, with a warning giving the count per task)."""
    skipped: Counter = Counter()
    written: list[Path] = []
    names = []
    for split in splits_present(dataset_dir, splits):
        name = f"spatial_ssrl_{split}"
        with AlpacaWriter(out_dir, name, format_prompt) as writer:
            for row in rows_of(dataset_dir, split):
                if responder is None and not has_template(row["task"]):
                    skipped[row["task"]] += 1
                    continue
                writer.add(row, (responder or response_for)(row))
            written.append(writer.commit())
        names.append(name)
    if names:
        written.append(update_dataset_info(out_dir, names))
    if skipped:
        warnings.warn(
            f"llamafactory export: skipped rows of tasks without a cold-start template: {dict(skipped)}", stacklevel=2
        )
    return written
