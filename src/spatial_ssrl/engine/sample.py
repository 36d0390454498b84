"""The three value types of the task engine: a Source goes in, a Sample or a Rejection comes out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class SourceError(ValueError):
    """A source image or depth map that cannot be used; the message says which file and why."""


@dataclass
class Source:
    """One input photo, optionally with a depth map aligned pixel-for-pixel.

    rgb:      H x W x 3 uint8.
    depth:    H x W float32 depth along the optical axis (metric or up to scale), NaN where invalid.
    valid:    H x W bool; True where depth is finite and positive (derived from depth if omitted).
    focal_px: horizontal focal length in pixels, when the camera is known (used by relative position).
    """

    id: str
    rgb: np.ndarray
    depth: np.ndarray | None = None
    valid: np.ndarray | None = None
    focal_px: float | None = None

    def __post_init__(self) -> None:
        rgb = np.asarray(self.rgb)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise SourceError(f"{self.id}: rgb must be an H x W x 3 uint8 array, got {rgb.dtype} {rgb.shape}")
        self.rgb = np.ascontiguousarray(rgb)
        if self.depth is None:
            if self.valid is not None:
                raise SourceError(f"{self.id}: a validity mask was given without a depth map")
            return
        depth = np.asarray(self.depth, dtype=np.float32)
        if depth.ndim == 3 and depth.shape[2] == 1:
            depth = depth[:, :, 0]
        if depth.shape != rgb.shape[:2]:
            raise SourceError(
                f"{self.id}: depth map is {depth.shape[1]}x{depth.shape[0]} (WxH) but the image is "
                f"{rgb.shape[1]}x{rgb.shape[0]}; they must be aligned pixel-for-pixel"
            )
        valid = np.isfinite(depth) & (depth > 0)
        if self.valid is not None:
            mask = np.asarray(self.valid)
            if mask.ndim == 3 and mask.shape[2] == 1:
                mask = mask[:, :, 0]
            if mask.shape != depth.shape:
                raise SourceError(f"{self.id}: validity mask shape {mask.shape} differs from depth {depth.shape}")
            valid &= mask.astype(bool)
        # Invalid pixels carry NaN so no statistic can silently use them.
        self.depth = np.where(valid, depth, np.float32(np.nan)).astype(np.float32)
        self.valid = valid

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.rgb.shape[1])

    @property
    def has_depth(self) -> bool:
        """True when the source carries a depth map."""
        return self.depth is not None


FrameReader = Callable[[list[int]], list[np.ndarray]]
"""`read(indices) -> arrays`: the frames (or depth maps) at increasing, distinct indices, in that order."""


@dataclass
class FrameSequence:
    """A video or an image sequence, read lazily: a task asks for the few frames it uses, so memory holds those
    whatever the length of the video.

    n_frames:  frames in presentation order, 0 .. n_frames - 1.
    width, height: size of the frames `frames()` returns (after any downscaling on load).
    fps:       frames per second, when known.
    poses:     (n_frames, 4, 4) camera-to-world matrices (camera axes x right, y down, z forward), when known;
               a frame without a valid pose has a NaN matrix.
    focal_px:  horizontal focal length in pixels of the returned frames, when known.
    read_frames / read_depths: readers of H x W x 3 uint8 frames / H x W float32 depth maps (NaN = invalid).
    hash_content: computes a hash of what the sequence shows (its files' bytes, or a synthetic path's recipe),
               called once by `content_key()`: the builder assigns splits and finds duplicates by it without
               decoding every frame, and nothing reads the files before it is asked.
    """

    id: str
    n_frames: int
    width: int
    height: int
    read_frames: FrameReader
    fps: float | None = None
    poses: np.ndarray | None = None
    focal_px: float | None = None
    read_depths: FrameReader | None = None
    hash_content: Callable[[], str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _content_key: str | None = field(default=None, repr=False)

    def content_key(self) -> str:
        """The content hash (`hash_content`, computed on first use; the id when there is none)."""
        if self._content_key is None:
            self._content_key = self.hash_content() if self.hash_content else f"id:{self.id}"
        return self._content_key

    @property
    def has_depth(self) -> bool:
        """True when depth maps can be read."""
        return self.read_depths is not None

    @property
    def has_poses(self) -> bool:
        """True when the sequence carries camera poses."""
        return self.poses is not None

    def _check(self, indices: Sequence[int]) -> list[int]:
        wanted = [int(i) for i in indices]
        bad = [i for i in wanted if not 0 <= i < self.n_frames]
        if bad:
            raise IndexError(f"{self.id}: frame {bad[0]} is outside 0..{self.n_frames - 1}")
        return wanted

    def frames(self, indices: Sequence[int]) -> list[np.ndarray]:
        """The frames at `indices` (any order, repeats allowed), each H x W x 3 uint8."""
        wanted = self._check(indices)
        order = sorted(set(wanted))
        got = dict(zip(order, self.read_frames(order), strict=True))
        return [got[i] for i in wanted]

    def depths(self, indices: Sequence[int]) -> list[np.ndarray]:
        """The depth maps at `indices` (H x W float32, NaN where invalid); ValueError without depth."""
        if self.read_depths is None:
            raise ValueError(f"{self.id} has no depth maps")
        wanted = self._check(indices)
        order = sorted(set(wanted))
        got = dict(zip(order, self.read_depths(order), strict=True))
        return [got[i] for i in wanted]


@dataclass(frozen=True)
class Rejection:
    """Why a source could not yield a verifiable sample. `reason` is a stable code such as
    'flip.identical'; `detail` is for people (measured value versus threshold)."""

    task: str
    reason: str
    detail: str = ""

    def __bool__(self) -> bool:  # lets callers write `if result:` for "got a sample"
        return False


@dataclass
class Sample:
    """One verifiable question.

    images:   output images (H x W x 3 uint8), in the order of the `<image>` placeholders.
    question: text with exactly one `<image>` placeholder per image.
    answer:   the canonical answer string (formats in docs/tasks.md).
    answer_type: one of contract.ANSWER_TYPES; None lets `run_task` fill in the registered type.
    options:  letter -> option text for multiple-choice tasks, else None.
    meta:     JSON-serialisable facts: marker pixel coordinates in the output image, the measured
              margins that made the sample verifiable, and task-specific construction details.
    """

    task: str
    variant: str
    source_id: str
    images: list[np.ndarray]
    question: str
    answer: str
    answer_type: str | None = None
    options: dict[str, str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    index: int = 0
    attempt: int = 0  # the geometry attempt that succeeded (run_task(..., index, attempt) remakes it)

    def __post_init__(self) -> None:
        n = self.question.count("<image>")
        if n != len(self.images):
            raise ValueError(f"question has {n} <image> placeholders but the sample has {len(self.images)} images")
        for im in self.images:
            if im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3:
                raise ValueError("sample images must be H x W x 3 uint8 arrays")
