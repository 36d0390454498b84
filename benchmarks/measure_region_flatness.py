"""Region flatness in true depth: how far apart the nearest and farthest pixel of a circled region are,
with and without the `max_region_depth_ratio` rule, and what the rule costs in accepted samples.

Three kinds of RGB-D source, 40 each, 5 samples per source of depth_order and of position:
- synthetic: the project's procedural scenes (`sources.synthetic.make_scene`);
- DIODE-like: dense metric depth of an outdoor street: a ground plane receding to a far facade, near
  vertical trunks and poles (depth edges a 3% region can straddle), 1% multiplicative noise, 2% holes;
- MegaDepth-like: sparse depth, valid only on a few building planes (most of the image invalid).

    python benchmarks/measure_region_flatness.py [--sources 40]
"""

from __future__ import annotations

import argparse

import numpy as np

import spatial_ssrl.tasks  # noqa: F401 - registers the tasks
from spatial_ssrl import Rejection, run_task
from spatial_ssrl.engine.sample import Source
from spatial_ssrl.sources.synthetic import make_scene
from spatial_ssrl.tasks.depth_order import DepthOrderParams
from spatial_ssrl.tasks.position import PositionParams


def diode_like(seed: int, w: int = 640, h: int = 480) -> Source:
    """Dense outdoor depth with edges (see the module docstring)."""
    rng = np.random.default_rng(seed)
    yy, _ = np.mgrid[0:h, 0:w].astype(np.float32)
    depth = np.full((h, w), np.nan, np.float32)
    horizon = h * rng.uniform(0.3, 0.45)
    ground = yy > horizon
    depth[ground] = 2.0 + 60.0 * (1 - (yy[ground] - horizon) / (h - horizon)) ** 3
    depth[(yy <= horizon) & (yy > horizon * 0.3)] = rng.uniform(25, 60)
    for _ in range(rng.integers(3, 7)):
        x0, width, d = rng.integers(0, w - 40), rng.integers(8, 40), rng.uniform(3, 15)
        depth[: rng.integers(int(horizon), h), x0 : x0 + width] = d
    depth *= (1 + rng.normal(0, 0.01, depth.shape)).astype(np.float32)
    depth[rng.random((h, w)) < 0.02] = np.nan
    valid = np.isfinite(depth)
    rgb = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    return Source(f"diode_like_{seed}", rgb, depth=np.where(valid, depth, 0).astype(np.float32), valid=valid)


def megadepth_like(seed: int, w: int = 640, h: int = 480) -> Source:
    """Sparse depth on a few planes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    depth = np.zeros((h, w), np.float32)
    valid = np.zeros((h, w), bool)
    for _ in range(rng.integers(2, 5)):
        x0, y0 = rng.integers(0, w - 100), rng.integers(0, h - 100)
        bw, bh = rng.integers(80, 300), rng.integers(80, 300)
        valid[y0 : y0 + bh, x0 : x0 + bw] = True
        depth[y0 : y0 + bh, x0 : x0 + bw] = rng.uniform(10, 80) + 20 * (xx[y0 : y0 + bh, x0 : x0 + bw] - x0) / w
    rgb = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    return Source(f"megadepth_like_{seed}", rgb, depth=depth, valid=valid)


SOURCES = {
    "synthetic": lambda s: make_scene(s, 480, 360).to_source(f"scene{s}"),
    "DIODE-like": diode_like,
    "MegaDepth-like": megadepth_like,
}


def measure(kind: str, ratio: float, n_sources: int) -> dict:
    """Accepted samples and the max/min depth ratio of every circled region."""
    ratios, accepted, tries = [], 0, 0
    for s in range(n_sources):
        source = SOURCES[kind](s)
        for task, params_cls in (("depth_order", DepthOrderParams), ("position", PositionParams)):
            params = params_cls(max_region_depth_ratio=ratio)
            for index in range(5):
                tries += 1
                sample = run_task(task, source, seed=0, index=index, params=params)
                if isinstance(sample, Rejection):
                    continue
                accepted += 1
                ratios += [m["depth_range"][1] / m["depth_range"][0] for m in sample.meta["markers"]]
    r = np.array(ratios)
    return {"accepted": accepted, "tries": tries, "regions": len(r), "over_1.25": (r > 1.25).mean(), "max": r.max()}


def main() -> None:
    """Print the table of docs/tasks.md (region flatness)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=40)
    args = parser.parse_args()
    print("| sources | max_region_depth_ratio | accepted samples | regions > 1.25x | largest ratio |")
    print("|---|---|---:|---:|---:|")
    for kind in SOURCES:
        for ratio in (float("inf"), 1.25):
            m = measure(kind, ratio, args.sources)
            label = "off (normalised spread only)" if ratio == float("inf") else f"{ratio}"
            print(
                f"| {kind} | {label} | {m['accepted']}/{m['tries']} | {100 * m['over_1.25']:.1f}% "
                f"({m['regions']} regions) | {m['max']:.2f} |"
            )


if __name__ == "__main__":
    main()
