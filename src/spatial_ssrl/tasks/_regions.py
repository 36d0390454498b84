"""Depth regions the RGB-D tasks mark: per-image depth normalisation, tile statistics, usable tiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spatial_ssrl.engine.sample import Rejection, Source
from spatial_ssrl.tasks._render import marker_geometry


def depth_normaliser(
    depth: np.ndarray, valid: np.ndarray, lo_pct: float, hi_pct: float, space: str = "log"
) -> Callable[[np.ndarray], np.ndarray] | None:
    """The per-image map from true depth to normalised depth in [0, 1]: clip to the given
    percentiles of valid depth, then min-max scale.

    space="linear" is the paper's min-max normalisation of depth. space="log" (default) normalises
    log-depth instead: equal steps then mean equal depth *ratios*, so a far horizon no longer
    squeezes every nearby region into [0, 0.05] (measured in docs/tasks.md). The map is monotonic,
    so it is applied to per-region statistics, never to the whole image. Percentiles come from a
    1-in-16 pixel subsample when that still leaves over a thousand values."""
    if space not in ("log", "linear"):
        raise ValueError(f"depth normalisation space must be 'log' or 'linear', got {space!r}")
    values = depth[::4, ::4][valid[::4, ::4]]
    if values.size < 1024:
        values = depth[valid]
    if values.size < 16:
        return None
    transform = np.log if space == "log" else (lambda a: a)
    lo, hi = np.percentile(transform(values), [lo_pct, hi_pct])
    if not hi > lo:
        return None

    def normalise(d: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.clip(transform(d), lo, hi) - lo) / (hi - lo)

    return normalise


def tile_stats(depth: np.ndarray, valid: np.ndarray, side: int, offset: tuple[int, int]) -> dict[str, np.ndarray]:
    """Depth statistics of every `side` x `side` tile of a grid starting at pixel `offset` (x, y).

    The tiles are gathered into one (tiles, side*side) array so every reduction runs along a long
    contiguous axis (5x faster than reducing a strided 4-D view). Invalid pixels are NaN, which
    fmin/fmax skip. Returns per tile: box, valid fraction, and mean/min/max of valid depth."""
    ox, oy = offset
    h, w = depth.shape
    nr, nc = (h - oy) // side, (w - ox) // side
    if nr <= 0 or nc <= 0:
        return {"box": np.zeros((0, 4), int)}

    def tiles(a: np.ndarray) -> np.ndarray:
        a = a[oy : oy + nr * side, ox : ox + nc * side]
        return a.reshape(nr, side, nc, side).transpose(0, 2, 1, 3).reshape(nr * nc, side * side)

    d, v = tiles(depth), tiles(valid)
    count = v.sum(axis=1)
    with np.errstate(invalid="ignore"):
        d_min = np.fmin.reduce(d, axis=1)
        d_max = np.fmax.reduce(d, axis=1)
        d_sum = np.where(v, d, 0).sum(axis=1)
    r, cidx = np.divmod(np.arange(nr * nc), nc)
    x0, y0 = ox + cidx * side, oy + r * side
    return {
        "box": np.stack([x0, y0, x0 + side, y0 + side], axis=1),
        "valid_frac": count / (side * side),
        "d_mean": d_sum / np.maximum(count, 1),
        "d_min": d_min,
        "d_max": d_max,
    }


def region_side(width: int, height: int, frac: float, min_px: int) -> int:
    """Side in pixels of a square region: `frac` of the image's short side, at least `min_px`."""
    return max(min_px, round(frac * min(width, height)))


def usable_tiles(task: str, source: Source, rng: np.random.Generator, params: Any) -> tuple[dict, int] | Rejection:
    """Tiles fit to be marked: almost fully valid, flat in depth, and far enough from the border for a
    marker. `params` provides region_frac, min_region_px, min_valid_frac, max_region_spread,
    max_region_depth_ratio, clip_percentiles and normalise_space (depth ordering and relative position
    share these names).

    Flat means both: a normalised spread of at most max_region_spread (the paper's rule, relative to the
    image's depth range, so it allows 1.78x inside a region of a scene spanning 1-50 m), and a true-depth
    ratio max/min of at most max_region_depth_ratio (absolute: a circled region never straddles an edge
    such as a tree trunk in front of the street)."""
    side = region_side(source.width, source.height, params.region_frac, params.min_region_px)
    normalise = depth_normaliser(source.depth, source.valid, *params.clip_percentiles, params.normalise_space)
    if normalise is None:
        return Rejection(task, "depth.too_few_valid", "fewer than 16 valid depth samples or constant depth")
    offset = (int(rng.integers(side)), int(rng.integers(side)))
    stats = tile_stats(source.depth, source.valid, side, offset)
    if len(stats["box"]) == 0:
        return Rejection(task, "depth.too_small", f"image smaller than one {side}px region")
    ring = marker_geometry(side, source.width, source.height)["radius"]
    box = stats["box"]
    inside = (
        (box[:, 0] >= ring)
        & (box[:, 1] >= ring)
        & (box[:, 2] <= source.width - ring)
        & (box[:, 3] <= source.height - ring)
    )
    # A region's normalised depth is that of its mean depth; its spread that of its min and max.
    for key in ("mean", "min", "max"):
        stats[f"n_{key}"] = normalise(stats[f"d_{key}"])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_ok = stats["d_max"] <= params.max_region_depth_ratio * stats["d_min"]
    flat = (stats["n_max"] - stats["n_min"] <= params.max_region_spread) & ratio_ok
    ok = inside & (stats["valid_frac"] >= params.min_valid_frac) & flat
    keep = np.flatnonzero(ok)
    stats = {k: v[keep] for k, v in stats.items()}
    return stats, side


def min_center_separation(side: int, width: int, height: int) -> float:
    """Centres closer than this would make two markers (ring + label) overlap."""
    geo = marker_geometry(side, width, height)
    return 2.0 * geo["radius"] + 1.5 * geo["label_height"]
