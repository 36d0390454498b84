"""Video sources: video files, frame folders, posed RGB-D sequences and synthetic camera paths.

Each opens as a `FrameSequence`: metadata (frame count, size, frame rate, poses, intrinsics) is read and
checked against `VideoLimits` when the sequence is opened, before any frame is decoded; frames are then
decoded only when a task asks for them, a few at a time, so memory stays flat however long the video.

- Video files (mp4, webm, mkv, mov, avi; PyAV / FFmpeg): the container's packets are scanned (demuxed,
  not decoded) for the presentation timestamps of every frame. Frame i is the i-th frame in presentation
  order. A variable frame rate (frame durations spread by more than `max_frame_time_spread`) is refused:
  the clip tasks cut videos by frame count, which is only a cut by time at a constant rate. A wanted frame
  is reached by seeking to the keyframe before it when it lies more than `seek_after_s` ahead, and by
  decoding onwards otherwise.
- Frame folders: the image files of one folder, in natural name order (`frame2` before `frame10`).
- Posed RGB-D sequences (the ScanNet-style export): `color/*.jpg|png`, `depth/*.png` (16-bit, times a
  depth scale, millimetres by default), `pose/*.txt` (4x4 camera-to-world, camera axes x right, y down,
  z forward; a non-finite matrix marks a frame without a pose) and an intrinsic matrix
  (`intrinsic/intrinsic_color.txt`, `intrinsic_color.txt` or `intrinsic.txt`, 3x3 or 4x4), matched by
  file stem.
- Synthetic camera paths: a camera walking through a synthetic scene (`synthetic.camera_path`), with the
  exact pose and depth of every frame: the oracle of the video tasks.

Every failure is a `VideoError` (a `SourceError`) naming the file and the reason.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from spatial_ssrl.engine.sample import FrameSequence, SourceError
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS, load_rgb

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v")
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
DEFAULT_POSED_DEPTH_SCALE = 0.001  # 16-bit depth PNGs in millimetres (ScanNet); other units: SourceRef.depth_scale
HASH_CHUNK = 1 << 20  # bytes read at a time when hashing a file


class VideoError(SourceError):
    """A video or image sequence that cannot be used; the message says which file and why."""


class VideoTooLarge(VideoError):
    """A video beyond one of the `VideoLimits` (duration, frames, frame size, file size), found before decoding."""


class VariableFrameRate(VideoError):
    """A video whose frame durations vary more than `VideoLimits.max_frame_time_spread` allows."""


class TruncatedVideo(VideoError):
    """A video whose frames cannot all be decoded although its container lists them (a cut-off or damaged file)."""


@dataclass(frozen=True)
class VideoLimits:
    """Bounds checked when a sequence is opened, before any frame is decoded (docs/tasks.md, "Video sources")."""

    max_seconds: float = 3600.0  # an hour of video: longer inputs are almost always a mistake (a stream dump)
    max_frames: int = 216_000  # an hour at 60 fps; also bounds the timestamp scan's memory (8 bytes a frame)
    max_frame_pixels: int = 3840 * 2160  # 4K UHD: one decoded frame stays under 25 MB
    max_file_bytes: int = 64 << 30  # 64 GiB
    max_frame_time_spread: float = 0.25  # (longest - shortest frame duration) / median duration
    min_frames: int = 2  # a sequence needs motion, so at least two frames
    seek_after_s: float = 2.0  # a wanted frame further ahead than this is reached by seeking, not decoding on

    def __post_init__(self) -> None:
        for name in ("max_seconds", "max_frames", "max_frame_pixels", "max_file_bytes", "min_frames"):
            if not getattr(self, name) > 0:
                raise ValueError(f"VideoLimits.{name} must be positive, got {getattr(self, name)!r}")


DEFAULT_LIMITS = VideoLimits()


def _av():
    try:
        import av
    except ImportError as err:
        raise VideoError("video sources need PyAV: pip install av") from err
    return av


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    s = max_side / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def file_hash(paths: list[Path]) -> str:
    """A hash of the bytes of `paths` in order, read in HASH_CHUNK pieces (bounded memory). Names do not
    count for one file (a copy under another name is a duplicate); a sequence's files count by position and
    their name within their folder (color/0.jpg), so a copied sequence folder hashes alike."""
    h = hashlib.blake2b(digest_size=16, person=b"ssrl-video")
    for p in paths:
        label = "" if len(paths) == 1 else f"{p.parent.name}/{p.name}"
        h.update(f"{label}:{p.stat().st_size}\n".encode())
        with open(p, "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- video files


@dataclass(frozen=True)
class VideoInfo:
    """What the packet scan of a video file found."""

    width: int
    height: int
    pts: np.ndarray  # presentation timestamps of the frames, increasing, in `time_base` units
    time_base: float
    fps: float | None

    @property
    def n_frames(self) -> int:
        """Frames in the video."""
        return len(self.pts)

    @property
    def seconds(self) -> float:
        """Time from the first to the last frame."""
        return float(self.pts[-1] - self.pts[0]) * self.time_base if len(self.pts) > 1 else 0.0


def probe_video(path: str | os.PathLike[str], limits: VideoLimits = DEFAULT_LIMITS) -> VideoInfo:
    """Size, frame timestamps and rate of the first video stream of `path`, checked against `limits`
    (file size, frame size and container duration before the scan; frame count during it, so the scan
    stops early; duration and frame-rate spread after it). No frame is decoded."""
    av = _av()
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise VideoError(f"{p}: cannot be read ({err.strerror})") from err
    if size == 0:
        raise VideoError(f"{p}: empty file")
    if size > limits.max_file_bytes:
        raise VideoTooLarge(f"{p}: {size} bytes exceeds the limit of {limits.max_file_bytes}")
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise VideoError(f"{p}: no video stream")
            stream = container.streams.video[0]
            width, height = int(stream.codec_context.width), int(stream.codec_context.height)
            if width < 1 or height < 1:
                raise VideoError(f"{p}: the video stream has no frame size")
            if width * height > limits.max_frame_pixels:
                raise VideoTooLarge(
                    f"{p}: {width}x{height} frames exceed the limit of {limits.max_frame_pixels} pixels"
                )
            if container.duration is not None and container.duration / 1e6 > limits.max_seconds:
                raise VideoTooLarge(
                    f"{p}: {container.duration / 1e6:.0f} s exceeds the limit of {limits.max_seconds:.0f} s"
                )
            if stream.frames and stream.frames > limits.max_frames:
                raise VideoTooLarge(f"{p}: {stream.frames} frames exceed the limit of {limits.max_frames}")
            time_base = float(stream.time_base) if stream.time_base else None
            pts: list[int] = []
            for packet in container.demux(stream):
                if packet.size == 0:  # the demuxer's final flush packet
                    continue
                if packet.pts is None:
                    raise VideoError(f"{p}: a frame has no timestamp; remux it into a container that stores them")
                pts.append(int(packet.pts))
                if len(pts) > limits.max_frames:
                    raise VideoTooLarge(f"{p}: more than {limits.max_frames} frames")
    except VideoError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as err:
        raise VideoError(f"{p}: cannot be read as a video ({type(err).__name__}: {err})") from err
    if time_base is None:
        raise VideoError(f"{p}: the video stream has no time base")
    stamps = np.unique(np.asarray(pts, dtype=np.int64))
    if len(stamps) < len(pts):
        raise VideoError(f"{p}: {len(pts) - len(stamps)} frames share a timestamp with another frame")
    if len(stamps) < limits.min_frames:
        raise VideoError(f"{p}: {len(stamps)} frame(s); a video needs at least {limits.min_frames}")
    info = VideoInfo(width, height, stamps, time_base, None)
    if info.seconds > limits.max_seconds:
        raise VideoTooLarge(f"{p}: {info.seconds:.0f} s exceeds the limit of {limits.max_seconds:.0f} s")
    durations = np.diff(stamps)
    median = float(np.median(durations))
    spread = float(durations.max() - durations.min()) / median
    if spread > limits.max_frame_time_spread:
        raise VariableFrameRate(
            f"{p}: variable frame rate (frame durations from {durations.min() * time_base * 1000:.1f} to "
            f"{durations.max() * time_base * 1000:.1f} ms, spread {spread:.2f} > {limits.max_frame_time_spread}); "
            "re-encode it at a constant rate, e.g. ffmpeg -i IN -fps_mode cfr OUT"
        )
    return VideoInfo(width, height, stamps, time_base, 1.0 / (median * time_base))


def _video_reader(path: Path, info: VideoInfo, out_size: tuple[int, int], limits: VideoLimits):
    av = _av()
    seek_gap = limits.seek_after_s / info.time_base

    def read(indices: list[int]) -> list[np.ndarray]:
        targets = [int(info.pts[i]) for i in indices]
        out: list[np.ndarray] = []
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                decoded = None
                last = None
                for target in targets:
                    if decoded is None or last is None or target - last > seek_gap:
                        container.seek(target, stream=stream, backward=True, any_frame=False)
                        decoded = container.decode(stream)
                    frame = None
                    for candidate in decoded:
                        if candidate.pts is None:
                            continue
                        last = int(candidate.pts)
                        if last >= target:
                            frame = candidate
                            break
                    if frame is None or last != target:
                        raise TruncatedVideo(
                            f"{path}: frame {indices[len(out)]} (of {info.n_frames} listed) cannot be decoded"
                        )
                    w, h = out_size
                    out.append(frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA"))
        except VideoError:
            raise
        except (av.error.FFmpegError, OSError, ValueError) as err:
            raise TruncatedVideo(f"{path}: decoding failed ({type(err).__name__}: {err})") from err
        return out

    return read


def open_video(
    path: str | os.PathLike[str],
    *,
    source_id: str | None = None,
    max_side: int | None = None,
    limits: VideoLimits = DEFAULT_LIMITS,
) -> FrameSequence:
    """A video file as a lazily decoded `FrameSequence` (frames downscaled so the long side is at most
    `max_side`). Raises a VideoError subclass."""
    p = Path(path)
    info = probe_video(p, limits)
    w, h = _scaled_size(info.width, info.height, max_side)
    return FrameSequence(
        id=source_id or str(p),
        n_frames=info.n_frames,
        width=w,
        height=h,
        read_frames=_video_reader(p, info, (w, h), limits),
        fps=info.fps,
        hash_content=lambda: file_hash([p]),
        meta={"kind": "video", "seconds": round(info.seconds, 3), "source_size": [info.width, info.height]},
    )


# ---------------------------------------------------------------------------------------------- frame folders


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value (frame2 < frame10), then by the exact name, so names
    that compare equal by number (frame01, frame1) keep one order whatever the file system lists first."""
    parts = re.split(r"([0-9]+)", name)
    return (tuple((0, int(t), "") if t.isdecimal() and t.isascii() else (1, 0, t.lower()) for t in parts), name)


def _inside(path: Path, root: Path) -> bool:
    """True for a regular file that resolves inside `root` (a link out of the sequence is not followed)."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):
        return False
    return target.is_file() and (target == root or root in target.parents)


def frame_files(folder: Path, extensions: tuple[str, ...] = FRAME_EXTENSIONS, root: Path | None = None) -> list[Path]:
    """The regular image files directly inside `folder` (links only when they resolve inside `root`, the
    sequence folder; default `folder`), in natural name order."""
    root = (root or folder).resolve()
    files = [f for f in folder.iterdir() if f.suffix.lower() in extensions and _inside(f, root)]
    return sorted(files, key=lambda f: natural_key(f.name))


def _first_frame_size(path: Path, max_pixels: int) -> tuple[int, int]:
    """(width, height) of an image in display orientation, from its header (each frame is checked in full
    when it is read)."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            orientation = int(im.getexif().get(0x0112, 1) or 1)
    except (OSError, ValueError, SyntaxError) as err:
        raise VideoError(f"{path}: not a readable image ({type(err).__name__}: {err})") from err
    if w * h > max_pixels:
        raise VideoTooLarge(f"{path}: {w}x{h} frames exceed the limit of {max_pixels} pixels")
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _image_reader(files: list[Path], size: tuple[int, int], out_size: tuple[int, int], max_pixels: int):
    def read(indices: list[int]) -> list[np.ndarray]:
        out = []
        for i in indices:
            rgb, _ = load_rgb(files[i], max_pixels=max_pixels)
            if (rgb.shape[1], rgb.shape[0]) != size:
                raise VideoError(
                    f"{files[i]}: frame is {rgb.shape[1]}x{rgb.shape[0]}, the sequence's first is {size[0]}x{size[1]}"
                )
            if out_size != size:
                rgb = np.asarray(Image.fromarray(rgb).resize(out_size, Image.Resampling.LANCZOS, reducing_gap=None))
            out.append(rgb)
        return out

    return read


def _check_count(folder: Path, n: int, limits: VideoLimits) -> None:
    if n < limits.min_frames:
        raise VideoError(f"{folder}: {n} frame(s); a sequence needs at least {limits.min_frames}")
    if n > limits.max_frames:
        raise VideoTooLarge(f"{folder}: {n} frames exceed the limit of {limits.max_frames}")


def open_frame_folder(
    folder: str | os.PathLike[str],
    *,
    source_id: str | None = None,
    fps: float | None = None,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    limits: VideoLimits = DEFAULT_LIMITS,
) -> FrameSequence:
    """The image files of `folder` (natural name order) as a `FrameSequence`; every frame must have the
    first one's size (checked on the first frame now, on each frame when it is read)."""
    folder = Path(folder)
    try:
        files = frame_files(folder)
    except OSError as err:
        raise VideoError(f"{folder}: cannot be listed ({err.strerror})") from err
    _check_count(folder, len(files), limits)
    size = _first_frame_size(files[0], min(max_pixels, limits.max_frame_pixels))
    out = _scaled_size(*size, max_side)
    return FrameSequence(
        id=source_id or str(folder),
        n_frames=len(files),
        width=out[0],
        height=out[1],
        read_frames=_image_reader(files, size, out, min(max_pixels, limits.max_frame_pixels)),
        fps=fps,
        hash_content=lambda: file_hash(files),
        meta={"kind": "frames"},
    )


# ---------------------------------------------------------------------------------------------- posed RGB-D


INTRINSIC_FILES = ("intrinsic/intrinsic_color.txt", "intrinsic_color.txt", "intrinsic.txt")


MAX_MATRIX_BYTES = 4096  # a pose or intrinsic text file; a longer one is not a matrix of ours


def read_matrix(path: Path, shapes: tuple[tuple[int, int], ...] = ((4, 4),)) -> np.ndarray:
    """A whitespace-separated text matrix of one of `shapes`, from a regular file of at most MAX_MATRIX_BYTES
    (only that much is read: a device, a pipe or a huge file is refused, never read whole)."""
    try:
        if not path.is_file():
            raise VideoError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            data = f.read(MAX_MATRIX_BYTES + 1)
        if len(data) > MAX_MATRIX_BYTES:
            raise VideoError(f"{path}: longer than {MAX_MATRIX_BYTES} bytes; not a matrix file")
        values = np.array([float(v) for v in data.decode("utf-8").split()], dtype=np.float64)
    except VideoError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise VideoError(f"{path}: not a text matrix ({type(err).__name__}: {err})") from err
    for shape in shapes:
        if values.size == shape[0] * shape[1]:
            return values.reshape(shape)
    raise VideoError(f"{path}: {values.size} numbers; expected a {' or '.join(f'{a}x{b}' for a, b in shapes)} matrix")


def read_pose(path: Path) -> np.ndarray:
    """A 4x4 camera-to-world pose; NaN everywhere when the file holds non-finite values (ScanNet marks frames
    without tracking with -inf). A finite matrix that is not a rigid transform is a VideoError."""
    pose = read_matrix(path)
    if not np.all(np.isfinite(pose)):
        return np.full((4, 4), np.nan)
    rot = pose[:3, :3]
    if abs(np.linalg.det(rot) - 1.0) > 1e-3 or not np.allclose(rot.T @ rot, np.eye(3), atol=1e-3):
        raise VideoError(f"{path}: the rotation part is not a rotation (det {np.linalg.det(rot):.4f})")
    if not np.allclose(pose[3], [0.0, 0.0, 0.0, 1.0], atol=1e-6):
        raise VideoError(f"{path}: the last row of a pose must be 0 0 0 1")
    return pose


def _integer_tiff(path: Path) -> bool:
    if path.suffix.lower() not in (".tif", ".tiff"):
        return False
    try:
        with Image.open(path) as im:
            return im.mode != "F"
    except (OSError, ValueError):
        return False


def _depth_reader(files: list[Path], scale: float, out_size: tuple[int, int], max_pixels: int):
    from spatial_ssrl.sources.depth import load_depth
    from spatial_ssrl.sources.load import resize_nearest

    def read(indices: list[int]) -> list[np.ndarray]:
        out = []
        for i in indices:
            # The scale turns 16-bit integers into metres; float maps (.npy, float TIFF) are metres already.
            integer = files[i].suffix.lower() == ".png" or _integer_tiff(files[i])
            depth, _ = load_depth(files[i], scale=scale if integer else None, max_pixels=max_pixels)
            w, h = out_size
            if depth.shape != (h, w):
                ratio = (depth.shape[1] / depth.shape[0]) / (w / h)
                if abs(ratio - 1.0) > 0.01:
                    raise VideoError(
                        f"{files[i]}: depth is {depth.shape[1]}x{depth.shape[0]}, its frame {w}x{h}; "
                        "aspect ratios differ by more than 1%"
                    )
                depth = resize_nearest(depth, h, w)
            out.append(depth)
        return out

    return read


def open_posed_sequence(
    folder: str | os.PathLike[str],
    *,
    source_id: str | None = None,
    depth_scale: float = DEFAULT_POSED_DEPTH_SCALE,
    fps: float | None = None,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    limits: VideoLimits = DEFAULT_LIMITS,
) -> FrameSequence:
    """A posed RGB-D sequence folder (module docstring) as a `FrameSequence` with poses, depth and focal length.

    Colour frames without a pose file are left out; a depth map must exist for every kept frame. Depth maps
    of another size but the same aspect ratio (within 1%) are resized by nearest neighbour to the frame.
    """
    folder = Path(folder)
    color_dir, depth_dir, pose_dir = folder / "color", folder / "depth", folder / "pose"
    for d in (color_dir, depth_dir, pose_dir):
        if not d.is_dir():
            raise VideoError(f"{folder}: no {d.name}/ folder (a posed sequence has color/, depth/ and pose/)")
    intrinsic = next((folder / n for n in INTRINSIC_FILES if _inside(folder / n, folder.resolve())), None)
    if intrinsic is None:
        raise VideoError(f"{folder}: no intrinsic matrix ({', '.join(INTRINSIC_FILES)})")
    if not (math.isfinite(depth_scale) and depth_scale > 0):
        raise VideoError(f"{folder}: depth scale must be a positive number, got {depth_scale!r}")
    try:
        colors = frame_files(color_dir, root=folder)
        depths = {f.stem: f for f in frame_files(depth_dir, (".png", ".npy", ".tif", ".tiff"), root=folder)}
        poses = {f.stem: f for f in pose_dir.iterdir() if f.suffix == ".txt" and _inside(f, folder.resolve())}
    except OSError as err:
        raise VideoError(f"{folder}: cannot be listed ({err.strerror})") from err
    colors = [c for c in colors if c.stem in poses]
    missing = [c.name for c in colors if c.stem not in depths]
    if missing:
        raise VideoError(f"{folder}: no depth map for frame {missing[0]} ({len(missing)} frames without depth)")
    _check_count(folder, len(colors), limits)
    k = read_matrix(intrinsic, ((3, 3), (4, 4)))
    focal = float(k[0, 0])
    pixels = min(max_pixels, limits.max_frame_pixels)
    size = _first_frame_size(colors[0], pixels)
    out = _scaled_size(*size, max_side)
    if not (math.isfinite(focal) and focal > 0):
        raise VideoError(f"{intrinsic}: focal length {focal!r} is not a positive number")
    from spatial_ssrl.sources.intrinsics import check_focal_px

    focal = check_focal_px(focal * out[0] / size[0], out[0], str(intrinsic))
    pose_array = np.stack([read_pose(poses[c.stem]) for c in colors])
    depth_files = [depths[c.stem] for c in colors]
    return FrameSequence(
        id=source_id or str(folder),
        n_frames=len(colors),
        width=out[0],
        height=out[1],
        read_frames=_image_reader(colors, size, out, pixels),
        fps=fps,
        poses=pose_array,
        focal_px=focal,
        read_depths=_depth_reader(depth_files, depth_scale, out, pixels),
        hash_content=lambda: file_hash(colors + depth_files + [poses[c.stem] for c in colors] + [intrinsic]),
        meta={"kind": "posed"},
    )


# ---------------------------------------------------------------------------------------------- synthetic paths


SYNTHETIC_PATH_FPS = 8.0  # the frame rate a synthetic path is shown at (0.08-0.15 m per frame: a walk)
_VIEW_CACHE = 4  # rendered views kept, so a frame's image and depth are rendered once


def synthetic_path(
    seed: int, width: int, height: int, n_frames: int, *, source_id: str | None = None, path_seed: int = 0
) -> FrameSequence:
    """A camera walking through synthetic scene `seed` (`synthetic.camera_path`), rendered on demand with
    exact poses, depth and focal length."""
    from spatial_ssrl.sources.synthetic import camera_path, render_view, scene_camera

    if not DEFAULT_LIMITS.min_frames <= n_frames <= DEFAULT_LIMITS.max_frames:
        raise VideoTooLarge(f"synthetic path of {n_frames} frames; allowed {DEFAULT_LIMITS.min_frames}-"
                            f"{DEFAULT_LIMITS.max_frames}")  # fmt: skip
    poses, moves = camera_path(seed, width, height, n_frames, path_seed=path_seed)
    views: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def view(i: int) -> tuple[np.ndarray, np.ndarray]:
        if i not in views:
            scene = render_view(seed, width, height, poses[i], noise_seed=i)
            views[i] = (scene.rgb, scene.depth)
            while len(views) > _VIEW_CACHE:
                views.popitem(last=False)
        return views[i]

    focal = scene_camera(seed, width, height)["focal_px"]
    recipe = f"synthetic-path:{seed}:{width}x{height}:{n_frames}:{path_seed}".encode()
    return FrameSequence(
        id=source_id or f"synthetic-path/{seed:06d}",
        n_frames=n_frames,
        width=width,
        height=height,
        read_frames=lambda idx: [view(i)[0] for i in idx],
        fps=SYNTHETIC_PATH_FPS,
        poses=poses,
        focal_px=float(focal),
        read_depths=lambda idx: [view(i)[1] for i in idx],
        hash_content=lambda: hashlib.blake2b(recipe, digest_size=16).hexdigest(),
        meta={"kind": "synthetic_path", "moves": moves},
    )
