"""Video tasks in every export: frames as images by default, and each trainer's own video field with --video native.

The native layouts are checked against rules read from the trainers' current loaders (docs/exports.md cites
the files and commits): one `<video>` per clip; LLaMA-Factory takes a list of frame files as one video and
resolves them against `media_dir`; EasyR1 reads `images` whenever that column exists, so a video file has
none; verl wants `{"video": [...]}` per clip and asserts as many clips as placeholders.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from spatial_ssrl.contract import video_groups
from spatial_ssrl.dataset.schema import read_rows
from spatial_ssrl.export import export
from spatial_ssrl.export.common import VIDEO, video_prompt
from tests.fixtures.datasets import make_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("ds"))


@pytest.fixture(scope="module")
def rows(dataset) -> dict[str, dict]:
    return {r["id"]: r for r in read_rows(dataset)}


def _clip_rows(rows: dict[str, dict], split: str = "train") -> dict[str, dict]:
    return {i: r for i, r in rows.items() if r["split"] == split and video_groups(r)}


def _frames(row: dict, group: list[int]) -> list[bytes]:
    return [row["images"][k]["bytes"] for k in group]


def test_the_fixture_has_clips(rows):
    clip_rows = _clip_rows(rows)
    assert {r["task"] for r in clip_rows.values()} >= {"clip_order"}


def test_video_prompt_turns_each_clip_into_one_placeholder(rows):
    for row in _clip_rows(rows).values():
        problem, kept, groups = video_prompt(row)
        assert problem.count(VIDEO) == len(groups) and problem.count("<image>") == len(kept)
        assert sorted(kept + [i for g in groups for i in g]) == list(range(len(row["images"])))
    bad = dict(next(iter(_clip_rows(rows).values())))
    bad["problem"] = bad["problem"].replace("<image><image>", "<image> and <image>", 1)
    with pytest.raises(ValueError, match="not a run of adjacent"):
        video_prompt(bad)


def test_llamafactory_native(dataset, rows, tmp_path):
    out = tmp_path / "lf"
    export(dataset, "llamafactory", out, splits=("train",), video="native")
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["spatial_ssrl_train"]["columns"]["videos"] == "videos"
    records = {r["id"]: r for r in json.loads((out / "spatial_ssrl_train.json").read_text())}
    clip_rows = _clip_rows(rows)
    for rid, row in rows.items():
        if row["split"] != "train" or rid not in records:
            continue
        rec = records[rid]
        # "The number of videos does not match the number of <video> tokens" otherwise.
        assert rec["instruction"].count(VIDEO) == len(rec["videos"])
        assert rec["instruction"].count("<image>") == len(rec["images"])
        if rid in clip_rows:
            groups = video_groups(row)
            assert len(rec["videos"]) == len(groups)
            for paths, group in zip(rec["videos"], groups):
                # _check_video_is_nested_images: a list of frames; _find_medias joins media_dir onto each.
                assert isinstance(paths, list) and all(isinstance(p, str) for p in paths)
                assert [(out / p).read_bytes() for p in paths] == _frames(row, group)
        else:
            assert rec["videos"] == [] and len(rec["images"]) == len(row["images"])


@pytest.mark.parametrize("fmt", ["easyr1", "verl"])
def test_easyr1_and_verl_native_write_a_video_file_without_images(dataset, rows, tmp_path, fmt):
    out = tmp_path / fmt
    files = export(dataset, fmt, out, splits=("train",), video="native")
    video_file = out / "train-video.parquet"
    assert video_file in files and (out / "train.parquet") in files
    table = pq.read_table(video_file)
    assert "images" not in table.column_names  # EasyR1: `if self.image_key in example` would win
    main_rows = pq.read_table(out / "train.parquet").to_pylist()
    image_ids = {r["id"] if fmt == "easyr1" else r["extra_info"]["id"] for r in main_rows}
    clip_rows = _clip_rows(rows)
    seen = set()
    for rec in table.to_pylist():
        rid = rec["id"] if fmt == "easyr1" else rec["extra_info"]["id"]
        seen.add(rid)
        row = clip_rows[rid]
        groups = video_groups(row)
        if fmt == "easyr1":
            text, clips = rec["problem"], rec["videos"]
        else:  # verl: re.split("(<image>|<video>)") and one dict with "video" per placeholder
            (message,) = rec["prompt"]
            text, clips = message["content"], [v["video"] for v in rec["videos"]]
            assert sum(p == VIDEO for p in re.split("(<image>|<video>)", text)) == len(clips)
        assert text.count(VIDEO) == len(clips) == len(groups) and "<image>" not in text
        for paths, group in zip(clips, groups):
            assert all(Path(p).is_absolute() for p in paths)  # image_dir is not joined onto frame lists
            assert [Path(p).read_bytes() for p in paths] == _frames(row, group)
    assert seen == set(clip_rows) and not seen & image_ids


@pytest.mark.parametrize("fmt", ["trl", "vlmevalkit"])
def test_formats_without_video_input_refuse_native(dataset, tmp_path, fmt):
    with pytest.raises(ValueError, match="has no video input"):
        export(dataset, fmt, tmp_path / fmt, video="native")


def test_default_frames_mode_writes_no_video_files(dataset, tmp_path):
    out = tmp_path / "easyr1"
    files = export(dataset, "easyr1", out, splits=("train",))
    assert not (out / "train-video.parquet").exists() and not (out / "frames").exists()
    assert all("video" not in f.name for f in files)


def test_cli_video_flag(dataset, tmp_path, capsys):
    from spatial_ssrl.cli import main

    assert main(["export", str(dataset), "verl", str(tmp_path / "v"), "--video", "native"]) == 0
    assert (tmp_path / "v" / "train-video.parquet").exists()
    assert main(["export", str(dataset), "trl", str(tmp_path / "t"), "--video", "native"]) != 0
    assert "has no video input" in capsys.readouterr().err


@pytest.mark.parametrize("videos", [[[0, 99]], [[-1]], "not a list", [[]], [["0"]], [[0], [0]]])
def test_crafted_clip_groups_are_refused_with_the_row_id(rows, videos):
    row = dict(next(iter(_clip_rows(rows).values())))
    row["meta"] = json.dumps({**json.loads(row["meta"]), "videos": videos})
    with pytest.raises(ValueError, match=row["id"]):
        video_prompt(row)


def test_meta_nested_too_deeply_reads_as_no_clips(rows):
    row = dict(next(iter(_clip_rows(rows).values())))
    row["meta"] = "[" * 100_000 + "]" * 100_000
    assert video_groups(row) == []
