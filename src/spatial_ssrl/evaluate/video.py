"""Uniform frame sampling from a video file with PyAV (FFmpeg's decoder; `pip install av`).

N frames of a video of T frames are taken at the indices of `linspace(0, T - 1, min(N, T))` (first and
last frame included; every frame of a video shorter than N), made integers by one of two rules:
- "round" (the default): round to the nearest index, as the Spatial-SSRL authors' VSI-Bench script
  does (`np.linspace(...).round()`, halves to even);
- "floor": truncate, as VSI-Bench's official lmms-eval code does (`np.linspace(..., dtype=int)`).
Frames are decoded in order and decoding stops after the last wanted frame. Several questions share one
video (VSI-Bench asks about 20 per scene), so the last few sampled videos are kept in memory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image


def _av():
    try:
        import av
    except ImportError as err:  # an optional dependency: only video benchmarks need it
        raise ImportError("video benchmarks need PyAV: pip install av") from err
    return av


FRAME_RULES = ("round", "floor")  # how a linspace position becomes a frame index (module docstring)


def frame_indices(total: int, n: int, rule: str = "round") -> list[int]:
    """`n` indices spread uniformly over `total` frames, first and last included (all of them if total <= n).

    Raises:
        ValueError: `rule` is not one of FRAME_RULES.
    """
    if rule not in FRAME_RULES:
        raise ValueError(f"frame rule must be one of {FRAME_RULES}, got {rule!r}")
    if total <= 0 or n <= 0:
        return []
    positions = np.linspace(0, total - 1, min(n, total))
    indices = np.floor(positions) if rule == "floor" else np.round(positions)
    return sorted({int(x) for x in indices})


@lru_cache(maxsize=1024)
def video_info(path: str) -> dict:
    """Frame count, frame rate and size of the first video stream (frames are counted by decoding
    when the container does not store the count)."""
    av = _av()
    with av.open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate) if stream.average_rate else None
        info = {"fps": fps, "width": int(stream.codec_context.width), "height": int(stream.codec_context.height)}
        total = int(stream.frames) if stream.frames else sum(1 for _ in container.decode(stream))
    return {**info, "total_num_frames": total}


@lru_cache(maxsize=8)
def sample_frames(path: str | Path, n: int, rule: str = "round") -> tuple[Image.Image, ...]:
    """`n` RGB frames sampled uniformly from the video at `path` (`rule`: see `frame_indices`)."""
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"video not found: {path}")
    wanted = frame_indices(video_info(path)["total_num_frames"], n, rule)
    if not wanted:
        raise ValueError(f"{path}: the video has no frames")
    av = _av()
    frames: list[Image.Image] = []
    want = set(wanted)
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in want:
                frames.append(frame.to_image().convert("RGB"))
            if i >= wanted[-1]:
                break
    if len(frames) < len(wanted):
        raise ValueError(f"{path}: decoded {len(frames)} frames, expected {len(wanted)}")
    return tuple(frames)


def sampling_metadata(path: str | Path, n: int, rule: str = "round") -> dict:
    """What a video processor needs to time the sampled frames (Qwen-VL puts timestamps in the prompt):
    the source's fps and frame count and the indices of the frames taken."""
    info = video_info(str(path))
    indices = frame_indices(info["total_num_frames"], n, rule)
    fps = info["fps"] or 24.0
    return {**info, "fps": fps, "frames_indices": indices, "duration": info["total_num_frames"] / fps}


def video_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of the first video stream."""
    info = video_info(str(path))
    return info["width"], info["height"]


def write_test_video(path: str | Path, seconds: float = 2.0, fps: int = 10, size: tuple[int, int] = (96, 64)) -> Path:
    """A short H.264/MPEG-4 video of a white square moving left to right on grey: test fixtures."""
    av = _av()
    width, height = size
    n = int(round(seconds * fps))
    with av.open(str(path), mode="w") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
        except Exception:  # an FFmpeg build without x264
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        side = height // 4
        for k in range(n):
            img = np.full((height, width, 3), 96, np.uint8)
            x = int(k * (width - side) / max(1, n - 1))
            img[height // 2 - side // 2 : height // 2 + side // 2, x : x + side] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)
