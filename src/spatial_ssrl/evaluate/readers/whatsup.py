"""What'sUp (Kamath et al., 2023): image files plus a JSON list of annotations

    {"image_path": "data/controlled_images/mug_on_table.jpeg",
     "caption_options": ["A mug on a table", "A mug under a table", "A mug to the left of a table", ...]}

with the correct caption first. The benchmark asks which caption describes the image; here that becomes
a multiple-choice question over the captions (4 in the controlled subsets), shuffled with a seeded
generator per record (the same seed gives the same letters on every machine) and the correct letter
recorded. Category = the folder the image is in (controlled_images, controlled_clevr, ...). Image
paths are looked up under --data-root, the JSON's folder and its parent, also without leading folders.
"""

from __future__ import annotations

import random
from pathlib import Path

from spatial_ssrl.evaluate.items import Benchmark, EvalItem
from spatial_ssrl.evaluate.readers.common import LETTERS, fail, first_field, read_records, resolve_file

QUESTION = "Which caption describes the image correctly?"  # asked of every record; the captions are the options


def shuffled_options(captions: list[str], seed: int, key: str) -> tuple[dict[str, str], str]:
    """Letter -> caption in a seeded order, and the letter of captions[0] (the correct one)."""
    order = list(range(len(captions)))
    random.Random(f"{seed}:{key}").shuffle(order)  # str seeds hash with SHA-512: stable across runs
    options = {LETTERS[i]: captions[j] for i, j in enumerate(order)}
    return options, LETTERS[order.index(0)]


def read_whatsup(
    path: str | Path, name: str | None = None, data_root: str | Path | None = None, seed: int = 0
) -> Benchmark:
    """The What'sUp annotations of `path` as a multiple-choice Benchmark (default name "WhatsUp").

    Args:
        data_root: searched first for the image files, before the JSON's folder and its parent.
        seed: shuffles each record's captions into options (same seed, same letters).

    Raises:
        BenchmarkFormatError: a record has no image, fewer than 2, more than 8 or duplicate captions,
            or its image file is not found.
    """
    path = Path(path)
    name = name or "WhatsUp"
    bases = ([Path(data_root)] if data_root else []) + [path.parent, path.parent.parent]
    items = []
    for n, rec in enumerate(read_records(path), 1):
        where = f"record {n}"
        image = first_field(rec, ("image_path", "image"))
        captions = first_field(rec, ("caption_options", "captions"))
        if not image:
            raise fail(path, where, "field 'image_path' is missing")
        if not isinstance(captions, list) or len(captions) < 2 or not all(isinstance(c, str) for c in captions):
            raise fail(path, where, "field 'caption_options' must be a list of at least 2 captions")
        if len(captions) > len(LETTERS):
            raise fail(path, where, f"{len(captions)} captions, at most {len(LETTERS)} are supported")
        if len(set(captions)) != len(captions):
            raise fail(path, where, "duplicate captions make the answer ambiguous")
        rid = str(first_field(rec, ("id",)) or n - 1)
        options, letter = shuffled_options(captions, seed, f"{rid}:{image}")
        items.append(
            EvalItem(
                benchmark=name,
                id=rid,
                question=QUESTION,
                answer=letter,
                kind="choice",
                images=[str(resolve_file(str(image), bases, path, where))],
                options=options,
                category=Path(str(image)).parent.name,
                extra={"correct_caption": captions[0]},
            )
        )
    return Benchmark(name=name, items=items, source=str(path))
