"""Video task cost versus the decode+encode floor at 480p and 1080p, and peak memory over short and long videos.

clip_order on an H.264 video file (a pan across a textured picture, 30 fps):
  ours  = open the video (packet scan for timestamps) + make the sample (decode the sampled frames, verify,
          label) + encode its output frames
  floor = decode the same frames with PyAV directly, the cheaper of seeking to each and one pass through the
          video + encode the same output frames once
ego_motion on a posed RGB-D folder (JPEG colour, 16-bit PNG depth in mm, pose text files):
  ours  = open the sequence (list files, read poses) + make the sample + encode its output frames
  floor = decode the shown colour frames and the first frame's depth PNG + encode the same output frames

Memory: the peak resident set of a fresh process that opens a video and makes `--rss-samples` clip_order
samples, for a short and a 10x longer video of the same size: flat means frames are never all held.

Both timing columns use the same files in the same run, so their ratio is meaningful on a noisy machine.
Run: `python benchmarks/bench_video.py [--repeats N] [--seconds S]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from spatial_ssrl import Rejection, run_task
from spatial_ssrl.dataset.schema import encode_image
from spatial_ssrl.sources.synthetic import camera_pose
from spatial_ssrl.sources.video import open_posed_sequence, open_video

SIZES = [(854, 480), (1920, 1080)]
FPS = 30


def _canvas(width: int, height: int, extra: int, seed: int = 0) -> np.ndarray:
    """A smooth random picture `extra` px wider than a frame (cheap to make at any size)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 16 + 2, (width + extra) // 16 + 2, 3), dtype=np.uint8)
    big = Image.fromarray(small).resize(((width + extra) // 16 * 16 + 32, height // 16 * 16 + 32), Image.BICUBIC)
    fine = rng.integers(-20, 21, (big.height, big.width, 3))
    return np.clip(np.asarray(big, dtype=np.int16) + fine, 0, 255).astype(np.uint8)[:height, : width + extra]


def write_pan_video(path: Path, width: int, height: int, frames: int, step: int = 3) -> Path:
    """An H.264 pan: frame i is the canvas window at x = i * step."""
    import av

    canvas = _canvas(width, height, step * frames)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(canvas[:, i * step : i * step + width]), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_posed(folder: Path, width: int, height: int, frames: int) -> Path:
    """A posed RGB-D sequence walking forward then turning right, over a wall 4 m away."""
    for sub in ("color", "depth", "pose"):
        (folder / sub).mkdir(parents=True)
    canvas = _canvas(width, height, 3 * frames, seed=1)
    depth = Image.fromarray(np.full((height, width), 4000, np.uint16))
    for i in range(frames):
        Image.fromarray(np.ascontiguousarray(canvas[:, 3 * i : 3 * i + width])).save(folder / "color" / f"{i}.jpg")
        depth.save(folder / "depth" / f"{i}.png")
        half = frames // 2
        pose = camera_pose((0.0, 0.0, 0.05 * min(i, half)), 2.0 * max(0, i - half), 10.0)
        np.savetxt(folder / "pose" / f"{i}.txt", pose)
    f = width / 1.2
    np.savetxt(folder / "intrinsic.txt", np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]]))
    return folder


def _decode_seeking(path: Path, indices: list[int]) -> None:
    """Seek to the keyframe before each wanted frame and decode up to it."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate) * float(stream.time_base)  # frames per pts unit
        for i in indices:
            target = int(round(i / rate))
            container.seek(target, stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.pts >= target:
                    frame.to_ndarray(format="rgb24")
                    break


def _decode_through(path: Path, indices: list[int]) -> None:
    """Decode every frame up to the last wanted one, converting only the wanted ones."""
    import av

    wanted = set(indices)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                frame.to_ndarray(format="rgb24")
            if i >= max(indices):
                break


def _floor_seconds(path: Path, indices: list[int], outputs: list[np.ndarray]) -> float:
    """The cheaper of two ways to decode the same frames (seeking to each, or one pass), plus the encode."""
    times = []
    for decode in (_decode_seeking, _decode_through):
        t0 = time.perf_counter()
        decode(path, indices)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for im in outputs:
        encode_image(im)
    return min(times) + time.perf_counter() - t0


def time_clip_order(path: Path, repeats: int) -> tuple[float, float, int]:
    ours, floor, rejected, index = [], [], 0, 0
    while len(ours) < repeats:
        t0 = time.perf_counter()
        video = open_video(path)
        sample = run_task("clip_order", video, seed=0, index=index)
        index += 1
        if isinstance(sample, Rejection):
            rejected += 1
            continue
        for im in sample.images:
            encode_image(im)
        t1 = time.perf_counter()
        ours.append(t1 - t0)
        floor.append(_floor_seconds(path, sorted(i for c in sample.meta["frame_indices"] for i in c), sample.images))
    return statistics.median(ours) * 1e3, statistics.median(floor) * 1e3, rejected


def time_ego_motion(folder: Path, repeats: int) -> tuple[float, float, int]:
    ours, floor, rejected, index = [], [], 0, 0
    while len(ours) < repeats:
        t0 = time.perf_counter()
        seq = open_posed_sequence(folder)
        sample = run_task("ego_motion", seq, seed=0, index=index)
        index += 1
        if isinstance(sample, Rejection):
            rejected += 1
            if rejected > 40 * repeats:
                raise RuntimeError(f"ego_motion: too many rejections ({sample.reason})")
            continue
        for im in sample.images:
            encode_image(im)
        t1 = time.perf_counter()
        for i in sample.meta["frame_indices"]:
            np.asarray(Image.open(folder / "color" / f"{i}.jpg").convert("RGB"))
        np.asarray(Image.open(folder / "depth" / f"{sample.meta['frame_indices'][0]}.png"))
        for im in sample.images:
            encode_image(im)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        floor.append(t2 - t1)
    return statistics.median(ours) * 1e3, statistics.median(floor) * 1e3, rejected


_RSS_CHILD = """
import resource, sys
from spatial_ssrl import run_task
from spatial_ssrl.sources.video import open_video
video = open_video(sys.argv[1])
for index in range(int(sys.argv[2])):
    run_task("clip_order", video, seed=0, index=index)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def peak_rss_mib(path: Path, samples: int) -> float:
    """Peak resident memory (MiB) of a fresh process making `samples` clip_order samples from `path`."""
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(path), str(samples)], check=True,
                         capture_output=True, text=True)  # fmt: skip
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the timed videos")
    parser.add_argument("--rss-samples", type=int, default=10)
    args = parser.parse_args()
    results = {}
    print("| task | source | ours ms/sample | floor ms | ratio | rejected attempts |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in SIZES:
            video = write_pan_video(Path(tmp) / f"pan_{height}.mp4", width, height, int(args.seconds * FPS))
            ours, floor, rejected = time_clip_order(video, args.repeats)
            print(f"| clip_order | {height}p H.264, {args.seconds:.0f} s | {ours:.0f} | {floor:.0f} | "
                  f"{ours / floor:.2f} | {rejected} |", flush=True)  # fmt: skip
            posed = write_posed(Path(tmp) / f"posed_{height}", width, height, 40)
            ours_e, floor_e, rejected_e = time_ego_motion(posed, args.repeats)
            print(f"| ego_motion | {height}p posed RGB-D, 40 frames | {ours_e:.0f} | {floor_e:.0f} | "
                  f"{ours_e / floor_e:.2f} | {rejected_e} |", flush=True)  # fmt: skip
            results[f"{height}p"] = {"clip_order": [ours, floor], "ego_motion": [ours_e, floor_e]}
        width, height = SIZES[0]
        short = write_pan_video(Path(tmp) / "short.mp4", width, height, int(args.seconds * FPS))
        long = write_pan_video(Path(tmp) / "long.mp4", width, height, int(10 * args.seconds * FPS))
        rss_short, rss_long = peak_rss_mib(short, args.rss_samples), peak_rss_mib(long, args.rss_samples)
        print(f"\npeak RSS, {height}p clip_order x {args.rss_samples}: {args.seconds:.0f} s video {rss_short:.0f} MiB, "
              f"{10 * args.seconds:.0f} s video {rss_long:.0f} MiB (ratio {rss_long / rss_short:.2f})")  # fmt: skip
        results["rss_mib"] = [rss_short, rss_long]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
