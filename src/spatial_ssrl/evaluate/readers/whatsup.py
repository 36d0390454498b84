"""What'sUp (Kamath et al., EMNLP 2023; amitakamath/whatsup_vlms): one JSON file per subset, plus images.

The release's files (`dataset_zoo/aro_datasets.py` reads them from `data/`) and their layouts:

- Controlled_Images_A: `controlled_images_dataset.json`, records
  {"image_path": "data/controlled_images/mug_on_table.jpeg", "caption_options": [4 captions]}; the image
  path as written (relative to the repository root).
- Controlled_Images_B: `controlled_clevr_dataset.json`, the same with images in data/controlled_clevr/.
- COCO_QA_one_obj / COCO_QA_two_obj (the paper's COCO-spatial): `coco_qa_one_obj.json` /
  `coco_qa_two_obj.json`, records [image_id, correct caption, wrong caption]; the image is
  data/val2017/<image_id padded to 12 digits>.jpg.
- VG_QA_one_obj / VG_QA_two_obj (the paper's GQA-spatial): `vg_qa_one_obj.json` / `vg_qa_two_obj.json`,
  the same records; the image is data/vg_images/<image_id>.jpg.

The correct caption is always the first. Image paths are looked up under --data-root, the JSON's folder
and its parent, also without their leading folders. The subset is told by the file name (the release's
names, also inside a longer name such as `coco_qa_one_obj_small.json`); a file of `image_path` /
`caption_options` records under another name is Controlled_Images_B when its images are in
`controlled_clevr/`, else Controlled_Images_A.

Each file is one benchmark, named "WhatsUp-<subset file stem>" by default ("WhatsUp-controlled_images",
"WhatsUp-controlled_clevr", "WhatsUp-coco_qa_one_obj", ...), so two subsets never share a cache.

Items are multiple-choice questions over the captions: the options are the captions in a seeded shuffled
order (the same seed gives the same letters on every machine), `answer` the letter of the correct one.
`extra["captions"]` keeps the release's order (the authors' protocol asks in that order:
`benchmarks/whatsup.py`). Category = the subset (`controlled_images`, `coco_qa_one_obj`, ...);
subcategory = the preposition the official code files the item under; `extra["pair"]` / `extra["relation"]`
are the object pair and relation read from a controlled image's file name (its pair/set accuracy).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.readers.common import LETTERS, fail, first_field, read_records, resolve_file

RULES = "WhatsUp"  # the benchmark module that scores these items (evaluate/benchmarks/whatsup.py)
QUESTION = "Which caption describes the image correctly?"  # asked of every record; the captions are the options


@dataclass(frozen=True)
class Subset:
    """One What'sUp subset: its name in the official code, its file, and how its records look."""

    dataset: str  # main_aro.py --dataset
    file: str  # the release's annotation file
    short: str  # default-name suffix and item category
    layout: str  # "controlled" ({"image_path", "caption_options"}) or "qa" ([id, correct, wrong])
    image_dir: str  # where a "qa" record's image is (controlled records carry their path)
    relations: tuple[str, ...] = ()  # controlled: the four relations of an object pair (pair/set accuracy)


SUBSETS = (
    Subset(
        "Controlled_Images_A",
        "controlled_images_dataset.json",
        "controlled_images",
        "controlled",
        "controlled_images",
        ("left", "right", "on", "under"),
    ),
    Subset(
        "Controlled_Images_B",
        "controlled_clevr_dataset.json",
        "controlled_clevr",
        "controlled",
        "controlled_clevr",
        ("left", "right", "in-front", "behind"),
    ),
    Subset("COCO_QA_one_obj", "coco_qa_one_obj.json", "coco_qa_one_obj", "qa", "val2017"),
    Subset("COCO_QA_two_obj", "coco_qa_two_obj.json", "coco_qa_two_obj", "qa", "val2017"),
    Subset("VG_QA_one_obj", "vg_qa_one_obj.json", "vg_qa_one_obj", "qa", "vg_images"),
    Subset("VG_QA_two_obj", "vg_qa_two_obj.json", "vg_qa_two_obj", "qa", "vg_images"),
)
SUBSET_BY_DATASET = {s.dataset: s for s in SUBSETS}
RELEASE_FILES = tuple(s.file for s in SUBSETS)


def subset_by_name(path: Path) -> Subset | None:
    """The subset a file name gives (the release's name, or one containing its stem), else None."""
    name = path.name.casefold()
    for s in SUBSETS:
        if name == s.file:
            return s
    stem = path.stem.casefold()
    for s in sorted(SUBSETS, key=lambda s: -len(Path(s.file).stem)):
        if Path(s.file).stem in stem:
            return s
    return None


def default_name(path: Path, subset: Subset | None) -> str:
    """The default name, unique per file: WhatsUp-<subset> for a release file, else WhatsUp-<file stem>."""
    if subset is not None and path.name.casefold() == subset.file:
        return f"{RULES}-{subset.short}"
    return f"{RULES}-{path.stem.removesuffix('_dataset')}"


def preposition(subset: Subset, image_path: str, correct_caption: str) -> str:
    """The preposition the official evaluate_scores files a record under (its per-preposition table)."""
    if subset.dataset == "Controlled_Images_A":  # tested on the whole image path, in this order
        for needle, label in (("left_of", "left_of"), ("right_of", "right_of"), ("_on_", "on")):
            if needle in image_path:
                return label
        return "under"
    if subset.dataset == "Controlled_Images_B":
        for needle, label in (("left_of", "left_of"), ("right_of", "right_of"), ("_in-front_of_", "in-front_of")):
            if needle in image_path:
                return label
        return "behind"
    if subset.dataset.endswith("_one_obj"):  # the last word of the correct caption
        words = correct_caption.split()
        return words[-1] if words else ""
    rules = [("left of", "left"), ("right of", "right")]
    if subset.dataset == "COCO_QA_two_obj":
        rules, default = rules + [("above", "above")], "below"
    else:
        rules, default = rules + [("front of", "front"), ("behind", "behind")], "top"
    return next((label for needle, label in rules if needle in correct_caption), default)


def pair_and_relation(image_path: str) -> tuple[str | None, str | None]:
    """(object pair, relation) of a controlled image named `<obj1>_<relation>[_of]_<obj2>.jpeg`, as the
    official code reads them (`split("_")`: the first and last parts, the last without its 5-character
    extension; the relation is the second part). (None, None) for a name without "_"."""
    parts = image_path.split("/")[-1].split("_")
    if len(parts) < 2:
        return None, None
    return f"{parts[0]}/{parts[-1][:-5]}", parts[1]


def shuffled_options(captions: list[str], seed: int, key: str) -> tuple[dict[str, str], str]:
    """Letter -> caption in a seeded order, and the letter of captions[0] (the correct one)."""
    order = list(range(len(captions)))
    random.Random(f"{seed}:{key}").shuffle(order)  # str seeds hash with SHA-512: stable across runs
    options = {LETTERS[i]: captions[j] for i, j in enumerate(order)}
    return options, LETTERS[order.index(0)]


def _load(path: Path) -> list:
    """The file's records: a JSON list (dicts or lists), or JSON Lines / parquet records."""
    if path.suffix.lower() in (".jsonl", ".parquet"):
        return read_records(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise BenchmarkFormatError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}"
        raise BenchmarkFormatError(f"{path}: not valid JSON ({where}: {err.msg})") from None
    if isinstance(data, dict):
        data = next((data[k] for k in ("data", "annotations", "items") if isinstance(data.get(k), list)), data)
    if not isinstance(data, list):
        raise BenchmarkFormatError(f"{path}: expected a JSON list of What'sUp records")
    return data


def _check_captions(captions, path: Path, where: str) -> list[str]:
    if not isinstance(captions, list) or len(captions) < 2 or not all(isinstance(c, str) and c for c in captions):
        raise fail(path, where, "field 'caption_options' must be a list of at least 2 captions")
    if len(captions) > len(LETTERS):
        raise fail(path, where, f"{len(captions)} captions, at most {len(LETTERS)} are supported")
    if len(set(captions)) != len(captions):
        raise fail(path, where, "duplicate captions make the answer ambiguous")
    return captions


def _controlled(rec: dict, n: int, path: Path) -> tuple[str, str, list[str]]:
    """(id, image path as written, captions) of a controlled record."""
    rid = first_field(rec, ("id",))
    rid = str(n - 1 if rid is None else rid)
    where = f"record {n} (id {rid})"
    image = first_field(rec, ("image_path", "image"))
    if not isinstance(image, str) or not image:
        raise fail(path, where, "field 'image_path' is missing or not a file name")
    return rid, image, _check_captions(first_field(rec, ("caption_options", "captions")), path, where)


def _qa(rec: list, n: int, path: Path, subset: Subset) -> tuple[str, str, list[str]]:
    """(id, image path, captions) of a [image_id, correct caption, wrong caption] record."""
    where = f"record {n} (id {n - 1})"
    if len(rec) < 3:
        raise fail(path, where, f"expected [image_id, correct caption, wrong caption], got {len(rec)} element(s)")
    image_id = rec[0]
    if isinstance(image_id, bool) or not isinstance(image_id, (int, str)) or image_id == "":
        raise fail(path, where, f"element 1 (image id) must be a number or a name, got {image_id!r}")
    for k in (1, 2):
        if not isinstance(rec[k], str) or not rec[k].strip():
            raise fail(path, where, f"element {k + 1} (caption) must be a non-empty string")
    captions = _check_captions([rec[1], rec[2]], path, where)
    stem = str(image_id).zfill(12) if subset.image_dir == "val2017" else str(image_id)
    return str(n - 1), f"{subset.image_dir}/{stem}.jpg", captions


def read_whatsup(
    path: str | Path, name: str | None = None, data_root: str | Path | None = None, seed: int = 0
) -> Benchmark:
    """The What'sUp subset in `path` as a multiple-choice Benchmark (default name: `default_name`).

    Args:
        data_root: searched first for the image files, before the JSON's folder and its parent.
        seed: shuffles each record's captions into options (same seed, same letters).

    Raises:
        BenchmarkFormatError: the file is not JSON, its subset cannot be told, or a record is malformed
            (no image, fewer than 2 / more than 8 / duplicate captions) or its image file is not found;
            the message names the file, the record and the field.
    """
    path = Path(path)
    records = _load(path)
    subset = subset_by_name(path)
    if subset is None and records and isinstance(records[0], dict):
        first = str(first_field(records[0], ("image_path", "image")) or "")
        subset = SUBSET_BY_DATASET["Controlled_Images_B" if "controlled_clevr" in first else "Controlled_Images_A"]
    if subset is None:
        raise BenchmarkFormatError(
            f"{path}: cannot tell which What'sUp subset this is; name it as released ({', '.join(RELEASE_FILES)})"
        )
    name = name or default_name(path, subset)
    bases = ([Path(data_root)] if data_root else []) + [path.parent, path.parent.parent]
    items = []
    for n, rec in enumerate(records, 1):
        if subset.layout == "controlled" and isinstance(rec, dict):
            rid, image, captions = _controlled(rec, n, path)
        elif subset.layout == "qa" and isinstance(rec, (list, tuple)):
            rid, image, captions = _qa(list(rec), n, path, subset)
        else:
            want = "an object with image_path and caption_options" if subset.layout == "controlled" else "a list"
            raise fail(path, f"record {n}", f"expected {want} ({subset.file} layout), got {type(rec).__name__}")
        where = f"record {n} (id {rid})"
        options, letter = shuffled_options(captions, seed, f"{rid}:{image}")
        pair, relation = pair_and_relation(image) if subset.layout == "controlled" else (None, None)
        items.append(
            EvalItem(
                benchmark=name,
                id=rid,
                question=QUESTION,
                answer=letter,
                kind="choice",
                images=[str(resolve_file(image, bases, path, where))],
                options=options,
                category=subset.short,
                subcategory=preposition(subset, image, captions[0]),
                extra={
                    "subset": subset.dataset,
                    "captions": list(captions),
                    "correct_caption": captions[0],
                    "image_path": image,
                    "pair": pair,
                    "relation": relation,
                    "shuffled_options": dict(options),
                    "shuffled_answer": letter,
                },
            )
        )
    return Benchmark(name=name, items=items, source=str(path), rules=RULES)
