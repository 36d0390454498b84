"""BuildConfig refuses values a build cannot use, at construction, with one line naming the field."""

from __future__ import annotations

import math

import pytest

from spatial_ssrl.dataset.builder import build
from spatial_ssrl.dataset.config import (
    JPEG_QUALITY_RANGE,
    MAX_ROW_GROUP_BYTES,
    MAX_WORKERS,
    MIN_MAX_SIDE,
    MIN_SHARD_BYTES,
    BuildConfig,
    BuildConfigError,
)
from spatial_ssrl.sources.discover import synthetic

BAD = [
    ({"total": -5}, "total (--total) must be >= 1"),
    ({"total": 0}, "total (--total) must be >= 1"),
    ({"total": 2.5}, "total (--total) must be an integer"),
    ({"total": True}, "total (--total) must be an integer"),
    ({"samples_per_task": -1}, "samples_per_task (--per-task) must be >= 0"),
    ({"samples_per_task": 10**9}, "samples_per_task (--per-task) must be <="),
    ({"samples_per_shard": 0}, "samples_per_shard (--shard-size) must be >= 1"),
    ({"workers": 0}, "workers (--workers) must be >= 1"),
    ({"workers": MAX_WORKERS + 1}, f"workers (--workers) must be <= {MAX_WORKERS}"),
    ({"max_side": MIN_MAX_SIDE - 1}, f"max_side (--max-side) must be >= {MIN_MAX_SIDE}"),
    ({"jpeg_quality": 0}, f"jpeg_quality must be >= {JPEG_QUALITY_RANGE[0]}"),
    ({"jpeg_quality": 100}, f"jpeg_quality must be <= {JPEG_QUALITY_RANGE[1]}"),
    ({"max_attempts": 0}, "max_attempts must be >= 1"),
    ({"max_topup_rounds": -1}, "max_topup_rounds must be >= 0"),
    ({"seed": "7"}, "seed (--seed) must be an integer"),
    ({"splits": {"train": 0.0}}, "splits (--splits) needs at least one positive weight"),
    ({"splits": {"train": -1.0, "test": 2.0}}, "splits (--splits) needs a finite weight >= 0 for 'train'"),
    ({"splits": {"train": math.nan}}, "splits (--splits) needs a finite weight >= 0 for 'train'"),
    ({"splits": {"train": math.inf}}, "splits (--splits) needs a finite weight >= 0 for 'train'"),
    ({"splits": {"trian": 1.0}}, "splits (--splits) names the unknown split 'trian'"),
    ({"splits": {}}, "splits (--splits) must be a non-empty mapping"),
    ({"task_mix": {"shuffle": math.inf}}, "task_mix (--mix) needs a finite weight >= 0 for 'shuffle'"),
    ({"task_mix": {"shuffle": -1.0}}, "task_mix (--mix) needs a finite weight >= 0 for 'shuffle'"),
    ({"task_mix": {"shuffle": 0.0, "flip": 0.0}}, "task_mix (--mix) needs at least one positive weight"),
    ({"task_mix": {"shufle": 1.0}}, "task_mix (--mix) names the unknown task 'shufle'"),
    ({"tasks": []}, "tasks (--tasks) must be a non-empty list"),
    ({"tasks": ["flip", "flip"]}, "tasks (--tasks) lists a task twice"),
    ({"variant_weights": {"flip": {"vertical": math.nan}}}, "variant_weights needs a finite weight"),
    ({"variant_weights": {"flip": {"vertical": 0.0}}}, "variant_weights needs at least one positive weight"),
    ({"variant_weights": {"crop": {"a": 1.0}}, "tasks": ["flip"]}, "variant_weights names the task 'crop'"),
    ({"image_format": "gif"}, "image_format (--format) must be one of jpeg, png"),
    ({"engine": "spark"}, "engine (--engine) must be one of local, ray"),
    ({"max_shard_bytes": MIN_SHARD_BYTES - 1}, f"max_shard_bytes (--max-shard-bytes) must be >= {MIN_SHARD_BYTES}"),
    ({"max_row_group_bytes": MAX_ROW_GROUP_BYTES + 1}, f"max_row_group_bytes must be <= {MAX_ROW_GROUP_BYTES}"),
    ({"max_shard_bytes": 2 << 20, "max_row_group_bytes": 4 << 20}, "max_row_group_bytes must be <= max_shard_bytes"),
    ({"shard_timeout": 0}, "shard_timeout (--shard-timeout) must be a finite number of seconds > 0"),
    ({"shard_timeout": math.inf}, "shard_timeout (--shard-timeout) must be a finite number of seconds > 0"),
    ({"task_modules": "mod.py"}, "task_modules must be a list"),
    ({"preview": "yes"}, "preview must be True or False"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD, ids=[next(iter(k)) + "=" + repr(k[next(iter(k))]) for k, _ in BAD])
def test_bad_values_are_refused_in_one_line(tmp_path, kwargs, message):
    with pytest.raises(BuildConfigError) as info:
        BuildConfig(tmp_path, **kwargs)
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text
    assert isinstance(info.value, ValueError)  # callers that catch ValueError keep working
    assert not list(tmp_path.iterdir())  # refused before anything is written


def test_good_values_pass(tmp_path):
    config = BuildConfig(
        tmp_path,
        total=1,
        samples_per_task=0,
        splits={"train": 1.0, "test": 0.0},
        task_mix={"flip": 1.0, "shuffle": 0.0},
        tasks=["flip", "shuffle"],
        variant_weights={"flip": {"vertical": 1.0, "horizontal": 0.0}},
        max_side=MIN_MAX_SIDE,
        jpeg_quality=1,
        shard_timeout=None,
        max_shard_bytes=MIN_SHARD_BYTES,
        max_row_group_bytes=MIN_SHARD_BYTES,
    )
    assert config.total == 1 and config.shard_timeout is None
    BuildConfig(tmp_path)  # the defaults


def test_an_unknown_task_is_a_config_error_at_build(tmp_path):
    config = BuildConfig(tmp_path / "o", tasks=["flipp"])
    with pytest.raises(BuildConfigError, match=r"^tasks \(--tasks\): unknown task 'flipp'"):
        build(config, synthetic(1, (96, 96)))
    assert not (tmp_path / "o").exists()


def test_a_per_source_pixel_budget_refuses_larger_sources(tmp_path):
    """max_source_pixels bounds every source before it is decoded: a photo over the budget is unreadable."""
    import json

    from PIL import Image

    from spatial_ssrl.dataset.builder import build
    from spatial_ssrl.sources.discover import photo_folder
    from tests.fixtures.images import textured_image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_image(1, 320, 240)).save(photos / "big.png")
    Image.fromarray(textured_image(2, 128, 96)).save(photos / "small.png")
    config = BuildConfig(tmp_path / "out", tasks=["flip"], samples_per_task=1, max_source_pixels=128 * 96)
    stats = build(config, photo_folder(photos))
    assert stats["per_task"] == {"flip": 1}
    errors = json.loads((tmp_path / "out" / "stats.json").read_text())["source_errors"]
    assert list(errors) == ["photos/big.png"] and "12288" in errors["photos/big.png"]
    with pytest.raises(BuildConfigError, match="max_source_pixels"):
        BuildConfig(tmp_path / "x", max_source_pixels=10)
