"""The dataset card: YAML front matter that names each split's files, the counts, and the shortfall."""

from __future__ import annotations

import json

import yaml
from PIL import Image

from spatial_ssrl.dataset.builder import BuildConfig, build
from spatial_ssrl.dataset.schema import SPLITS
from spatial_ssrl.sources.discover import SourceRef, synthetic


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_front_matter_names_the_files_of_each_split(tmp_path):
    splits = {"train": 0.5, "validation": 0.25, "test": 0.25}
    stats = build(BuildConfig(tmp_path, samples_per_task=1, preview=False, splits=splits), synthetic(6, (192, 144)))
    card = (tmp_path / "README.md").read_text()
    meta = front_matter(card)
    assert meta["license"] == "other" and meta["task_categories"] == ["visual-question-answering"]
    assert "spatial-ssrl" in meta["tags"]
    (config,) = meta["configs"]
    present = [s for s in SPLITS if stats["per_split"][s]]
    assert present and [f["split"] for f in config["data_files"]] == present
    for entry in config["data_files"]:
        assert entry["path"] == f"data/{entry['split']}-*.parquet"
        assert sorted(tmp_path.glob(entry["path"])), entry  # the pattern finds the split's shards
    assert f"{stats['samples']} samples" in card and "shortfall (planned minus produced): none." in card
    for task, n in stats["per_task"].items():
        assert f"| {task} | {n} | {n} | 0 |" in card  # planned, produced, shortfall
    assert "`<image>`" in card and "&lt;" not in card  # Markdown, not HTML-escaped
    params = json.loads(card.split("```json\n")[1].split("```")[0])
    assert params["seed"] == stats["seed"]


def test_card_lists_the_shortfall(tmp_path):
    flat = tmp_path / "flat.png"
    Image.new("RGB", (320, 240), (90, 90, 90)).save(flat)  # every RGB task rejects a flat image
    config = BuildConfig(tmp_path / "o", total=5, tasks=["flip"], preview=False)
    stats = build(config, [SourceRef(id="flat", rgb=str(flat))])
    assert stats["shortfall"] == {"flip": 5}
    card = (tmp_path / "o" / "README.md").read_text()
    assert "Requested: 5;\nshortfall (planned minus produced, after top-up rounds): flip 5." in card
    assert "| flip | 5 | 0 | 5 |" in card
    assert front_matter(card)["configs"][0]["data_files"] == []  # no split has samples
    assert "| reason | samples |" in card  # the rejections that caused it


def test_shortfall_is_reported_without_total(tmp_path):
    """Per-source quotas (no --total): a source that cannot give its quota leaves a shortfall in stats.json
    and the card, instead of `"shortfall": {}` / "none" (it used to be hidden)."""
    flat = tmp_path / "flat.png"
    Image.new("RGB", (320, 240), (90, 90, 90)).save(flat)
    refs = [*synthetic(2, (192, 144)), SourceRef(id="flat", rgb=str(flat))]
    stats = build(BuildConfig(tmp_path / "o", samples_per_task=2, tasks=["flip"], preview=False), refs)
    assert stats["requested"] is None
    assert stats["target_per_task"] == {"flip": 6} and stats["per_task"] == {"flip": 4}
    assert stats["shortfall"] == {"flip": 2}
    card = (tmp_path / "o" / "README.md").read_text()
    assert "| flip | 6 | 4 | 2 |" in card and "shortfall (planned minus produced): flip 2." in card
