"""Tiny benchmark files in every supported layout, made from generated pixels: for tests, the
benchmark script and trying the commands without downloading a benchmark.

    write_tsv_fixture(dir)         VLMEvalKit TSV: multiple choice (one with a hint, one with two images,
                                   one whose `image` refers to another row), yes/no, QSpatial-style lengths
    write_viewspatial_fixture(dir) ViewSpatial-Bench JSON + image files
    write_whatsup_fixture(dir)     What'sUp JSON + image files
    write_vsibench_fixture(dir)    VSI-Bench records + a 2-second video of a moving square

    python -m spatial_ssrl.evaluate.fixtures DIR    # all of them; prints the --bench specs
"""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

TSV_COLUMNS = ["index", "image", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category"]


def image_bytes(seed: int, size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    """A smooth random colour image, encoded."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize(size, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_tsv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or TSV_COLUMNS
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def tsv_rows() -> list[dict]:
    """Eight rows: 4 multiple choice (hint; two images; image by reference), 2 yes/no, 2 lengths."""
    return [
        {
            "index": 0,
            "image": b64(image_bytes(0)),
            "question": "Which object is closer to the camera?",
            "A": "the chair",
            "B": "the table",
            "answer": "A",
            "category": "depth",
            "l2-category": "relation",
        },
        {
            "index": 1,
            "image": b64(image_bytes(1)),
            "question": "Where is the lamp relative to the sofa?",
            "hint": "Answer from the camera's viewpoint.",
            "A": "left",
            "B": "right",
            "C": "above",
            "D": "below",
            "answer": "C",
            "category": "position",
            "l2-category": "relation",
        },
        {
            "index": 2,
            "image": json.dumps([b64(image_bytes(2)), b64(image_bytes(3))]),
            "question": "Which image was taken further to the left?",
            "A": "the first",
            "B": "the second",
            "answer": "B",
            "category": "multiview",
            "l2-category": "relation",
        },
        {
            "index": 3,
            "image": "0",
            "question": "Is the chair taller than the table? Pick one.",
            "A": "taller",
            "B": "shorter",
            "C": "the same",
            "answer": "B",
            "category": "depth",
            "l2-category": "size",
        },
        {
            "index": 4,
            "image": b64(image_bytes(4)),
            "question": "Is there a cup on the table?",
            "answer": "Yes",
            "category": "existence",
        },
        {
            "index": 5,
            "image": b64(image_bytes(5)),
            "question": "Is the door open?",
            "answer": "no",
            "category": "existence",
        },
        {
            "index": 6,
            "image": b64(image_bytes(6)),
            "question": "How far is the chair from the table?",
            "answer": "1.5 meters",
            "category": "distance",
        },
        {
            "index": 7,
            "image": b64(image_bytes(7)),
            "question": "How wide is the window?",
            "answer": "(80, 'centimeters')",
            "category": "size",
        },
    ]


def write_tsv_fixture(folder: Path, name: str = "tiny_bench.tsv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_tsv(folder / name, tsv_rows())


def write_viewspatial_fixture(folder: Path, n: int = 6) -> Path:
    """ViewSpatial-Bench layout: `ViewSpatial-Bench.json` next to `ViewSpatial-Bench/<scene>/...jpg`."""
    types = ["Camera perspective - Relative Direction", "Person perspective - Object View Orientation"]
    dirs = ["left", "right", "front", "back"]
    records = []
    for i in range(n):
        rel = f"ViewSpatial-Bench/scene{i % 2}/original_images/{i}.jpg"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(image_bytes(100 + i, (80, 60), "JPEG"))
        order = dirs[i % 4 :] + dirs[: i % 4]
        letter = "ABCD"[i % 4]
        records.append(
            {
                "question_type": types[i % 2],
                "image_path": [rel],
                "question": f"Where is object {i} relative to the desk?",
                "answer": f"{letter}. {order['ABCD'.index(letter)]}",
                "choices": "\n".join(f"{k}. {v}" for k, v in zip("ABCD", order)),
            }
        )
    path = folder / "ViewSpatial-Bench.json"
    path.write_text(json.dumps(records, indent=1))
    return path


def write_whatsup_fixture(folder: Path, n: int = 5) -> Path:
    """What'sUp layout: `controlled_images_dataset.json` in data/, paths `data/controlled_images/*.jpeg`."""
    data = folder / "data"
    (data / "controlled_images").mkdir(parents=True, exist_ok=True)
    relations = ["on", "under", "to the left of", "to the right of"]
    records = []
    for i in range(n):
        rel = f"data/controlled_images/mug_{relations[i % 4].replace(' ', '-')}_table_{i}.jpeg"
        (folder / rel).write_bytes(image_bytes(200 + i, (72, 54), "JPEG"))
        first = relations[i % 4]
        captions = [f"A mug {first} a table"] + [f"A mug {r} a table" for r in relations if r != first]
        records.append({"image_path": rel, "caption_options": captions})
    path = data / "controlled_images_dataset.json"
    path.write_text(json.dumps(records, indent=1))
    return path


def write_vsibench_fixture(folder: Path) -> Path:
    """VSI-Bench layout: `arkitscenes/scene0.mp4` and `vsibench.json` with 2 choice + 3 numeric questions."""
    from spatial_ssrl.evaluate.video import write_test_video

    (folder / "arkitscenes").mkdir(parents=True, exist_ok=True)
    write_test_video(folder / "arkitscenes" / "scene0.mp4", seconds=2.0, fps=10)
    base = {"dataset": "arkitscenes", "scene_name": "scene0"}
    records = [
        {
            **base,
            "id": 0,
            "question_type": "obj_appearance_order",
            "question": "Which moves first?",
            "options": ["A. the square", "B. the circle"],
            "ground_truth": "A",
        },
        {
            **base,
            "id": 1,
            "question_type": "object_rel_direction_easy",
            "question": "Standing at the start, where does the square end up?",
            "options": ["A. left", "B. right"],
            "ground_truth": "B",
        },
        {
            **base,
            "id": 2,
            "question_type": "object_counting",
            "question": "How many squares are there?",
            "options": None,
            "ground_truth": "1",
        },
        {
            **base,
            "id": 3,
            "question_type": "object_abs_distance",
            "question": "How far does the square travel (in meters)?",
            "options": [],
            "ground_truth": "2.0",
        },
        {
            **base,
            "id": 4,
            "question_type": "object_size_estimation",
            "question": "How long is the side of the square (in centimeters)?",
            "options": None,
            "ground_truth": "40",
        },
    ]
    path = folder / "vsibench.json"
    path.write_text(json.dumps(records, indent=1))
    return path


def write_all(folder: str | Path) -> list[str]:
    """Every fixture under `folder`; returns the `--bench` specs that read them."""
    folder = Path(folder)
    return [
        f"tsv:{write_tsv_fixture(folder)}",
        f"viewspatial:{write_viewspatial_fixture(folder / 'viewspatial')}",
        f"whatsup:{write_whatsup_fixture(folder / 'whatsup')}",
        f"vsibench:{write_vsibench_fixture(folder / 'vsibench')}",
    ]


if __name__ == "__main__":  # python -m spatial_ssrl.evaluate.fixtures DIR
    import sys

    for spec in write_all(sys.argv[1] if len(sys.argv) > 1 else "eval_fixtures"):
        print(spec)
