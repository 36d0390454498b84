"""Measure the quantities behind every default threshold of the five tasks and print Markdown tables.

Sources: the 4 bundled photos (plus random sub-crops of them, so the photo statistics rest on more
than 32 flips), procedural RGB-D scenes (`make_scene(seed, 640, 480)`, exact depth and 3-D points),
and hard cases generated here: a sky-like vertical gradient (clean and with mild noise), a grass-like
fine random texture, a uniform wall, and flat-wall depth maps at 5 m with 1 cm noise (per-pixel and
spatially smooth).

Everything is seeded, so the tables are identical from run to run (timings go to stderr).
Run: `python benchmarks/measure_thresholds.py [--quick]` (default: about a minute on one core).
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from PIL import Image

from spatial_ssrl import Rejection, Source, run_task
from spatial_ssrl.dataset.schema import encode_image
from spatial_ssrl.sources.discover import bundled_photos
from spatial_ssrl.sources.synthetic import SyntheticScene, make_scene
from spatial_ssrl.tasks._pixels import model_scale_gray, structure_diff, texture_std
from spatial_ssrl.tasks._regions import grid_boxes, usable_tiles
from spatial_ssrl.tasks.crop import DISTRACTOR_KINDS, CropParams, _distractor
from spatial_ssrl.tasks.depth_order import DepthOrderParams
from spatial_ssrl.tasks.flip import FlipParams
from spatial_ssrl.tasks.position import PositionParams
from spatial_ssrl.tasks.shuffle import ShuffleParams

W, H = 640, 480
WALL_DEPTH_M, WALL_NOISE_M = 5.0, 0.01
WALL_FOCAL = (W / 2.0) / math.tan(math.radians(30.0))  # a 60-degree horizontal field of view


@dataclass
class Case:
    group: str
    source: Source
    scene: SyntheticScene | None = None


@dataclass
class Config:
    n_scenes: int
    crops_per_photo: int
    hard_seeds: int
    attempts_rgb: int  # run_task attempts per (source, variant) for the RGB tasks
    holes_photo: int  # crop holes measured per photo / photo crop / synthetic / hard case
    holes_crop: int
    holes_scene: int
    holes_hard: int
    attempts_depth: int  # run_task attempts per (scene, setting) for depth_order and position
    attempts_facing: int  # position attempts per (scene, facing, variant, focal) with max_viewers=1


FULL = Config(30, 12, 3, 12, 40, 3, 8, 12, 40, 10)
QUICK = Config(8, 4, 1, 4, 10, 1, 3, 4, 10, 3)


# ------------------------------------------------------------------------------------------------
# Small helpers


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def f2(x: float, nd: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def share(k: int, n: int) -> str:
    return "–" if n == 0 else f"{100.0 * k / n:.1f}% ({k}/{n})"


def dist4(values, nd: int = 2) -> list[str]:
    """min / 5th percentile / median / max."""
    if not len(values):
        return ["–"] * 4
    lo, hi = float(np.min(values)), float(np.max(values))
    return [f2(lo, nd), f2(pct(values, 5), nd), f2(pct(values, 50), nd), f2(hi, nd)]


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def reasons(counter: Counter, total: int) -> str:
    items = [(k, v) for k, v in counter.most_common() if k != "accepted"]
    return ", ".join(f"{k} {100.0 * v / total:.0f}%" for k, v in items) if items else "none"


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode as the builder does (JPEG, no chroma subsampling) and decode."""
    return np.asarray(Image.open(io.BytesIO(encode_image(rgb, "jpeg", quality))).convert("RGB"))


# ------------------------------------------------------------------------------------------------
# Sources


def sky_rgb(seed: int, noise: float) -> np.ndarray:
    rng = np.random.default_rng(1000 + seed)
    top = np.array([70.0, 120.0, 200.0]) + rng.uniform(-15, 15, 3)
    bottom = np.array([190.0, 215.0, 240.0]) + rng.uniform(-10, 10, 3)
    t = np.linspace(0.0, 1.0, H)[:, None, None]
    img = np.broadcast_to(top * (1 - t) + bottom * t, (H, W, 3)).copy()
    if noise:
        img += rng.normal(0.0, noise, (H, W, 1))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def grass_rgb(seed: int, w: int = W, h: int = H) -> np.ndarray:
    """Fine random texture: per-pixel noise plus 4-px vertical 'blades', +-30% around a green."""
    rng = np.random.default_rng(2000 + seed)
    blades = np.repeat(rng.normal(0.0, 1.0, (h // 4 + 1, w)), 4, axis=0)[:h]
    fine = rng.normal(0.0, 1.0, (h, w))
    v = 0.6 * blades + 0.8 * fine
    base = np.array([70.0, 130.0, 45.0])
    return np.clip(np.rint(base * (1.0 + 0.3 * v)[..., None]), 0, 255).astype(np.uint8)


def wall_rgb(seed: int) -> np.ndarray:
    rng = np.random.default_rng(3000 + seed)
    base = np.array([200.0, 190.0, 170.0]) + rng.uniform(-20, 20, 3)
    img = base + rng.normal(0.0, 2.0, (H, W, 1))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def smooth_noise(rng: np.random.Generator, cell: int = 40) -> np.ndarray:
    """Unit-std noise correlated over ~`cell` px (bicubic upsampling of a coarse random grid)."""
    grid = rng.normal(0.0, 1.0, (H // cell + 2, W // cell + 2)).astype(np.float32)
    up = np.asarray(Image.fromarray(grid).resize((W, H), Image.Resampling.BICUBIC), np.float64)
    return (up - up.mean()) / up.std()


def wall_depth(seed: int, smooth: bool) -> np.ndarray:
    rng = np.random.default_rng(4000 + seed)
    noise = smooth_noise(rng) if smooth else rng.normal(0.0, 1.0, (H, W))
    return (WALL_DEPTH_M + WALL_NOISE_M * noise).astype(np.float32)


def photo_crops(photos: list[Source], per_photo: int) -> list[Source]:
    out = []
    for k, p in enumerate(photos):
        rng = np.random.default_rng(5000 + k)
        for i in range(per_photo):
            cw, ch = (int(rng.uniform(0.5, 0.9) * s) for s in (p.width, p.height))
            x0, y0 = int(rng.integers(0, p.width - cw + 1)), int(rng.integers(0, p.height - ch + 1))
            out.append(Source(f"{p.id}#crop{i}", p.rgb[y0 : y0 + ch, x0 : x0 + cw]))
    return out


def build_cases(cfg: Config) -> dict[str, list[Case]]:
    photos = [ref.load() for ref in bundled_photos()]
    groups: dict[str, list[Case]] = defaultdict(list)
    groups["photos"] = [Case("photos", p) for p in photos]
    groups["photo crops"] = [Case("photo crops", p) for p in photo_crops(photos, cfg.crops_per_photo)]
    for seed in range(cfg.n_scenes):
        scene = make_scene(seed, W, H)
        sid = f"synthetic/scene-{seed:05d}"
        groups["synthetic"].append(Case("synthetic", scene.to_source(sid), scene))
    for k in range(cfg.hard_seeds):
        groups["sky, clean gradient"].append(Case("sky, clean gradient", Source(f"hard/sky-clean-{k}", sky_rgb(k, 0))))
        groups["sky, gradient + noise"].append(
            Case("sky, gradient + noise", Source(f"hard/sky-noisy-{k}", sky_rgb(k, 2.0)))
        )
        groups["grass, fine texture"].append(Case("grass, fine texture", Source(f"hard/grass-{k}", grass_rgb(k))))
        groups["wall, uniform + noise"].append(Case("wall, uniform + noise", Source(f"hard/wall-rgb-{k}", wall_rgb(k))))
        for smooth, name in ((True, "flat wall, smooth 1 cm noise"), (False, "flat wall, per-pixel 1 cm noise")):
            depth = wall_depth(k, smooth)
            src = Source(f"hard/{name}-{k}", wall_rgb(k), depth=depth, focal_px=WALL_FOCAL)
            groups[name].append(Case(name, src))
    return groups


RGB_GROUPS = [
    "photos",
    "photo crops",
    "synthetic",
    "sky, clean gradient",
    "sky, gradient + noise",
    "grass, fine texture",
    "wall, uniform + noise",
]
HARD_RGB = RGB_GROUPS[3:]
WALL_GROUPS = ["flat wall, smooth 1 cm noise", "flat wall, per-pixel 1 cm noise"]


def depth_groups(groups: dict[str, list[Case]]) -> dict[str, list[Case]]:
    out = {
        "synthetic, sky": [c for c in groups["synthetic"] if c.scene.camera["sky"]],
        "synthetic, walled": [c for c in groups["synthetic"] if not c.scene.camera["sky"]],
    }
    for name in WALL_GROUPS:
        out[name] = groups[name]
    return out


def run_many(task: str, cases: list[Case], attempts: int, params=None, variant=None, focal_none: bool = False):
    """run_task over cases x attempt indices; yields (case, result)."""
    for case in cases:
        src = case.source
        if focal_none:
            src = Source(src.id, src.rgb, depth=src.depth, valid=src.valid, focal_px=None)
        for i in range(attempts):
            yield case, run_task(task, src, seed=0, index=i, params=params, variant=variant)


def acceptance_rows(task: str, groups, names, attempts: int, variants: list[str | None]) -> list[list]:
    rows = []
    for name in names:
        counter: Counter = Counter()
        for variant in variants:
            for _, r in run_many(task, groups[name], attempts, variant=variant):
                counter["accepted" if not isinstance(r, Rejection) else r.reason] += 1
        total = sum(counter.values())
        rows.append([name, total, share(counter["accepted"], total), reasons(counter, total)])
    return rows


# ------------------------------------------------------------------------------------------------
# Flip


def section_flip(groups, cfg: Config) -> None:
    p = FlipParams()
    print("## flip\n")
    print(
        f"Defaults: `min_flip_diff={p.min_flip_diff}`, `min_direction_diff={p.min_direction_diff}` "
        "(mean absolute grey difference at 64-px model scale, 0-255).\n"
    )
    rows, jrows = [], []
    pooled_gap = 0.0
    n_pieces = n_decisions = 0
    for name in RGB_GROUPS:
        per_dir = {0: [], 1: []}
        ident = {0: 0, 1: 0}
        rejected = {0: 0, 1: 0}
        dir_diffs = []
        j95, j75 = [], []
        for case in groups[name]:
            rgb = case.source.rgb
            h, w = rgb.shape[:2]
            boxes = grid_boxes(w, h, 2, 2)
            enc = {q: jpeg_roundtrip(rgb, q) for q in (95, 75)}
            for x0, y0, x1, y1 in boxes:
                piece = rgb[y0:y1, x0:x1]
                dd = structure_diff(piece[::-1], piece[:, ::-1])
                dir_diffs.append(dd)
                small = model_scale_gray(piece)
                n_pieces += 1
                for d in (0, 1):
                    flipped = piece[::-1] if d == 0 else piece[:, ::-1]
                    fd = structure_diff(piece, flipped)
                    per_dir[d].append(fd)
                    ident[d] += int(np.array_equal(piece, flipped))
                    rejected[d] += int(fd < p.min_flip_diff or dd < p.min_direction_diff)
                    # The task pools once and flips the pooled image; compare with pooling the flip.
                    task_fd = float(np.abs(small - (small[::-1] if d == 0 else small[:, ::-1])).mean())
                    pooled_gap = max(pooled_gap, abs(task_fd - fd))
                    n_decisions += int((task_fd < p.min_flip_diff) != (fd < p.min_flip_diff))
                j95.append(structure_diff(piece, enc[95][y0:y1, x0:x1]))
                j75.append(structure_diff(piece, enc[75][y0:y1, x0:x1]))
        for d, label in ((0, "vertical"), (1, "horizontal")):
            v = per_dir[d]
            below = sum(x < p.min_flip_diff for x in v)
            rows.append([name, label, len(v), *dist4(v), share(below, len(v)), share(rejected[d], len(v)), ident[d]])
        jrows.append([name, len(j95), f2(pct(j95, 50)), f2(max(j95)), f2(pct(j75, 50)), f2(max(j75))])
        rows_dir = dist4(dir_diffs)
        rows[-1].append(" / ".join(rows_dir))
        rows[-2].append(" / ".join(rows_dir))

    print("### Flip difference `structure_diff(piece, flip(piece))`, every 2x2 piece and both directions\n")
    print(
        table(
            [
                "source",
                "direction",
                "flips",
                "min",
                "p5",
                "median",
                "max",
                f"< min_flip_diff ({p.min_flip_diff})",
                "rejected (flip or direction check)",
                "pixel-identical",
                "V-vs-H difference min / p5 / median / max",
            ],
            rows,
        )
    )
    print(
        f"\nTask's pooled-then-flipped difference vs `structure_diff` of the flipped piece: largest gap "
        f"{pooled_gap:.3f} grey levels over {n_pieces} pieces x 2 directions; the accept/reject decision at "
        f"`min_flip_diff` differs in {n_decisions} of {2 * n_pieces} flips.\n"
    )
    print("### Resolution dependence: flip difference of the grass texture at three image sizes\n")
    grows = []
    for gw, gh in ((320, 240), (640, 480), (1280, 960)):
        v = []
        for k in range(cfg.hard_seeds):
            rgb = grass_rgb(k, gw, gh)
            for x0, y0, x1, y1 in grid_boxes(gw, gh, 2, 2):
                piece = rgb[y0:y1, x0:x1]
                v += [structure_diff(piece, piece[::-1]), structure_diff(piece, piece[:, ::-1])]
        grows.append([f"{gw}x{gh}", len(v), *dist4(v), share(sum(x < p.min_flip_diff for x in v), len(v))])
    print(table(["image size", "flips", "min", "p5", "median", "max", f"< {p.min_flip_diff}"], grows))
    print()
    print("### JPEG noise floor `structure_diff(piece, jpeg(piece))` (whole image encoded, no chroma subsampling)\n")
    print(table(["source", "pieces", "q95 median", "q95 max", "q75 median", "q75 max"], jrows))
    print("\n### run_task acceptance (both variants)\n")
    rows = acceptance_rows("flip", groups, RGB_GROUPS, cfg.attempts_rgb, ["vertical", "horizontal"])
    print(table(["source", "attempts", "accepted", "rejections"], rows))
    print()


# ------------------------------------------------------------------------------------------------
# Shuffle

LAYOUTS = [(2, 2), (1, 3), (1, 4), (3, 1), (4, 1)]


def section_shuffle(groups, cfg: Config) -> None:
    p = ShuffleParams()
    print("## shuffle\n")
    print(
        f"Defaults: `min_piece_std={p.min_piece_std}` (grey std at 64-px scale), "
        f"`min_pair_diff={p.min_pair_diff}` (mean absolute grey difference). "
        "Layouts measured: 2x2, 1x3, 1x4, 3x1, 4x1 (rows x cols).\n"
    )
    rows, jrows, lrows = [], [], []
    by_layout: dict[tuple, list] = defaultdict(list)
    for name in RGB_GROUPS:
        stds, pairs, j95, j75, jpair = [], [], [], [], []
        for case in groups[name]:
            rgb = case.source.rgb
            h, w = rgb.shape[:2]
            enc = {q: jpeg_roundtrip(rgb, q) for q in (95, 75)}
            for rows_, cols in LAYOUTS:
                boxes = grid_boxes(w, h, rows_, cols)
                pieces = [rgb[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes]
                stds += [texture_std(pc) for pc in pieces]
                small = [model_scale_gray(pc) for pc in pieces]
                pd = min(
                    float(np.abs(small[a] - small[b]).mean())
                    for a in range(len(pieces))
                    for b in range(a + 1, len(pieces))
                )
                pairs.append(pd)
                if name not in HARD_RGB:
                    by_layout[(rows_, cols)].append(pd)
                jsmall = [model_scale_gray(enc[75][y0:y1, x0:x1]) for x0, y0, x1, y1 in boxes]
                pdj = min(
                    float(np.abs(jsmall[a] - jsmall[b]).mean())
                    for a in range(len(pieces))
                    for b in range(a + 1, len(pieces))
                )
                jpair.append(abs(pdj - pd))
                for x0, y0, x1, y1 in boxes:
                    j95.append(structure_diff(rgb[y0:y1, x0:x1], enc[95][y0:y1, x0:x1]))
                    j75.append(structure_diff(rgb[y0:y1, x0:x1], enc[75][y0:y1, x0:x1]))
        below_std = sum(s < p.min_piece_std for s in stds)
        below_pair = sum(s < p.min_pair_diff for s in pairs)
        rows.append(
            [
                name,
                len(stds),
                " / ".join(dist4(stds)),
                share(below_std, len(stds)),
                len(pairs),
                " / ".join(dist4(pairs)),
                share(below_pair, len(pairs)),
            ]
        )
        jrows.append([name, len(j95), f2(pct(j95, 50)), f2(max(j95)), f2(pct(j75, 50)), f2(max(j75)), f2(max(jpair))])
    print("### Piece texture and the closest pair of pieces, per source and layout\n")
    print(
        table(
            [
                "source",
                "pieces",
                "texture std min / p5 / median / max",
                f"< min_piece_std ({p.min_piece_std})",
                "layouts",
                "min pair diff min / p5 / median / max",
                f"< min_pair_diff ({p.min_pair_diff})",
            ],
            rows,
        )
    )
    print("\n### Closest pair of pieces by layout (photos, photo crops and synthetic together)\n")
    for (r, c), v in by_layout.items():
        lrows.append([f"{r}x{c}", len(v), *dist4(v), share(sum(x < p.min_pair_diff for x in v), len(v))])
    print(table(["layout", "layouts", "min", "p5", "median", "max", f"< {p.min_pair_diff}"], lrows))
    print("\n### JPEG noise floor for pieces, and its effect on the closest-pair difference\n")
    print(
        table(
            [
                "source",
                "pieces",
                "q95 median",
                "q95 max",
                "q75 median",
                "q75 max",
                "max change of min pair diff at q75",
            ],
            jrows,
        )
    )
    print("\n### run_task acceptance (variants drawn with the default weights)\n")
    print(
        table(
            ["source", "attempts", "accepted", "rejections"],
            acceptance_rows("shuffle", groups, RGB_GROUPS, cfg.attempts_rgb * 2, [None]),
        )
    )
    print()


# ------------------------------------------------------------------------------------------------
# Crop


def section_crop(groups, cfg: Config) -> None:
    p = CropParams()
    print("## crop\n")
    print(
        f"Default: `min_distractor_diff={p.min_distractor_diff}` (structure_diff between a distractor and the "
        "true patch). All five kinds are measured for every hole (the task draws three).\n"
    )
    holes = {
        "photos": cfg.holes_photo,
        "photo crops": cfg.holes_crop,
        "synthetic": cfg.holes_scene,
    }
    rows, jrows = [], []
    shifted = Counter()
    n_holes_total = 0
    for name in RGB_GROUPS:
        n_holes = holes.get(name, cfg.holes_hard)
        diffs: dict[str, list] = defaultdict(list)
        j95, j75 = [], []
        for ci, case in enumerate(groups[name]):
            rgb = case.source.rgb
            h, w = rgb.shape[:2]
            s = min(h, w) // 2
            rng = np.random.default_rng(6000 + ci)
            enc = {q: jpeg_roundtrip(rgb, q) for q in (95, 75)}
            for _ in range(n_holes):
                x0, y0 = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
                patch = rgb[y0 : y0 + s, x0 : x0 + s]
                for kind in DISTRACTOR_KINDS:
                    diffs[kind].append(structure_diff(_distractor(kind, rgb, patch, x0, y0, s), patch))
                for kind, g in (("grow_quarter", s // 4), ("grow_half", s // 2)):
                    side = s + 2 * g
                    gx, gy = min(max(x0 - g, 0), w - side), min(max(y0 - g, 0), h - side)
                    shifted[kind] += int((gx, gy) != (x0 - g, y0 - g))
                n_holes_total += 1
                j95.append(structure_diff(patch, enc[95][y0 : y0 + s, x0 : x0 + s]))
                j75.append(structure_diff(patch, enc[75][y0 : y0 + s, x0 : x0 + s]))
        for kind in DISTRACTOR_KINDS:
            v = diffs[kind]
            rows.append([name, kind, len(v), *dist4(v), share(sum(x < p.min_distractor_diff for x in v), len(v))])
        jrows.append([name, len(j95), f2(pct(j95, 50)), f2(max(j95)), f2(pct(j75, 50)), f2(max(j75))])
    print("### Distractor-vs-true difference per kind\n")
    print(table(["source", "kind", "holes", "min", "p5", "median", "max", f"< {p.min_distractor_diff}"], rows))
    print(
        f"\nGrown regions shifted inside the image (hole too close to a border): grow_quarter "
        f"{share(shifted['grow_quarter'], n_holes_total)}, grow_half {share(shifted['grow_half'], n_holes_total)}.\n"
    )
    print("### JPEG noise floor of the true patch\n")
    print(table(["source", "patches", "q95 median", "q95 max", "q75 median", "q75 max"], jrows))
    print("\n### run_task acceptance and the accepted margin (smallest distractor difference)\n")
    rows = []
    for name in RGB_GROUPS:
        counter: Counter = Counter()
        margins = []
        for _, r in run_many("crop", groups[name], cfg.attempts_rgb * 2):
            if isinstance(r, Rejection):
                counter[r.reason] += 1
            else:
                counter["accepted"] += 1
                margins.append(r.meta["margins"]["min_distractor_diff"])
        total = sum(counter.values())
        rows.append([name, total, share(counter["accepted"], total), reasons(counter, total), *dist4(margins)])
    print(table(["source", "attempts", "accepted", "rejections", "margin min", "p5", "median", "max"], rows))
    print()


# ------------------------------------------------------------------------------------------------
# Depth ordering


def paper_rule_accepts(source: Source, seed: int) -> bool:
    """The paper's rule alone: flat regions (normalised spread <= 0.15, min-max of linear depth) and
    three of them pairwise >= 0.05 apart in normalised depth; no interval or relative-gap check and
    no marker spacing."""
    params = DepthOrderParams(normalise_space="linear")
    found = usable_tiles("depth_order", source, np.random.default_rng(seed), params)
    if isinstance(found, Rejection):
        return False
    t, _ = found
    picked = []
    for v in np.sort(t["n_mean"]):  # greedy from the nearest finds a chain whenever one exists
        if not picked or v - picked[-1] >= params.min_norm_gap:
            picked.append(v)
    return len(picked) >= params.n_regions


def section_depth(groups, cfg: Config) -> None:
    p = DepthOrderParams()
    dgroups = depth_groups(groups)
    print("## depth_order\n")
    print(
        f"Defaults: `max_region_spread={p.max_region_spread}`, `min_norm_gap={p.min_norm_gap}`, "
        f"`min_rel_gap={p.min_rel_gap}`, `clip_percentiles={p.clip_percentiles}`, "
        f"`normalise_space={p.normalise_space!r}`. Scenes: "
        + ", ".join(f"{k}: {len(v)}" for k, v in dgroups.items())
        + f"; {cfg.attempts_depth} attempts per scene and setting.\n"
    )
    rows, mrows, nrows = [], [], []
    for name, cases in dgroups.items():
        for space in ("log", "linear"):
            params = DepthOrderParams(normalise_space=space)
            counter: Counter = Counter()
            gaps, rels = [], []
            for _, r in run_many("depth_order", cases, cfg.attempts_depth, params=params):
                if isinstance(r, Rejection):
                    counter[r.reason] += 1
                else:
                    counter["accepted"] += 1
                    gaps.append(r.meta["margins"]["min_norm_gap"])
                    rels.append(r.meta["margins"]["min_rel_gap"])
            total = sum(counter.values())
            rows.append([name, space, total, share(counter["accepted"], total), reasons(counter, total)])
            if gaps:
                mrows.append([name, space, len(gaps), " / ".join(dist4(gaps, 3)), " / ".join(dist4(rels, 3))])
            # How much of the normalised range nearby content gets.
            med, n_tiles, in_low, ratio = [], [], [], []
            for case in cases:
                src = case.source
                vals = src.depth[src.valid]
                lo, hi = np.percentile(np.log(vals) if space == "log" else vals, params.clip_percentiles)
                m = float(np.median(vals))
                d_lo, d_hi = np.percentile(vals, params.clip_percentiles)
                ratio.append(float(d_hi / d_lo))
                med.append(((math.log(m) if space == "log" else m) - lo) / (hi - lo))
                found = usable_tiles("depth_order", src, np.random.default_rng(0), params)
                if not isinstance(found, Rejection):
                    t, _ = found
                    n_tiles.append(len(t["n_mean"]))
                    if len(t["n_mean"]):
                        in_low.append(float(np.mean(t["n_mean"] < 0.05)))
            nrows.append(
                [
                    name,
                    space,
                    f2(float(np.median(med)), 3),
                    f2(float(np.mean(n_tiles)) if n_tiles else float("nan"), 0),
                    f2(100 * float(np.mean(in_low)) if in_low else float("nan"), 1),
                    f2(float(np.median(ratio)), 1),
                    f2(100 * (float(np.median(ratio)) ** params.min_norm_gap - 1), 1) if space == "log" else "–",
                ]
            )
    print("### Acceptance per scene type, log vs linear normalisation\n")
    print(table(["scenes", "normalisation", "attempts", "accepted", "rejections"], rows))
    print("\n### Margins of accepted samples (min / p5 / median / max)\n")
    print(table(["scenes", "normalisation", "accepted", "min_norm_gap", "min_rel_gap"], mrows))
    print("\n### Where nearby content lands in [0, 1] (median over scenes)\n")
    print(
        table(
            [
                "scenes",
                "normalisation",
                "normalised depth of the median valid pixel",
                "flat usable tiles per scene (mean)",
                "% of usable tiles in [0, 0.05)",
                "clipped depth range p99.5 / p0.5",
                "relative depth gap implied by a 0.05 log-normalised gap (%)",
            ],
            nrows,
        )
    )

    print("\n### Flat wall (5 m, 1 cm noise): accepted samples under each rule\n")
    wrows = []
    settings = [
        ("defaults (log, min_rel_gap=0.10)", DepthOrderParams()),
        ("linear, min_rel_gap=0.10", DepthOrderParams(normalise_space="linear")),
        ("log, min_rel_gap=0 (interval check kept)", DepthOrderParams(min_rel_gap=0.0)),
        ("linear, min_rel_gap=0 (interval check kept)", DepthOrderParams(normalise_space="linear", min_rel_gap=0.0)),
    ]
    for name in WALL_GROUPS:
        cases = dgroups[name]
        for label, params in settings:
            counter: Counter = Counter()
            for _, r in run_many("depth_order", cases, cfg.attempts_depth, params=params):
                counter["accepted" if not isinstance(r, Rejection) else r.reason] += 1
            total = sum(counter.values())
            wrows.append([name, label, total, share(counter["accepted"], total), reasons(counter, total)])
        n = len(cases) * cfg.attempts_depth
        ok = sum(paper_rule_accepts(c.source, i) for c in cases for i in range(cfg.attempts_depth))
        wrows.append([name, "paper's rule alone (linear, spread + 0.05 gap only)", n, share(ok, n), "–"])
    print(table(["depth map", "rule", "attempts", "accepted", "rejections"], wrows))
    print()


# ------------------------------------------------------------------------------------------------
# Relative position


# The position rule of docs/tasks.md, written out here independently of the task module: facing ->
# (forward, right) as (x, z) vectors; facing +z has right +x, -z has right -x, -x has right +z, +x has right -z.
RULE_FACINGS = {
    "away": ((0.0, 1.0), (1.0, 0.0)),
    "toward": ((0.0, -1.0), (-1.0, 0.0)),
    "left": ((-1.0, 0.0), (0.0, 1.0)),
    "right": ((1.0, 0.0), (0.0, -1.0)),
}


def uses_x(facing: str, answer: str) -> bool:
    if "-" in answer:
        return True
    lateral = answer in ("Left", "Right")
    return lateral if facing in ("away", "toward") else not lateral


def true_offset(scene: SyntheticScene, markers: list[dict]) -> tuple[float, float]:
    xz = []
    for m in markers:
        x0, y0, x1, y1 = m["box"]
        pts = scene.points[y0:y1, x0:x1].reshape(-1, 3)
        pts = pts[np.isfinite(pts).all(axis=1)]
        xz.append((float(pts[:, 0].mean()), float(pts[:, 2].mean())))
    return xz[1][0] - xz[0][0], xz[1][1] - xz[0][1]


def uses_z(facing: str, answer: str) -> bool:
    if "-" in answer:
        return True
    lateral = answer in ("Left", "Right")
    return not lateral if facing in ("away", "toward") else lateral


def answer_holds(facing: str, answer: str, dx: float, dz: float) -> bool:
    (fx, fz), (rx, rz) = RULE_FACINGS[facing]
    front, right = dx * fx + dz * fz, dx * rx + dz * rz
    ok = True
    for part in answer.split("-"):
        ok &= {"Front": front > 0, "Back": front < 0, "Right": right > 0, "Left": right < 0}[part]
    return ok


def section_position(groups, cfg: Config) -> None:
    p = PositionParams()
    dgroups = depth_groups(groups)
    names = ["synthetic, sky", "synthetic, walled", "flat wall, smooth 1 cm noise"]
    half = math.tan(math.radians(p.assumed_hfov_deg) / 2.0)
    hfov_lo = 2 * math.degrees(math.atan(half / p.focal_uncertainty))
    hfov_hi = 2 * math.degrees(math.atan(half * p.focal_uncertainty))
    print("## position\n")
    print(
        f"Defaults: `min_rel_offset={p.min_rel_offset}`, `dominance_ratio={p.dominance_ratio}`, "
        f"`diagonal_min_ratio={p.diagonal_min_ratio}`, `min_pixel_sep_frac={p.min_pixel_sep_frac}`, "
        f"`assumed_hfov_deg={p.assumed_hfov_deg}`, `focal_uncertainty={p.focal_uncertainty}`, "
        f"`max_viewers={p.max_viewers}`. Unknown focal = the same source rebuilt with `focal_px=None` "
        f"(the task then requires its conditions for horizontal fields of view {hfov_lo:.1f}-{hfov_hi:.1f} degrees). "
        f"{cfg.attempts_depth} attempts per scene, variant (cardinal, diagonal) and focal setting.\n"
    )
    rows, crows = [], []
    for name in names:
        for focal_none in (False, True):
            focal = "unknown" if focal_none else "known"
            n_acc = n_x = n_z = disagree_all = disagree_x = wrong = n_checked = 0
            counter: Counter = Counter()
            for variant in ("cardinal", "diagonal"):
                for case, r in run_many(
                    "position", dgroups[name], cfg.attempts_depth, variant=variant, focal_none=focal_none
                ):
                    if isinstance(r, Rejection):
                        counter[r.reason] += 1
                        continue
                    counter["accepted"] += 1
                    n_acc += 1
                    facing, answer = r.meta["facing"], r.meta["answer_text"]
                    mk = r.meta["markers"]
                    px = mk[1]["center"][0] - mk[0]["center"][0]
                    if case.scene is not None:
                        dx, dz = true_offset(case.scene, mk)
                        n_checked += 1
                        wrong += int(not answer_holds(facing, answer, dx, dz))
                    else:
                        dx = r.meta["offset_xz"][0]
                    dis = int(np.sign(px) != np.sign(dx))
                    disagree_all += dis
                    n_z += int(uses_z(facing, answer))
                    if uses_x(facing, answer):
                        n_x += 1
                        disagree_x += dis
            total = sum(counter.values())
            rows.append([name, focal, total, share(counter["accepted"], total), reasons(counter, total)])
            crows.append(
                [
                    name,
                    focal,
                    n_acc,
                    share(disagree_all, n_acc),
                    share(disagree_x, n_x),
                    share(n_z, n_acc),
                    share(wrong, n_checked) if n_checked else "– (no 3-D points)",
                ]
            )
    print("### Acceptance, known vs unknown focal length (both variants, default search effort)\n")
    print(table(["scenes", "focal", "attempts", "accepted", "rejections"], rows))
    print("\n### Pixel-column order vs metric X order, and answers checked against the exact 3-D points\n")
    print(
        table(
            [
                "scenes",
                "focal",
                "accepted",
                "pixel order != metric X order (all)",
                "... among answers that use the x axis",
                "answers that use the z axis",
                "answers contradicting the scene's 3-D points",
            ],
            crows,
        )
    )
    print(
        "\n### How often a single random viewer region has a clear target (`max_viewers=1`), per facing\n\n"
        f"Each facing forced through `facing_weights`; {cfg.attempts_facing} attempts per scene, facing, variant "
        "and focal setting.\n"
    )
    frows = []
    for name in names[:2]:
        for focal_none in (False, True):
            cells = []
            for facing in RULE_FACINGS:
                params = PositionParams(max_viewers=1, facing_weights={facing: 1.0})
                ok = n = 0
                for variant in ("cardinal", "diagonal"):
                    for _, r in run_many(
                        "position", dgroups[name], cfg.attempts_facing, params, variant, focal_none=focal_none
                    ):
                        n += 1
                        ok += int(not isinstance(r, Rejection))
                cells.append(share(ok, n))
            frows.append([name, "unknown" if focal_none else "known", *cells])
    print(table(["scenes", "focal", *RULE_FACINGS], frows))
    print()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer scenes and attempts (a few seconds)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    start = time.perf_counter()
    groups = build_cases(cfg)
    print(f"# Threshold measurements ({'quick' if args.quick else 'default'} run)\n")
    print(
        "Sources: "
        + ", ".join(f"{name}: {len(groups[name])}" for name in RGB_GROUPS + WALL_GROUPS)
        + f". Synthetic scenes are `make_scene(seed, {W}, {H})` for seeds 0..{cfg.n_scenes - 1}. "
        "All differences are grey levels (0-255) at the 64-px model scale of `spatial_ssrl.tasks._pixels`.\n"
    )
    for section in (section_flip, section_shuffle, section_crop, section_depth, section_position):
        t0 = time.perf_counter()
        section(groups, cfg)
        print(f"[{section.__name__}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr)
    print(f"[total: {time.perf_counter() - start:.1f} s]", file=sys.stderr)


if __name__ == "__main__":
    main()
