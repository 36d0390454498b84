"""The builder writes only into an empty or new folder, or one holding its own build with the same settings."""

from __future__ import annotations

import pytest

from spatial_ssrl.dataset.builder import BuildConfig, BuildInputError, BuildMismatch, OutputNotEmpty, build
from spatial_ssrl.dataset.schema import shard_paths
from spatial_ssrl.sources.discover import synthetic


def _config(out, **kw):
    return BuildConfig(out, samples_per_task=1, tasks=["flip"], preview=False, **kw)


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "project"
    out.mkdir()
    (out / "README.md").write_text("# mine\n")
    (out / "preview.html").write_text("<p>mine</p>")
    for i in range(7):
        (out / f"notes{i}.txt").write_text("x")
    with pytest.raises(OutputNotEmpty) as info:
        build(_config(out), synthetic(1, (160, 120)))
    text = str(info.value)
    assert isinstance(info.value, BuildMismatch) and "\n" not in text
    assert "README.md" in text and ", ..." in text and "empty or new folder" in text
    assert (out / "README.md").read_text() == "# mine\n" and (out / "preview.html").read_text() == "<p>mine</p>"
    assert not (out / "data").exists() and not (out / "_progress").exists()


def test_a_file_as_the_output_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep")
    with pytest.raises(OutputNotEmpty, match="is a file"):
        build(_config(target), synthetic(1, (160, 120)))
    assert target.read_text() == "keep"


def test_empty_new_and_interrupted_first_runs_are_accepted(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    build(_config(empty), synthetic(1, (160, 120)))
    assert shard_paths(empty)
    interrupted = tmp_path / "interrupted"
    (interrupted / "_progress").mkdir(parents=True)  # a first run killed before it wrote its record
    build(_config(interrupted), synthetic(1, (160, 120)))
    assert shard_paths(interrupted)
    build(_config(tmp_path / "new" / "nested"), synthetic(1, (160, 120)))
    # its own build with the same settings: resumed (here: nothing to do)
    stats = build(_config(empty), synthetic(1, (160, 120)))
    assert stats["samples"] == 1 and stats["redone_shard_count"] == 0


def test_discovery_skips_are_copied_into_the_stats(tmp_path):
    skips = {"photos": {"unsupported format": 2}}
    stats = build(_config(tmp_path / "o"), synthetic(1, (160, 120)), discovery_skips=skips)
    assert stats["discovery_skips"] == skips
    with pytest.raises(BuildInputError, match="discovery_skips"):
        build(_config(tmp_path / "p"), synthetic(1, (160, 120)), discovery_skips={"photos": 2})
    assert not (tmp_path / "p").exists()
