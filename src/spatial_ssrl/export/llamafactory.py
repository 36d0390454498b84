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

Video tasks: by default their frames are images like any other. With `video="native"` each clip becomes one
`<video>` placeholder and one entry of a `videos` column: a list of frame files, which LLaMA-Factory takes
as an already sampled video (`mm_plugin._check_video_is_nested_images`; `converter._find_medias` resolves
each frame against `media_dir`), and the dataset_info entry maps `"videos": "videos"`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from spatial_ssrl.contract import resolve_format_prompt, with_format_prompt
from spatial_ssrl.dataset.coldstart import has_template, response_for
from spatial_ssrl.dataset.paths import confined, safe_component
from spatial_ssrl.export.common import (
    MediaDir,
    atomic_open,
    check_placeholders,
    check_video_mode,
    image_ext,
    rows_of,
    splits_present,
    tmp_path,
    video_prompt,
)

COLUMNS = {"prompt": "instruction", "query": "input", "response": "output", "images": "images"}
"""LLaMA-Factory's alpaca column role -> our record key (the `columns` of a dataset_info entry)."""
INFO_FILE = "dataset_info.json"  # LLaMA-Factory's dataset registry, read from `dataset_dir`


def dataset_entry(name: str, video: bool = False) -> dict:
    """The `dataset_info.json` entry of the alpaca file `<name>.json` (with a `videos` column if `video`)."""
    columns = {**COLUMNS, "videos": "videos"} if video else dict(COLUMNS)
    return {"file_name": f"{name}.json", "formatting": "alpaca", "columns": columns}


def update_dataset_info(out_dir: Path, names: list[str], video: bool = False) -> Path:
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
    info.update({name: dataset_entry(name, video) for name in names})
    with atomic_open(path) as fh:
        json.dump(info, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return path


class AlpacaWriter:
    """Stream alpaca records and their image (and video frame) files. Files go to `images/<name>.tmp/` and the
    JSON to `<name>.json.tmp`; `commit()` swaps both into place (replacing an earlier export of that name).
    With `video="native"`, a video task's clips become `<video>` placeholders and `videos` entries (lists of
    frame files, which LLaMA-Factory takes as already sampled videos)."""

    def __init__(self, out_dir: Path, name: str, format_prompt: str | None = None, video: str = "frames") -> None:
        """Raises ValueError for a `name` that is not a plain file name (`dataset.paths.safe_component`) or an
        unknown video mode, and UnsafePath if the files would resolve outside `out_dir` (a symbolic link out)."""
        if safe_component(name) != name:
            raise ValueError(f"dataset name {name!r} is not a plain file name (letters, digits, ._+-)")
        check_video_mode(video, "llamafactory", native=True)
        self.out_dir, self.name, self.video = Path(out_dir), name, video
        self.format_prompt = resolve_format_prompt(format_prompt)
        confined(self.out_dir, self.out_dir / "images")
        self.json_path = self.out_dir / f"{name}.json"
        self.media = MediaDir(self.out_dir, f"images/{name}")
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
        paths = [
            self.media.write(f"{self.count:07d}_{k}.{image_ext(image)}", image["bytes"])
            for k, image in enumerate(row["images"])
        ]
        record = {"instruction": with_format_prompt(row["problem"], self.format_prompt), "input": "", "output": output}
        if self.video == "native":
            problem, kept, groups = video_prompt(row)
            record["instruction"] = with_format_prompt(problem, self.format_prompt)
            record.update(images=[paths[k] for k in kept], videos=[[paths[k] for k in g] for g in groups])
        else:
            record["images"] = paths
        record["id"] = row["id"]
        self._fh.write(("\n" if self.count == 0 else ",\n") + json.dumps(record, ensure_ascii=False))
        self.count += 1

    def commit(self) -> Path:
        """Close the JSON list and move the JSON file and image folder into place; returns the JSON path."""
        self._fh.write("\n]\n")
        self._fh.close()
        self.media.commit()
        os.replace(tmp_path(self.json_path), self.json_path)
        return self.json_path

    def abort(self) -> None:
        """Delete the temporary JSON file and image folder; an earlier export of this name is kept."""
        self._fh.close()
        tmp_path(self.json_path).unlink(missing_ok=True)
        self.media.abort()

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
    video: str = "frames",
) -> list[Path]:
    """One alpaca file per split; `output` comes from `responder(row)` (default: the task's cold-start
    template; rows of a task without one are skipped, with a warning giving the count per task). `video`:
    a video task's clips as images ("frames") or as `videos` entries ("native")."""
    skipped: Counter = Counter()
    written: list[Path] = []
    names = []
    for split in splits_present(dataset_dir, splits):
        name = f"spatial_ssrl_{split}"
        with AlpacaWriter(out_dir, name, format_prompt, video) as writer:
            for row in rows_of(dataset_dir, split):
                if responder is None and not has_template(row["task"]):
                    skipped[row["task"]] += 1
                    continue
                writer.add(row, (responder or response_for)(row))
            written.append(writer.commit())
        names.append(name)
    if names:
        written.append(update_dataset_info(out_dir, names, video == "native"))
    if skipped:
        warnings.warn(
            f"llamafactory export: skipped rows of tasks without a cold-start template: {dict(skipped)}", stacklevel=2
        )
    return written
