"""Per-task cost versus the decode+encode floor, on a 640x480 and a 1600x1064 source.

ours  = load the source (decode RGB, read depth) + make the sample + encode its output images
floor = decode the same RGB file + read the same depth file + encode the same output images once

Both columns use the same libraries and files in the same run, so their ratio is meaningful even
on a noisy machine. Run: `python benchmarks/bench_tasks.py [--repeats N] [--format jpeg|png]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from spatial_ssrl import Rejection, get_task, list_tasks, run_task
from spatial_ssrl.dataset.schema import encode_image
from spatial_ssrl.sources import load_source
from spatial_ssrl.sources.synthetic import make_scene

SIZES = [(640, 480), (1600, 1064)]


def write_source(folder: Path, width: int, height: int, seed: int) -> tuple[Path, Path]:
    scene = make_scene(seed, width, height, sky=False)
    rgb_path, depth_path = folder / f"rgb_{width}.jpg", folder / f"depth_{width}.npy"
    Image.fromarray(scene.rgb).save(rgb_path, quality=95)
    np.save(depth_path, scene.depth)
    return rgb_path, depth_path


def time_task(task: str, rgb_path: Path, depth_path: Path | None, repeats: int, fmt: str) -> tuple[float, float, int]:
    ours, floor, rejected = [], [], 0
    index = 0
    while len(ours) < repeats:
        t0 = time.perf_counter()
        source = load_source(rgb_path, depth_path, source_id="bench")
        result = run_task(task, source, seed=0, index=index)
        index += 1
        if isinstance(result, Rejection):
            rejected += 1
            if rejected > 20 * repeats:
                raise RuntimeError(f"{task}: too many rejections ({result.reason})")
            continue
        for im in result.images:
            encode_image(im, fmt)
        t1 = time.perf_counter()
        rgb = np.asarray(Image.open(rgb_path).convert("RGB"))
        if depth_path is not None:
            np.load(depth_path, allow_pickle=False)
        for im in result.images:  # the same output images, encoded once
            encode_image(im, fmt)
        t2 = time.perf_counter()
        assert rgb.shape[:2] == result.images[0].shape[:2] or task in ("shuffle", "flip")
        ours.append(t1 - t0)
        floor.append(t2 - t1)
    return statistics.median(ours) * 1e3, statistics.median(floor) * 1e3, rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--format", choices=["jpeg", "png"], default="jpeg")
    args = parser.parse_args()
    print(f"| task | source | ours ms/sample | floor ms | ratio | rejected attempts | (format {args.format})")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in SIZES:
            rgb_path, depth_path = write_source(Path(tmp), width, height, seed=11)
            for task in [t for t in list_tasks() if not get_task(t).needs_video]:  # videos: bench_video.py
                dpath = depth_path if get_task(task).needs_depth else None
                ours, floor, rejected = time_task(task, rgb_path, dpath, args.repeats, args.format)
                print(
                    f"| {task} | {width}x{height} | {ours:.1f} | {floor:.1f} | {ours / floor:.2f} | {rejected} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
