"""The dataset card: a README.md in the Hugging Face style, written from the build's statistics.

The front matter is YAML from `yaml.safe_dump` (the Hub reads the splits' files from it); the page is
templates/card.md.j2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from spatial_ssrl.dataset.schema import SPLITS
from spatial_ssrl.dataset.templating import render

if TYPE_CHECKING:
    from spatial_ssrl.dataset.config import BuildConfig


def front_matter(stats: dict) -> dict[str, Any]:
    """The card's metadata: licence, task category, tags, and the files of each split that has samples."""
    return {
        "license": "other",
        "task_categories": ["visual-question-answering"],
        "tags": ["spatial-reasoning", "self-supervised", "spatial-ssrl"],
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": s, "path": f"data/{s}-*.parquet"} for s in SPLITS if stats["per_split"].get(s)
                ],
            }
        ],
    }


def write_card(out_dir: Path, stats: dict, config: BuildConfig) -> Path:
    """Counts per task, variant and split, rejections, parameters, seed and tool version."""
    shortfall = ", ".join(f"{task} {n}" for task, n in sorted(stats["shortfall"].items())) or "none"
    target = stats.get("target_per_task", {})
    per_task = [
        (task, target.get(task, "—"), stats["per_task"].get(task, 0), stats["shortfall"].get(task, 0))
        for task in sorted({*target, *stats["per_task"]})
    ]
    text = render(
        "card.md.j2",
        front_matter=yaml.safe_dump(front_matter(stats), sort_keys=False, default_flow_style=False),
        stats=stats,
        shortfall=shortfall,
        per_task=per_task,
        params=json.dumps(config.identity(), indent=2, sort_keys=True, default=str),
    )
    path = Path(out_dir) / "README.md"
    tmp = path.with_name(".README.md.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
