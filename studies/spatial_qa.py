"""A small spatial-QA benchmark with exact answers, built from the synthetic RGB-D scenes (issue 15, "Transfer").

Object-level questions that are not pretext tasks, about two boxes or spheres of a scene circled in red and
labelled 1 and 2 (`draw_region_markers`, the rings of the depth tasks around a small square inside each
object's visible pixels). Options are always A = "object 1", B = "object 2"; the answer is a letter. The
output is a VLMEvalKit TSV (columns index, image, question, A, B, answer, category) that
`ssrl eval --bench tsv:FILE` reads, plus `<stem>.meta.jsonl` (per row: scene seed, marker boxes, the marked
objects, the margins) for checking and analysis.

    python -m studies.spatial_qa OUT.tsv [--scenes 40] [--first-seed 1000000] [--size 320x240] [--per-scene 3]

Geometry comes from the scene's exact per-pixel data: `points` (camera frame: X right, Y down, Z forward),
`object_id`, and the camera's pitch and height (`SyntheticScene.camera`; world "up" is -Y of the level frame,
p_world = R(pitch) p_cam). "Visible points" of an object are the points of the pixels whose object_id is it.
Every rule asks for a margin in every way the question could reasonably be read, so no answer is ambiguous:

closer   "Which marked object is closer to the camera?" The two objects' visible surfaces are separated in
         distance: the farther object's nearest visible point is >= 1 + CLOSER_MIN_REL_GAP times as far as the
         nearer object's farthest visible point, both in straight-line distance |p| and in z-depth (so the
         answer holds however "closer" is measured and whichever points of the objects one compares), and the
         objects' true 3-D centres agree (ratio of centre distances >= 1 + CLOSER_MIN_CENTER_REL_GAP; this
         covers occluded parts).
left_of  "From the camera's point of view, which marked object is further to the left?" The visible silhouettes
         are apart in the image: the right object's leftmost visible point and the left object's rightmost one
         differ in bearing X/Z (the tangent of the horizontal angle, i.e. image column / focal length) by
         >= LEFT_MIN_BEARING_GAP; and the camera-frame X (= the level frame's X: the pitch rotates about X)
         agrees in 3-D: the mean X of the visible points and the X of the true centres each differ by
         >= LEFT_MIN_X_GAP_M metres in the same order, so perspective never makes the image and the scene
         disagree.
higher   "Which marked object is higher up in the world, that is, whose top is higher above the ground?" The
         top of the object's 3-D extent along world up (box: its height, it rests on the ground; sphere: its
         diameter) differs by >= HIGHER_MIN_GAP_M; the top is visible for both (the highest visible point is
         within TOP_TOL_M + TOP_TOL_PX pixel footprints at the object's depth of the true top, so no occluded
         top decides the answer); and the highest visible points differ by >= HIGHER_MIN_VISIBLE_GAP_M in the
         same order.

Visibility and markers: an object takes part when it has >= max(MIN_PIXELS, MIN_PIXELS_FRAC * W * H,
MIN_AREA_VS_RING * the area of the disk holding a ring) visible pixels (a ring never hides a small object) and
a marker spot: a square of `region_side` px (3% of the short side, >= 9 px, as depth_order) whose
square grown by REGION_MARGIN_PX on every side is all the object's pixels, with the ring inside the image; the
spot chosen is the one whose surroundings the object covers most (ties: nearest the object's visible
centroid), and the object must cover >= MIN_RING_COVER of the disk inside the ring. Two markers must be at
least `min_center_separation` apart, and an item whose labels cannot be placed unambiguously
(`MarkerFailure`) is not made (another pair is tried).

Balance and determinism: per scene the three categories are tried in a random order (cycled up to
`per_scene` items), each with an unused pair that qualifies. The wanted answer letter is drawn first, per
category in shuffled blocks of (A, B) (`LetterBalancer`: |#A - #B| <= 1 per category), and the labels are
assigned to realise it (answer object labelled 1 for A, 2 for B). Everything is drawn from seeded generators
(scene s from make_scene(s); choices from default_rng([seed, s]); letters from default_rng([seed])), so the
same arguments give byte-identical files. `ssrl generate --synthetic N` uses scene seeds 0..N-1; the command
line's default first seed (1,000,000) keeps the benchmark's scenes out of any such training set.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from spatial_ssrl.sources.synthetic import SyntheticScene, make_scene
from spatial_ssrl.tasks._regions import min_center_separation, region_side
from spatial_ssrl.tasks._render import MarkerFailure, draw_region_markers, marker_geometry, ring_outer_radius

CATEGORIES = ("closer", "left_of", "higher")
COLUMNS = ["index", "image", "question", "A", "B", "answer", "category"]
OPTIONS = {"A": "object 1", "B": "object 2"}
DEFAULT_FIRST_SEED = 1_000_000  # `ssrl generate` draws scenes 0..N-1: keep the benchmark's scenes apart

# Visibility and markers.
MIN_PIXELS = 100
MIN_PIXELS_FRAC = 0.002  # of the image area
MIN_AREA_VS_RING = 1.5  # visible pixels >= this times the area of the disk holding the ring: the ring hides no object
REGION_FRAC = 0.03  # marker square side as a fraction of the short image side (as depth_order)
MIN_REGION_PX = 9
REGION_MARGIN_PX = 2  # the square lies this far inside the object's visible pixels
MIN_RING_COVER = 0.6  # share of the disk inside the ring covered by the marked object

# closer
CLOSER_MIN_REL_GAP = 0.10  # far object's nearest visible point / near object's farthest one - 1 (|p| and z)
CLOSER_MIN_CENTER_REL_GAP = 0.10  # distance of the far centre / distance of the near centre - 1
# left_of
LEFT_MIN_BEARING_GAP = 0.03  # X/Z gap between the silhouettes (~1.7 degrees; 8 px at 320 px and 60 deg HFOV)
LEFT_MIN_X_GAP_M = 0.20  # camera-frame X gap of the visible points' means and of the true centres
# higher
HIGHER_MIN_GAP_M = 0.25  # gap between the true tops
HIGHER_MIN_VISIBLE_GAP_M = 0.20  # gap between the highest visible points
TOP_TOL_M = 0.05  # a top counts as visible when the highest visible point is within TOP_TOL_M + ...
TOP_TOL_PX = 1.5  # ... this many pixel footprints (depth / focal) of the true top

PREAMBLE = "Two objects in this image are circled in red and labelled 1 and 2."
QUESTIONS = {
    "closer": f"{PREAMBLE} Which marked object is closer to the camera?",
    "left_of": f"{PREAMBLE} From the camera's point of view, which marked object is further to the left?",
    "higher": f"{PREAMBLE} Which marked object is higher up in the world, that is, whose top is higher above the "
    "ground?",
}


@dataclass
class ObjectView:
    """What the rules need to know about one visible box or sphere (distances in metres)."""

    index: int  # its object_id
    name: str
    kind: str
    pixels: int
    dist: tuple[float, float]  # min, max straight-line distance |p| of the visible points
    depth: tuple[float, float]  # min, max z-depth of the visible points
    bearing: tuple[float, float]  # min, max X/Z of the visible points
    x_mean: float  # mean camera X of the visible points
    center_dist: float  # |centre| of the true 3-D object
    center_x: float
    top_true: float  # top of the 3-D extent above the ground
    top_visible: float  # highest visible point above the ground
    top_tol: float
    top_row: int  # image rows of the highest and lowest visible pixels (for the 2-D cue statistics)
    bottom_row: int
    box: list[int]  # marker square [x0, y0, x1, y1]
    ring_cover: float


class LetterBalancer:
    """Answer letters per category in shuffled blocks of (A, B): |#A - #B| <= 1 in every category.

    `peek` gives the letter the next item of a category must have; `commit` consumes it once the item exists
    (a failed attempt leaves it for the next one, so the blocks stay whole)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.pending: dict[str, list[str]] = {}

    def peek(self, category: str) -> str:
        block = self.pending.setdefault(category, [])
        if not block:
            block.extend(str(v) for v in self.rng.permutation(["A", "B"]))
        return block[0]

    def commit(self, category: str) -> None:
        self.pending[category].pop(0)


def heights_above_ground(scene: SyntheticScene, points: np.ndarray) -> np.ndarray:
    """Height above the ground plane of camera-frame points (N, 3), from the camera's height and pitch."""
    p = math.radians(scene.camera["pitch_deg"])
    y_level = math.cos(p) * points[:, 1] + math.sin(p) * points[:, 2]  # level-frame Y (down)
    return scene.camera["height_m"] - y_level


def _window_sums(integral: np.ndarray, size: int) -> np.ndarray:
    """Sums of every size x size window of the image whose padded integral is given, by top-left pixel."""
    return integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]


def marker_region(mask: np.ndarray, side: int) -> tuple[list[int], float] | None:
    """The marker square for an object's visible pixels and the share of the ring's inner disk it covers, or
    None when no square fits (see the module docstring)."""
    h, w = mask.shape
    geo = marker_geometry(side, w, h)
    ring, inner = geo["radius"], geo["radius"] - geo["width"]
    m = REGION_MARGIN_PX
    grown = side + 2 * m
    if grown > min(h, w):
        return None
    integral = np.pad(mask.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    ys, xs = np.nonzero(_window_sums(integral, grown) == grown * grown)
    x0, y0 = xs + m, ys + m
    inside = (x0 >= ring) & (y0 >= ring) & (x0 + side <= w - ring) & (y0 + side <= h - ring)
    x0, y0 = x0[inside], y0[inside]
    if x0.size == 0:
        return None
    q = min(inner, ring)  # surroundings: the square grown by the ring's inner radius (inside the image)
    cover = _window_sums(integral, side + 2 * q)[y0 - q, x0 - q] / float((side + 2 * q) ** 2)
    vy, vx = np.nonzero(mask)
    cx, cy = x0 + (side - 1) / 2, y0 + (side - 1) / 2
    off_centroid = np.hypot(cx - vx.mean(), cy - vy.mean())
    best = int(np.lexsort((y0, x0, off_centroid, -cover))[0])
    bx, by = int(x0[best]), int(y0[best])
    ccx, ccy = bx + (side - 1) / 2, by + (side - 1) / 2
    gy, gx = np.mgrid[0:h, 0:w]
    disk = (gx - ccx) ** 2 + (gy - ccy) ** 2 <= inner**2
    return [bx, by, bx + side, by + side], float(mask[disk].mean())


def object_views(scene: SyntheticScene, side: int) -> list[ObjectView]:
    """The scene's boxes and spheres that are visible enough and can carry a marker."""
    h, w = scene.object_id.shape
    ring_area = math.pi * ring_outer_radius(marker_geometry(side, w, h)["radius"]) ** 2
    min_px = max(MIN_PIXELS, MIN_PIXELS_FRAC * w * h, MIN_AREA_VS_RING * ring_area)
    views = []
    for k, obj in enumerate(scene.objects):
        if obj.kind not in ("box", "sphere"):
            continue
        mask = scene.object_id == k
        n = int(mask.sum())
        if n < min_px:
            continue
        spot = marker_region(mask, side)
        if spot is None or spot[1] < MIN_RING_COVER:
            continue
        pts = scene.points[mask].astype(np.float64)
        dist = np.linalg.norm(pts, axis=1)
        bearing = pts[:, 0] / pts[:, 2]
        up = heights_above_ground(scene, pts)
        top_true = 2.0 * obj.size[0] if obj.kind == "sphere" else obj.size[1]
        center = np.array(obj.center)
        rows = np.flatnonzero(mask.any(axis=1))
        views.append(
            ObjectView(
                index=k,
                name=obj.name,
                kind=obj.kind,
                pixels=n,
                dist=(float(dist.min()), float(dist.max())),
                depth=(float(pts[:, 2].min()), float(pts[:, 2].max())),
                bearing=(float(bearing.min()), float(bearing.max())),
                x_mean=float(pts[:, 0].mean()),
                center_dist=float(np.linalg.norm(center)),
                center_x=float(center[0]),
                top_true=float(top_true),
                top_visible=float(up.max()),
                top_tol=TOP_TOL_M + TOP_TOL_PX * float(center[2]) / scene.focal_px,
                top_row=int(rows[0]),
                bottom_row=int(rows[-1]),
                box=spot[0],
                ring_cover=spot[1],
            )
        )
    return views


def _closer(a: ObjectView, b: ObjectView) -> tuple[ObjectView, dict, bool] | None:
    near, far = (a, b) if a.dist[1] <= b.dist[1] else (b, a)
    margins = {
        "distance_ratio": far.dist[0] / near.dist[1],
        "depth_ratio": far.depth[0] / near.depth[1],
        "center_ratio": far.center_dist / near.center_dist,
    }
    ok = (
        margins["distance_ratio"] >= 1 + CLOSER_MIN_REL_GAP
        and margins["depth_ratio"] >= 1 + CLOSER_MIN_REL_GAP
        and margins["center_ratio"] >= 1 + CLOSER_MIN_CENTER_REL_GAP
    )
    return (near, margins, near.bottom_row > far.bottom_row) if ok else None


def _left_of(a: ObjectView, b: ObjectView) -> tuple[ObjectView, dict, bool] | None:
    left, right = (a, b) if a.bearing[1] <= b.bearing[1] else (b, a)
    margins = {
        "bearing_gap": right.bearing[0] - left.bearing[1],
        "x_mean_gap_m": right.x_mean - left.x_mean,
        "center_x_gap_m": right.center_x - left.center_x,
    }
    ok = (
        margins["bearing_gap"] >= LEFT_MIN_BEARING_GAP
        and margins["x_mean_gap_m"] >= LEFT_MIN_X_GAP_M
        and margins["center_x_gap_m"] >= LEFT_MIN_X_GAP_M
    )
    return (left, margins, True) if ok else None


def _higher(a: ObjectView, b: ObjectView) -> tuple[ObjectView, dict, bool] | None:
    hi, lo = (a, b) if a.top_true >= b.top_true else (b, a)
    margins = {
        "top_gap_m": hi.top_true - lo.top_true,
        "visible_top_gap_m": hi.top_visible - lo.top_visible,
        "max_hidden_top_m": max(v.top_true - v.top_visible for v in (hi, lo)),
    }
    ok = (
        margins["top_gap_m"] >= HIGHER_MIN_GAP_M
        and margins["visible_top_gap_m"] >= HIGHER_MIN_VISIBLE_GAP_M
        and all(v.top_true - v.top_visible <= v.top_tol for v in (hi, lo))
    )
    return (hi, margins, hi.top_row < lo.top_row) if ok else None


RULES = {"closer": _closer, "left_of": _left_of, "higher": _higher}


def make_items(
    scene_seed: int,
    size: tuple[int, int],
    rng: np.random.Generator,
    *,
    per_scene: int = 3,
    balancer: LetterBalancer | None = None,
    counts: Counter | None = None,
) -> list[dict]:
    """Up to `per_scene` questions about scene `scene_seed` rendered at `size` (W, H).

    Each item: question, A, B, answer (letter), category, image (uint8 RGB array with the markers) and meta
    (scene seed and size, the markers with the objects they mark, the answer object, the margins, and
    `image_cue_agrees`: whether a 2-D shortcut gives the answer — lower bottom edge for closer, higher top
    edge for higher). `balancer` carries the answer-letter blocks across scenes (default: a fresh one from
    `rng`); `counts` collects why attempts failed."""
    width, height = size
    balancer = balancer or LetterBalancer(rng)
    counts = counts if counts is not None else Counter()
    scene = make_scene(scene_seed, width, height)
    side = region_side(width, height, REGION_FRAC, MIN_REGION_PX)
    views = object_views(scene, side)
    min_sep = min_center_separation(side, width, height)
    pairs = [(a, b) for i, a in enumerate(views) for b in views[i + 1 :]]
    order = [CATEGORIES[int(i)] for i in rng.permutation(len(CATEGORIES))]
    used: set[tuple[int, int]] = set()
    items = []
    for slot in range(per_scene):
        category = order[slot % len(order)]
        pool = []
        for a, b in pairs:
            if (a.index, b.index) in used:
                continue
            found = RULES[category](a, b)
            if found is not None:
                pool.append((a, b, *found))
        if not pool:
            counts[f"{category}: no qualifying pair"] += 1
            continue
        for j in rng.permutation(len(pool)):
            a, b, winner, margins, cue = pool[int(j)]
            centers = [((x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2) for x0, y0, x1, y1 in (a.box, b.box)]
            if math.dist(*centers) < min_sep:
                counts[f"{category}: markers too close"] += 1
                continue
            letter = balancer.peek(category)
            loser = b if winner is a else a
            first, second = (winner, loser) if letter == "A" else (loser, winner)
            regions = [{"box": first.box, "label": 1}, {"box": second.box, "label": 2}]
            drawn = draw_region_markers(scene.rgb, regions, side)
            if isinstance(drawn, MarkerFailure):
                counts[f"{category}: {drawn.reason}"] += 1
                continue
            image, records = drawn
            balancer.commit(category)
            used.add((a.index, b.index))
            markers = [
                {
                    "label": r["label"],
                    "box": r["box"],
                    "center": r["center"],
                    "ring_outer_radius": r["ring_outer_radius"],
                    "label_box": r["label_box"],
                    "object": v.name,
                    "object_id": v.index,
                    "ring_cover": round(v.ring_cover, 3),
                }
                for r, v in zip(records, (first, second))
            ]
            items.append(
                {
                    "question": QUESTIONS[category],
                    **OPTIONS,
                    "answer": letter,
                    "category": category,
                    "image": image,
                    "meta": {
                        "scene_seed": int(scene_seed),
                        "size": [width, height],
                        "region_side": side,
                        "markers": markers,
                        "answer_object": winner.name,
                        "margins": {k: round(float(v), 4) for k, v in margins.items()},
                        "image_cue_agrees": bool(cue),
                    },
                }
            )
            break
        else:
            counts[f"{category}: every qualifying pair failed"] += 1
    return items


def encode_image(image: np.ndarray, fmt: str = "jpeg") -> str:
    """Base64 of the image encoded as JPEG (quality 95, what most VLMEvalKit files hold) or PNG (lossless)."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(image).save(buf, format="JPEG", quality=95)
    elif fmt == "png":
        Image.fromarray(image).save(buf, format="PNG")
    else:
        raise ValueError(f"image format must be 'jpeg' or 'png', got {fmt!r}")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def meta_path(out_tsv: str | Path) -> Path:
    """The JSONL written next to the TSV: one record per row (index + the item's meta)."""
    out_tsv = Path(out_tsv)
    return out_tsv.with_name(out_tsv.stem + ".meta.jsonl")


def write_benchmark(
    out_tsv: str | Path,
    scene_seeds: list[int] | range,
    size: tuple[int, int] = (320, 240),
    per_scene: int = 3,
    seed: int = 0,
    image_format: str = "jpeg",
) -> dict[str, Any]:
    """Write the benchmark for the given scenes to `out_tsv` (+ `meta_path(out_tsv)`); returns statistics:
    items, scenes, per category n / A / B / image_cue_agreement / worst margins, failed attempts, timing."""
    t0 = time.perf_counter()
    out_tsv = Path(out_tsv)
    out_tsv.parent.mkdir(parents=True, exist_ok=True)
    balancer = LetterBalancer(np.random.default_rng([seed]))
    counts: Counter = Counter()
    rows, metas = [], []
    scenes_with_items = 0
    for s in scene_seeds:
        rng = np.random.default_rng([seed, int(s)])
        items = make_items(int(s), size, rng, per_scene=per_scene, balancer=balancer, counts=counts)
        scenes_with_items += bool(items)
        for item in items:
            index = len(rows)
            rows.append(
                {
                    **{c: item[c] for c in COLUMNS[2:]},
                    "index": index,
                    "image": encode_image(item["image"], image_format),
                }
            )
            metas.append({"index": index, **item["meta"]})
    with open(out_tsv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with open(meta_path(out_tsv), "w", encoding="utf-8") as fh:
        for m in metas:
            fh.write(json.dumps(m, sort_keys=True) + "\n")
    seconds = time.perf_counter() - t0
    per_category = {}
    for c in CATEGORIES:
        mine = [m for r, m in zip(rows, metas) if r["category"] == c]
        letters = Counter(r["answer"] for r in rows if r["category"] == c)
        keys = mine[0]["margins"] if mine else {}
        worst = {k: (max if k.startswith("max_") else min)(m["margins"][k] for m in mine) for k in keys}
        per_category[c] = {
            "n": len(mine),
            "A": letters["A"],
            "B": letters["B"],
            "image_cue_agreement": round(sum(m["image_cue_agrees"] for m in mine) / len(mine), 3) if mine else None,
            "worst_margins": worst,
        }
    return {
        "tsv": str(out_tsv),
        "items": len(rows),
        "scenes": len(scene_seeds),
        "scenes_with_items": scenes_with_items,
        "size": list(size),
        "per_category": per_category,
        "failed_attempts": dict(sorted(counts.items())),
        "seconds": round(seconds, 2),
        "seconds_per_item": round(seconds / max(1, len(rows)), 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the TSV to write (the meta JSONL goes next to it)")
    parser.add_argument("--scenes", type=int, default=40, help="number of scenes (default 40)")
    parser.add_argument("--first-seed", type=int, default=DEFAULT_FIRST_SEED, help="seed of the first scene")
    parser.add_argument("--size", default="320x240", help="WxH (default 320x240)")
    parser.add_argument("--per-scene", type=int, default=3, help="questions per scene (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the choices and answer letters")
    parser.add_argument("--image-format", choices=["jpeg", "png"], default="jpeg")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    seeds = range(args.first_seed, args.first_seed + args.scenes)
    stats = write_benchmark(args.out, seeds, (w, h), args.per_scene, args.seed, args.image_format)
    print(json.dumps(stats, indent=1))


if __name__ == "__main__":
    main()
