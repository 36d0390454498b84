"""Build throughput and memory: samples/s and peak RSS (the build process plus its workers).

Sources are 640x480 RGB-D files (JPEG + .npy depth, listed in a manifest), so every task runs,
with the paper's task mix. Each configuration runs in a fresh subprocess; its peak RSS is the
largest sum of resident memory over the process tree, sampled every 50 ms from /proc. The
content pre-pass (every source decoded and hashed once, for splits by content and duplicates) is
part of each build; its time is reported on its own and as a share of the build's wall time.

    python benchmarks/bench_build.py                  # 10k samples x {1, 2} workers, 5k vs 50k RSS
    python benchmarks/bench_build.py --quick          # 2k samples, 1k vs 4k RSS
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from spatial_ssrl.sources.synthetic import make_scene

ROOT = Path(__file__).resolve().parents[1]


def write_sources(folder: Path, n: int) -> Path:
    """n distinct 640x480 RGB-D scenes on disk, and a manifest listing them."""
    lines = ["rgb,depth,focal_px"]
    for i in range(n):
        scene = make_scene(10_000 + i, 640, 480)
        Image.fromarray(scene.rgb).save(folder / f"s{i:04d}.jpg", quality=95)
        np.save(folder / f"s{i:04d}_depth.npy", scene.depth)
        lines.append(f"s{i:04d}.jpg,s{i:04d}_depth.npy,{scene.focal_px:.4f}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run(manifest: Path, out: Path, total: int, workers: int) -> dict:
    code = (
        "import sys, json; from pathlib import Path\n"
        "from spatial_ssrl.dataset.builder import BuildConfig, build\n"
        "from spatial_ssrl.sources.discover import read_manifest\n"
        f"refs = read_manifest(Path({str(manifest)!r}), Path({str(manifest.parent)!r}))\n"
        f"stats = build(BuildConfig(Path({str(out)!r}), total={total}, workers={workers}, preview=False), refs)\n"
        "print(json.dumps(stats))\n"
    )
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    stats = json.loads(proc.stdout.read().strip().splitlines()[-1])
    return {
        "samples": stats["samples"],
        "wall_s": wall,
        "rate": stats["samples"] / wall,
        "peak_rss_mb": peak / 2**20,
        "prepass_s": stats["content_prepass"]["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sources", type=int, default=400)
    args = parser.parse_args()
    n, small, large = (2000, 1000, 4000) if args.quick else (10_000, 5000, 50_000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "src").mkdir()
        manifest = write_sources(tmp / "src", args.sources)
        print(f"{args.sources} RGB-D sources, 640x480, paper task mix, {os.cpu_count()} cores\n")
        print("| build | samples | wall s | samples/s | peak RSS MB | content pre-pass s (share) |")
        print("|---|---|---|---|---|---|")
        results = {}
        for label, total, workers in [
            (f"{n} x 1 worker", n, 1),
            (f"{n} x 2 workers", n, 2),
            (f"{small} x 2 workers", small, 2),
            (f"{large} x 2 workers", large, 2),
        ]:
            r = run(manifest, tmp / label.replace(" ", "_"), total, workers)
            results[label] = r
            share = r["prepass_s"] / r["wall_s"]
            print(
                f"| {label} | {r['samples']} | {r['wall_s']:.1f} | {r['rate']:.0f} | {r['peak_rss_mb']:.0f} "
                f"| {r['prepass_s']:.1f} ({share:.0%}) |",
                flush=True,
            )
        one, two = results[f"{n} x 1 worker"], results[f"{n} x 2 workers"]
        rss_small, rss_large = results[f"{small} x 2 workers"], results[f"{large} x 2 workers"]
        print(f"\n2 workers / 1 worker: {two['rate'] / one['rate']:.2f}x (target >= 1.8x)")
        print(
            f"peak RSS {large} vs {small}: {rss_large['peak_rss_mb'] / rss_small['peak_rss_mb']:.2f}x (target <= 1.10)"
        )
        print(f"projected 81,053-sample build with 2 workers: {81053 / rss_large['rate'] / 60:.1f} min (target < 15)")


if __name__ == "__main__":
    main()
