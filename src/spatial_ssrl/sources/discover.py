"""Where sources come from: picklable references that load lazily, and discovery of collections.

A `SourceRef` names one source (a photo, a photo + depth map, or a synthetic scene) without
holding its pixels, so millions of them can be listed, hashed into splits, and sent to worker
processes or Ray tasks; `ref.load()` reads it when a worker needs it.

Discovery (no pixel is read; only names, `stat` and symlink checks):

    photo_folder(root)       RGB photos under a folder, recursive, glob include / exclude (COCO folders too)
    diode_tree(root)         DIODE layout: X.png + X_depth.npy [+ X_depth_mask.npy], metric depth
    megadepth_tree(root)     MegaDepth layout: .../imgs/X.jpg + .../depths/X.h5 (key `depth`), depth up to scale
    rgbd_tree(root)          images paired with depth by the common naming conventions (DIODE and MegaDepth
                             trees included): X.jpg + X_depth.npy, RGB-D_img3.png + RGB-D_depth3.npy,
                             imgs/X.jpg + depths/X.h5, ... (see `rgbd_tree`)
    read_manifest(f, root)   any RGB-D collection listed in a CSV / JSONL manifest of rgb,depth[,mask,scale,...]
    synthetic(n, size)       procedural RGB-D scenes
    bundled_photos()         the photos shipped with the package
    discover(spec)           one of the above from a CLI-style spec such as `diode:/data/diode/val`

Ids are `<collection name>/<path relative to the collection root>` (posix separators), e.g.
`diode/outdoor/scene_00022/scan_00193/00022_00193_outdoor_000_010.png`, so they do not change when a
dataset is moved; every sample's randomness is keyed on its source id. Lists are sorted by id.

Symlinks: a collection never reads outside its root. Folder walks do not follow symlinked folders
(no cycles, no duplicates) and use a symlinked file only if it resolves inside the root; symlink
loops and image files of formats that are not read (HEIC, RAW, ...) are skipped too. Everything
skipped is reported with a `SkippedInputsWarning` (one per reason, carrying the paths) and, when a
`DiscoveryReport` is passed, counted in it per collection and reason. The collection root itself may be a
symlink (it is resolved first); a folder kept elsewhere is given as a spec of its own.

An RGB-D layout (`diode_tree`, `megadepth_tree`, `rgbd_tree`) in which no image pairs with a depth map
raises `NoSourcesMatched`, one line saying what the layout expected, what the folder holds, which other
layout would pair its files, and the symlink policy. A photo folder lists no depth-like file
(`X_depth.png`, `*.npy`, `*.h5`, files in a `depth/` folder, ...) as a photo and reports them, counted.
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import json
import math
import os
import posixpath
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from spatial_ssrl.contract import is_utf8_text
from spatial_ssrl.engine.sample import FrameSequence, Source, SourceError
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS
from spatial_ssrl.sources.intrinsics import (
    MAX_HFOV_DEG,
    MIN_HFOV_DEG,
    ImplausibleFocal,
    check_focal_number,
    focal_px_range,
)
from spatial_ssrl.sources.load import DEPTH_ORIENTATIONS, DEPTH_RESIZE_POLICIES

__all__ = [
    "DEPTH_LIKE_REASON",
    "DIODE_FOCAL_PX",
    "IMAGE_SUFFIXES",
    "MANIFEST_COLUMNS",
    "MAX_MANIFEST_LINE_CHARS",
    "PNG_DEPTH_SCALE",
    "RGBD_DEPTH_SUFFIXES",
    "UNSUPPORTED_IMAGE_SUFFIXES",
    "DiscoveryReport",
    "ManifestError",
    "NoSourcesMatched",
    "SkippedInputsWarning",
    "SourceRef",
    "bundled_photos",
    "diode_tree",
    "discover",
    "megadepth_tree",
    "photo_files",
    "photo_folder",
    "read_manifest",
    "rgbd_tree",
    "synthetic",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")  # lower case; matched in any case

# Image-like files that discovery does not list (no reader, or not a format this tool reads): a folder
# walk reports them as skipped ("unsupported format") instead of leaving them out silently.
UNSUPPORTED_IMAGE_SUFFIXES = (
    *(".heic", ".heif", ".avif", ".jxl", ".gif", ".jp2", ".j2k", ".jpx", ".jfif", ".psd", ".svg", ".ico"),
    *(".tga", ".ppm", ".pgm", ".pbm", ".pnm", ".exr", ".hdr", ".raw", ".dng", ".cr2", ".cr3", ".crw"),
    *(".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2", ".raf", ".pef", ".srw", ".x3f", ".3fr"),
)

# DIODE's fixed intrinsics: fx = 886.81 px for its original 1024 x 768 images.
DIODE_FOCAL_PX = 886.81
# A DIODE file name: <scene>_<scan>_<indoors|outdoor>_<k>_<l>.png (rgbd_tree gives these DIODE's focal length).
_DIODE_NAME = re.compile(r"\d{5}_\d{5}_(?:indoors|outdoor)_\d{3}_\d{3}\.png")

# Depth maps and masks rgbd_tree pairs with an image, in order of preference when several exist.
RGBD_DEPTH_SUFFIXES = (".npy", ".npz", ".h5", ".hdf5", ".png")
# Metres per unit of an integer (16-bit) PNG depth map found by rgbd_tree: millimetres, the NYU / ScanNet /
# 7-Scenes convention. The depth tasks compare depth ratios only, so another unit changes no answer.
PNG_DEPTH_SCALE = 0.001
# Files that are never photos: arrays a depth map (or its mask) is stored in.
_ARRAY_SUFFIXES = (".npy", ".npz", ".h5", ".hdf5")
# Folder names rgbd_tree pairs: <scene>/<image folder>/X.jpg with <scene>/<depth folder>/X.<depth suffix>.
_IMAGE_DIRS = ("imgs", "images", "image", "img", "rgb", "color", "colour")
_DEPTH_DIRS = ("depths", "depth")
# Words in file names, bounded by the start / end of the name, `_`, `.`, `-` or a digit (RGB-D_img3, frame.depth).
_B = r"_.\-0-9"
_DEPTH_WORD = re.compile(rf"(?<![^{_B}])depths?(?![^{_B}])", re.IGNORECASE)
_IMAGE_WORD = re.compile(rf"(?<![^{_B}])(?:imgs?|images?|rgbs?|colou?rs?)(?![^{_B}])", re.IGNORECASE)

# The reason a photo folder gives for the depth-like files it does not use (a key of DiscoveryReport.skipped).
DEPTH_LIKE_REASON = "depth-like file, not a photo (rgbd:DIR pairs images with their depth)"

# Folder walks and symlinks, as the NoSourcesMatched message states it.
_SYMLINK_POLICY = (
    "symlinks: linked folders inside the root are not followed and a linked file is used only if it resolves "
    "inside the root (the root itself may be a link; give a folder kept elsewhere as a spec of its own)"
)

# Columns of a CSV manifest / keys of a JSONL manifest line.
MANIFEST_COLUMNS = (
    "rgb",
    "depth",
    "mask",
    "scale",
    "focal_px",
    "id",
    "depth_key",
    "depth_orientation",
    "depth_resize",
)

# At most this many manifest problems are listed in one ManifestError (the rest are counted).
_MAX_PROBLEMS = 20

# Longest manifest line read, in characters: a line names a few paths, and reading a line is the one
# allocation a manifest controls (a file without newlines would otherwise be read whole).
MAX_MANIFEST_LINE_CHARS = 1 << 16

# Image widths a focal length is checked against at discovery, before the image is read: a value that
# gives no allowed field of view for ANY width up to the pixel limit (1e-300, 1e300) is refused there;
# the exact check against the real width happens when the source is loaded.
_FOCAL_WIDTHS = (1, DEFAULT_MAX_PIXELS)


VIDEO_KINDS = (
    "file",
    "frames",
    "posed",
)  # what `SourceRef.video` names: a video file, a frame folder, a posed sequence
VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v")
MIN_SEQUENCE_FRAMES = 2  # a folder with fewer images than this is not a frame sequence
MAX_SYNTHETIC_PATH_FRAMES = 216_000  # the video limit (VideoLimits.max_frames): an hour at 60 fps


@dataclass(frozen=True)
class SourceRef:
    """One source, by reference. Exactly one of `rgb` (a photo), `video` (a video file, frame folder or posed
    sequence folder, as `video_kind` says) or `synthetic_seed` (a scene; with `frames`, a camera path through
    it) is set. Photos and scenes load as a `Source`, videos and camera paths as a `FrameSequence`."""

    id: str
    rgb: str | None = None
    depth: str | None = None
    mask: str | None = None
    depth_scale: float | None = None
    depth_key: str | None = None
    focal_px: float | None = None
    synthetic_seed: int | None = None
    size: tuple[int, int] | None = None  # (width, height) of a synthetic scene
    depth_resize: str = "error"  # load_source's size policy: "error" or "nearest"
    depth_orientation: str | None = None  # grid the depth was made on: "stored", "display", None = inferred
    video: str | None = None  # a video file, a frame folder or a posed RGB-D sequence folder
    video_kind: str | None = None  # one of VIDEO_KINDS, with `video`
    frames: int | None = None  # frames of a synthetic camera path (with `synthetic_seed`)
    fps: float | None = None  # frame rate of a frame folder or posed sequence, when known

    def __post_init__(self) -> None:
        if (self.video is None) != (self.video_kind is None) or (
            self.video_kind is not None and self.video_kind not in VIDEO_KINDS
        ):
            raise ValueError(f"{self.id}: a video source needs both `video` and a `video_kind` in {VIDEO_KINDS}")
        if self.depth_resize not in DEPTH_RESIZE_POLICIES:
            raise ValueError(
                f"{self.id}: depth_resize must be one of {DEPTH_RESIZE_POLICIES}, got {self.depth_resize!r}"
            )
        if self.depth_orientation is not None and self.depth_orientation not in DEPTH_ORIENTATIONS:
            raise ValueError(
                f"{self.id}: depth_orientation must be one of {DEPTH_ORIENTATIONS} or None, "
                f"got {self.depth_orientation!r}"
            )

    @property
    def has_depth(self) -> bool:
        """True when the source comes with depth (a depth file, a synthetic scene or path, a posed sequence)."""
        return self.depth is not None or self.synthetic_seed is not None or self.video_kind == "posed"

    @property
    def is_video(self) -> bool:
        """True when the source loads as a `FrameSequence` (a video, frame folder, posed sequence, camera path)."""
        return self.video is not None or self.frames is not None

    def load(self, max_side: int | None = None, max_pixels: int | None = None) -> Source | FrameSequence:
        """Read the source. Every failure is a SourceError (a subclass naming the reason), including the file
        system's (permissions, I/O errors, names too long) and running out of memory, so one bad source is
        one unreadable source, never the end of a build."""
        try:
            return self._load(max_side, max_pixels)
        except (OSError, MemoryError) as err:
            raise SourceError(f"{self.id}: cannot be read ({type(err).__name__}: {err})") from err

    def _load(self, max_side: int | None, max_pixels: int | None) -> Source | FrameSequence:
        if self.synthetic_seed is not None:
            from spatial_ssrl.sources.synthetic import make_scene

            w, h = self.size or (640, 480)
            if max_pixels is not None and w * h > max_pixels:  # the budget applies to scenes too
                raise SourceError(f"{self.id}: {w}x{h} synthetic scene exceeds max_pixels={max_pixels}")
            if self.frames is not None:
                from spatial_ssrl.sources.video import synthetic_path

                return synthetic_path(self.synthetic_seed, w, h, self.frames, source_id=self.id)
            return make_scene(self.synthetic_seed, w, h).to_source(self.id)
        if self.video is not None:
            from spatial_ssrl.sources import video

            pixels = {} if max_pixels is None else {"max_pixels": max_pixels}
            if self.video_kind == "file":
                limits = video.DEFAULT_LIMITS
                if max_pixels is not None:
                    limits = dataclasses.replace(limits, max_frame_pixels=min(limits.max_frame_pixels, max_pixels))
                return video.open_video(self.video, source_id=self.id, max_side=max_side, limits=limits)
            if self.video_kind == "frames":
                return video.open_frame_folder(self.video, source_id=self.id, fps=self.fps, max_side=max_side, **pixels)
            scale = video.DEFAULT_POSED_DEPTH_SCALE if self.depth_scale is None else self.depth_scale
            return video.open_posed_sequence(
                self.video, source_id=self.id, depth_scale=scale, fps=self.fps, max_side=max_side, **pixels
            )
        from spatial_ssrl.sources import load_source

        kwargs = {} if max_pixels is None else {"max_pixels": max_pixels}
        return load_source(
            self.rgb,
            self.depth,
            mask_path=self.mask,
            depth_scale=self.depth_scale,
            depth_key=self.depth_key,
            source_id=self.id,
            focal_px=self.focal_px,
            max_side=max_side,
            depth_resize=self.depth_resize,
            depth_orientation=self.depth_orientation,
            **kwargs,
        )


class SkippedInputsWarning(UserWarning):
    """Files a discovery function left out, for one reason; `paths` are relative to the collection root."""

    def __init__(self, collection: str, reason: str, paths: Sequence[str]):
        self.collection = collection
        self.reason = reason
        self.paths = list(paths)
        shown = ", ".join(self.paths[:5])
        if len(self.paths) > 5:
            shown += f", ... ({len(self.paths) - 5} more)"
        super().__init__(f"{collection}: skipped {len(self.paths)} file(s): {reason}: {shown}")


@dataclass
class DiscoveryReport:
    """What discovery left out, for a build's statistics: `skipped[collection][reason]` = number of inputs.

    Pass one instance to several discovery calls (`discover(spec, report=r)`, `photo_folder(..., report=r)`)
    to collect them all; the counts are kept whether or not the SkippedInputsWarnings are shown."""

    skipped: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, collection: str, reason: str, count: int) -> None:
        """Count `count` more inputs of `collection` skipped for `reason`."""
        per_reason = self.skipped.setdefault(collection, {})
        per_reason[reason] = per_reason.get(reason, 0) + count

    def by_reason(self) -> dict[str, int]:
        """Skipped inputs per reason, summed over collections (sorted by reason)."""
        out: dict[str, int] = {}
        for per_reason in self.skipped.values():
            for reason, n in per_reason.items():
                out[reason] = out.get(reason, 0) + n
        return dict(sorted(out.items()))

    @property
    def total(self) -> int:
        """All skipped inputs."""
        return sum(n for per_reason in self.skipped.values() for n in per_reason.values())


class ManifestError(ValueError):
    """A manifest that cannot be used. The message has one `FILE:LINE: problem` line per problem
    (at most 20 are listed; `more` counts the rest); `problems` is the list of (line or None, text)."""

    def __init__(self, manifest: str | os.PathLike[str], problems: Sequence[tuple[int | None, str]], more: int = 0):
        self.manifest = str(manifest)
        self.problems = list(problems)
        self.more = more
        lines = [
            f"{self.manifest}:{ln}: {msg}" if ln is not None else f"{self.manifest}: {msg}" for ln, msg in problems
        ]
        if more:
            lines.append(f"{self.manifest}: ... and {more} more problem(s)")
        if len(lines) > 1:
            lines.insert(0, f"{self.manifest}: {len(self.problems) + more} problems:")
        super().__init__("\n".join(lines))

    @property
    def line(self) -> int | None:
        """The 1-based line of the first problem (None for a problem with the whole file)."""
        return self.problems[0][0] if self.problems else None

    def __reduce__(self):
        return type(self), (self.manifest, self.problems, self.more)


class NoSourcesMatched(ValueError):
    """An RGB-D layout (`diode:`, `megadepth:`, `rgbd:`) in which no image pairs with a depth map.

    The message is one line: the spec, what the layout expected, what the folder holds (image,
    depth-like and other files, what was skipped and why, with examples), which other layout would
    pair its files, and the symlink policy. `spec` is the spec, `found` the counts by kind of file."""

    def __init__(self, message: str, spec: str = "", found: dict[str, int] | None = None):
        self.spec = spec
        self.found = dict(found or {})
        super().__init__(message)

    def __reduce__(self):
        return type(self), (str(self), self.spec, self.found)


class _LineProblem(Exception):
    """One manifest line is wrong (internal; collected into a ManifestError)."""


# --------------------------------------------------------------------------------------------------
# Built-in and synthetic sources


def bundled_photos() -> list[SourceRef]:
    """The photos shipped with the package (RGB only; licences in assets/photos/LICENSE.md)."""
    folder = resources.files("spatial_ssrl") / "assets" / "photos"
    paths = sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".jpg"))
    return [SourceRef(id=f"photo/{p.name}", rgb=str(p)) for p in paths]


def synthetic(n: int, size: tuple[int, int] = (640, 480), first_seed: int = 0) -> list[SourceRef]:
    """`n` procedural RGB-D scenes with exact depth (scene i is drawn from seed i)."""
    return [
        SourceRef(id=f"synthetic/scene-{i:06d}", synthetic_seed=i, size=tuple(size))
        for i in range(first_seed, first_seed + n)
    ]


def photo_files(paths: list[str | os.PathLike[str]]) -> list[SourceRef]:
    """RGB photos from files or folders (searched recursively), sorted for a stable order.

    Ids are the paths as given (so they change when the files move); `photo_folder` gives ids
    relative to the folder."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"input {p} does not exist")
    return [SourceRef(id=str(f), rgb=str(f)) for f in sorted(set(files))]


# --------------------------------------------------------------------------------------------------
# Folder walks


def _match_parts(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _match_parts(rest, parts[1:])


def _glob_match(rel: str, pattern: str) -> bool:
    """Does the relative posix path `rel` match `pattern` (see `photo_folder` for the rules)?"""
    if "/" not in pattern:
        return fnmatchcase(rel.rsplit("/", 1)[-1], pattern)
    return _match_parts(tuple(p for p in pattern.split("/") if p), tuple(rel.split("/")))


def _check_patterns(patterns: Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(patterns, str):
        patterns = (patterns,)
    out = tuple(patterns)
    for p in out:
        if not isinstance(p, str) or not p or p.startswith("/"):
            raise ValueError(f"{what} patterns must be non-empty paths relative to the root, got {p!r}")
    return out


def _selected(rel: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    return any(_glob_match(rel, p) for p in include) and not any(_glob_match(rel, p) for p in exclude)


class _Skips:
    """Skipped files by reason, reported as one SkippedInputsWarning per reason (and counted in `report`)."""

    def __init__(self, collection: str, report: DiscoveryReport | None = None):
        self.collection = collection
        self.report = report
        self.by_reason: dict[str, list[str]] = {}

    def add(self, reason: str, rel: str) -> None:
        """Note a skipped path under `reason`."""
        self.by_reason.setdefault(reason, []).append(rel)

    def warn(self) -> None:
        """Emit one SkippedInputsWarning per reason (in reason order, whatever the walk's order), listing a few
        of its paths."""
        for reason, paths in sorted(self.by_reason.items()):
            if self.report is not None:
                self.report.add(self.collection, reason, len(paths))
            warnings.warn(SkippedInputsWarning(self.collection, reason, sorted(paths)), stacklevel=4)


def _resolve(path: Path) -> tuple[Path | None, str]:
    """(resolved path, "") or (None, why it cannot be resolved): a loop raises instead of resolving."""
    try:
        return path.resolve(), ""
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        return None, "symlink loop"
    except OSError as e:
        return None, "symlink loop" if e.errno == errno.ELOOP else f"unresolvable path ({e.strerror})"


def _root_dir(root: str | os.PathLike[str]) -> tuple[Path, str]:
    """(resolved root, default collection name = the root folder's name as given)."""
    given = Path(root)
    if not given.exists():
        if given.is_symlink():
            raise FileNotFoundError(f"collection root {given} is a broken symlink or a symlink loop")
        raise FileNotFoundError(f"collection root {given} does not exist")
    if not given.is_dir():
        raise NotADirectoryError(f"collection root {given} is not a folder")
    return given.resolve(), Path(os.path.abspath(given)).name


def _scan(root: Path, skips: _Skips) -> dict[str, Path]:
    """Every usable file under `root` (resolved), as {relative posix path: path to read}.

    Symlinked folders are not entered; a symlinked file is kept (as its resolved target) only if
    it resolves to a file inside root; a symlink loop is skipped. Skips are recorded in `skips`."""
    files: dict[str, Path] = {}

    def onerror(err: OSError) -> None:
        name = Path(err.filename).relative_to(root).as_posix() if err.filename else "?"
        skips.add(f"unreadable folder ({err.strerror})", name)

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for d in dirnames:
            if (here / d).is_symlink():
                skips.add("symlinked folder (not followed)", prefix + d)
        for f in filenames:
            path, rel = here / f, prefix + f
            if path.is_symlink():
                target, why = _resolve(path)
                if target is None:
                    skips.add(why, rel)
                    continue
                if not target.is_relative_to(root):
                    skips.add("symlink resolving outside the root", rel)
                    continue
                if not target.is_file():
                    skips.add("broken symlink or symlink to a non-file", rel)
                    continue
                path = target
            files[rel] = path
    return files


def _utf8_refs(refs: list[SourceRef], skips: _Skips) -> list[SourceRef]:
    # Ids become parquet strings and hash keys: a name that is not UTF-8 would stop the build later.
    for ref in [r for r in refs if not is_utf8_text(r.id)]:
        skips.add("file name is not UTF-8", ref.id.encode("utf-8", "backslashreplace").decode())
    return [r for r in refs if is_utf8_text(r.id)]


def _finish(refs: list[SourceRef], skips: _Skips, root: Path) -> list[SourceRef]:
    refs = _utf8_refs(refs, skips)
    skips.warn()
    if not refs:
        warnings.warn(f"{skips.collection}: no sources found under {root}", UserWarning, stacklevel=3)
    return sorted(refs, key=lambda r: r.id)


def _is_depth_like(rel: str) -> bool:
    """Is the file at `rel` a depth map or a depth mask by its name? An array file (.npy, .npz, .h5, .hdf5), or an
    image file whose name has the word depth (X_depth.png, depth_0001.png, frame-000000.depth.png, RGB-D_depth3.png)
    or whose folder's name has it (depths/X.png, depth_maps/X.png). `MegaDepth` is not the word depth."""
    pure = PurePosixPath(rel)
    suffix = pure.suffix.lower()
    if suffix in _ARRAY_SUFFIXES:
        return True
    if suffix not in IMAGE_SUFFIXES:
        return False
    return bool(_DEPTH_WORD.search(pure.stem) or _DEPTH_WORD.search(pure.parent.name))


def photo_folder(
    root: str | os.PathLike[str],
    include: Iterable[str] = ("**/*",),
    exclude: Iterable[str] = (),
    name: str | None = None,
    *,
    report: DiscoveryReport | None = None,
) -> list[SourceRef]:
    """RGB photos under `root` (recursive), e.g. a COCO folder such as `train2017/`.

    Only files with an image suffix (`IMAGE_SUFFIXES`, any case) are listed. A file is kept if its
    path relative to root (posix separators) matches at least one `include` pattern and no
    `exclude` pattern. Pattern rules (gitignore-like, built on `fnmatch` per path component):
      - a pattern without `/` is matched against the file name alone: `*.jpg` matches at any depth;
      - a pattern with `/` is matched against the whole relative path, component by component:
        `*`, `?` and `[seq]` never cross a `/`, and a `**` component matches zero or more folders
        (`train2017/*.jpg` = directly in train2017; `**/val/**` = anything under any `val` folder);
      - matching is case-sensitive, and `*` also matches names starting with a dot.
    Ids are `name/<relative path>`; `name` defaults to the root folder's name. Symlinked folders are
    not followed; symlinked files resolving outside root, symlink loops and selected files with an
    image suffix that is not read (`UNSUPPORTED_IMAGE_SUFFIXES`, e.g. .heic) are skipped and reported
    (SkippedInputsWarning, and counted in `report` if given). Depth-like files (arrays: .npy, .npz,
    .h5, .hdf5; images whose name or folder name has the word depth: X_depth.png, depths/X.png) are
    not photos: they are skipped and reported with the reason DEPTH_LIKE_REASON and their count
    (`rgbd_tree` / `rgbd:DIR` pairs them with their images).
    """
    include, exclude = _check_patterns(include, "include"), _check_patterns(exclude, "exclude")
    root_r, default_name = _root_dir(root)
    name = name or default_name or "photos"
    skips = _Skips(name, report)
    refs = []
    for rel, path in _scan(root_r, skips).items():
        suffix = PurePosixPath(rel).suffix.lower()
        if suffix not in (*IMAGE_SUFFIXES, *UNSUPPORTED_IMAGE_SUFFIXES, *_ARRAY_SUFFIXES):
            continue
        if not _selected(rel, include, exclude):
            continue
        if _is_depth_like(rel):
            skips.add(DEPTH_LIKE_REASON, rel)
        elif suffix in IMAGE_SUFFIXES:
            refs.append(SourceRef(id=f"{name}/{rel}", rgb=str(path)))
        else:
            skips.add("unsupported format", rel)
    return _finish(refs, skips, root_r)


def _check_depth_options(depth_orientation: str | None, depth_resize: str) -> None:
    if depth_orientation is not None and depth_orientation not in DEPTH_ORIENTATIONS:
        raise ValueError(f"depth_orientation must be one of {DEPTH_ORIENTATIONS} or None, got {depth_orientation!r}")
    if depth_resize not in DEPTH_RESIZE_POLICIES:
        raise ValueError(f"depth_resize must be one of {DEPTH_RESIZE_POLICIES}, got {depth_resize!r}")


def _plausible_focal(value: float, what: str) -> float:
    """`value` if some image width up to the pixel limit gives it an allowed field of view, else raise."""
    f = check_focal_number(value, what)
    lo, hi = focal_px_range(_FOCAL_WIDTHS[0])[0], focal_px_range(_FOCAL_WIDTHS[1])[1]
    if not lo <= f <= hi:
        raise ImplausibleFocal(
            f"{what}: focal_px={value!r} gives no horizontal field of view within {MIN_HFOV_DEG:g}-{MAX_HFOV_DEG:g} "
            f"degrees for any image {_FOCAL_WIDTHS[0]}-{_FOCAL_WIDTHS[1]} px wide (allowed {lo:.4g}-{hi:.4g} px)"
        )
    return f


# --------------------------------------------------------------------------------------------------
# RGB-D layouts: each pairs the files of one folder walk ({relative path: path to read}) into refs


@dataclass(frozen=True)
class _Layout:
    """What one RGB-D layout pairs, for a walk's files."""

    name: str
    include: tuple[str, ...] = ("**/*",)
    exclude: tuple[str, ...] = ()
    depth_orientation: str | None = None
    depth_resize: str = "error"

    def selected(self, rel: str) -> bool:
        return _selected(rel, self.include, self.exclude)

    def ref(self, rel: str, rgb: Path, depth: Path, **kwargs: Any) -> SourceRef:
        return SourceRef(
            id=f"{self.name}/{rel}",
            rgb=str(rgb),
            depth=str(depth),
            depth_resize=self.depth_resize,
            depth_orientation=self.depth_orientation,
            **kwargs,
        )


def _diode_pairs(files: dict[str, Path], lay: _Layout, skips: _Skips, focal_px: float | None) -> list[SourceRef]:
    refs = []
    for rel, path in files.items():
        if rel.endswith("_depth.npy"):
            stem = rel[: -len("_depth.npy")]
            if stem + ".png" not in files and lay.selected(stem + ".png"):
                skips.add("depth map without X.png", rel)
        if not rel.lower().endswith(".png") or not lay.selected(rel):
            if PurePosixPath(rel).suffix.lower() in IMAGE_SUFFIXES and lay.selected(rel) and not _is_depth_like(rel):
                skips.add("image not a PNG (DIODE images are X.png)", rel)
            continue
        stem = rel[: -len(".png")]
        depth, mask = files.get(stem + "_depth.npy"), files.get(stem + "_depth_mask.npy")
        if depth is None:
            skips.add("PNG without X_depth.npy", rel)
            continue
        refs.append(lay.ref(rel, path, depth, mask=None if mask is None else str(mask), focal_px=focal_px))
    return refs


def _megadepth_pairs(files: dict[str, Path], lay: _Layout, skips: _Skips) -> list[SourceRef]:
    refs = []
    for rel, path in files.items():
        pure = PurePosixPath(rel)
        if not lay.selected(rel):
            continue
        if pure.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES and pure.parent.name == "imgs":
            skips.add("unsupported format", rel)
            continue
        if pure.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if pure.parent.name != "imgs":
            skips.add("image not in an `imgs` folder", rel)
            continue
        depth = files.get((pure.parent.parent / "depths" / f"{pure.stem}.h5").as_posix())
        if depth is None:
            skips.add("image without ../depths/<stem>.h5", rel)
            continue
        refs.append(lay.ref(rel, path, depth, depth_key="depth"))
    return refs


def _depth_keys(rel: str) -> list[str]:
    """Where an image's depth map may be, as lower-case paths without suffix, in order of preference:
    beside it (X_depth; the name with img / image / rgb / color replaced by depth), then in a sibling
    depth folder when the image is in an image folder (imgs/X -> depths/X, depth/X, depths/X_depth, ...)."""
    pure = PurePosixPath(rel.lower())
    stem, folder = pure.stem, pure.parent
    names = [f"{stem}_depth", *(stem[: m.start()] + "depth" + stem[m.end() :] for m in _IMAGE_WORD.finditer(stem))]
    keys = [(folder / n).as_posix() for n in names]
    if folder.name in _IMAGE_DIRS:
        keys += [(folder.parent / d / n).as_posix() for d in _DEPTH_DIRS for n in (stem, *names)]
    return list(dict.fromkeys(keys))


def _mask_keys(depth_key: str) -> list[str]:
    """Where a depth map's mask may be (lower-case paths without suffix): <depth>_mask, or the depth map's name
    with the word depth replaced by depth_mask (X_depth -> X_depth_mask, RGB-D_depth3 -> RGB-D_depth_mask3)."""
    folder, _, stem = depth_key.rpartition("/")
    prefix = folder + "/" if folder else ""
    subs = (prefix + stem[: m.start()] + "depth_mask" + stem[m.end() :] for m in _DEPTH_WORD.finditer(stem))
    return list(dict.fromkeys([depth_key + "_mask", *subs]))


def _rgbd_pairs(
    files: dict[str, Path], lay: _Layout, skips: _Skips, png_depth_scale: float, diode_focal_px: float | None
) -> list[SourceRef]:
    # Depth maps and masks by lower-case path without suffix; the first (sorted) file wins a case clash.
    index: dict[str, dict[str, str]] = {}
    for rel in sorted(files):
        suffix = PurePosixPath(rel).suffix
        if suffix.lower() in RGBD_DEPTH_SUFFIXES and _is_depth_like(rel):
            index.setdefault(rel[: -len(suffix)].lower(), {}).setdefault(suffix.lower(), rel)

    def lookup(keys: list[str]) -> list[str]:
        """The files at the first key that has any, in suffix preference order."""
        for key in keys:
            found = index.get(key, {})
            hits = [found[s] for s in RGBD_DEPTH_SUFFIXES if s in found]
            if hits:
                return hits
        return []

    refs, used, spare = [], set(), set()
    for rel, path in files.items():
        pure = PurePosixPath(rel)
        suffix = pure.suffix.lower()
        if _is_depth_like(rel) or not lay.selected(rel):
            continue
        if suffix in UNSUPPORTED_IMAGE_SUFFIXES:
            skips.add("unsupported format", rel)
            continue
        if suffix not in IMAGE_SUFFIXES:
            continue
        hits = lookup(_depth_keys(rel))
        if not hits:
            skips.add("image without a depth map", rel)
            continue
        depth, spare_hits = hits[0], hits[1:]
        depth_suffix = PurePosixPath(depth).suffix
        masks = lookup(_mask_keys(depth[: -len(depth_suffix)].lower()))
        mask = masks[0] if masks else None
        used.update([depth] if mask is None else [depth, mask])
        spare.update(spare_hits)
        is_diode = _DIODE_NAME.fullmatch(pure.name) is not None and depth == rel[: -len(".png")] + "_depth.npy"
        refs.append(
            lay.ref(
                rel,
                path,
                files[depth],
                mask=None if mask is None else str(files[mask]),
                depth_scale=png_depth_scale if depth_suffix.lower() == ".png" else None,
                depth_key="depth" if depth_suffix.lower() in (".h5", ".hdf5") else None,
                focal_px=diode_focal_px if is_diode else None,
            )
        )
    for rel in files:
        if rel not in used and _is_depth_like(rel) and lay.selected(rel):
            if rel in spare:
                skips.add(f"second depth map of an image (the first of {', '.join(RGBD_DEPTH_SUFFIXES)} is used)", rel)
            else:
                skips.add("depth-like file paired with no image", rel)
    return refs


_EXPECTED = {
    "diode": "X.png with X_depth.npy in the same folder (+ X_depth_mask.npy)",
    "megadepth": "<scene>/imgs/X.<image> with <scene>/depths/X.h5",
    "rgbd": (
        f"an image X.<image> with X_depth.<{'|'.join(s[1:] for s in RGBD_DEPTH_SUFFIXES)}> beside it "
        "(+ X_depth_mask.*), or a depth file named like the image with img/image/rgb/color replaced by depth "
        f"(RGB-D_img3.png + RGB-D_depth3.npy), or {'|'.join(_IMAGE_DIRS)}/X.<image> with "
        f"{'|'.join(_DEPTH_DIRS)}/X.<depth> in the same parent folder"
    ),
}


def _printable(text: str, n: int = 80) -> str:
    """`text` on one line (control characters escaped), at most `n` characters."""
    return _short("".join(c if c.isprintable() else repr(c)[1:-1] for c in text), n)


def _layout_pairs(kind: str, files: dict[str, Path], skips: _Skips) -> list[SourceRef]:
    """What layout `kind` pairs among `files` with its defaults (for the hints of NoSourcesMatched)."""
    lay = _Layout(kind)
    if kind == "diode":
        return _diode_pairs(files, lay, skips, None)
    if kind == "megadepth":
        return _megadepth_pairs(files, lay, skips)
    return _rgbd_pairs(files, lay, skips, PNG_DEPTH_SCALE, None)


def _no_match(kind: str, given_root: str | os.PathLike[str], root: Path, files: dict[str, Path], skips: _Skips):
    """The NoSourcesMatched error of layout `kind` on the walk `files` of `root` (one line)."""
    given = _printable(os.fspath(given_root), 200)
    spec = f"{kind}:{given}"
    depth_like = [r for r in files if _is_depth_like(r)]
    images = [r for r in files if PurePosixPath(r).suffix.lower() in IMAGE_SUFFIXES and not _is_depth_like(r)]
    other = len(files) - len(images) - len(depth_like)
    suffixes: dict[str, int] = {}
    for r in depth_like:
        s = PurePosixPath(r).suffix.lower()
        suffixes[s] = suffixes.get(s, 0) + 1
    found = f"found {len(files)} file(s) under {_printable(str(root), 200)}: {len(images)} image(s), "
    found += f"{len(depth_like)} depth-like"
    if suffixes:
        found += " (" + ", ".join(f"{n} {s}" for s, n in sorted(suffixes.items())) + ")"
    found += f", {other} other"
    parts = [f"{spec} matched no sources", f"expected {_EXPECTED[kind]}", found]
    skipped = 0
    for reason, paths in sorted(skips.by_reason.items()):
        skipped += len(paths)
        shown = ", ".join(_printable(p, 60) for p in sorted(paths)[:2])
        parts.append(f"{reason}: {len(paths)} (e.g. {shown})")
    pairs = {k: len(_layout_pairs(k, files, _Skips(k))) for k in ("diode", "megadepth", "rgbd") if k != kind}
    tries = [f"{k}:{given} ({n} image(s) paired)" for k, n in pairs.items() if n]
    if tries:
        parts.append("try " + " or ".join(tries))
    else:
        hint = "a manifest (manifest:FILE@ROOT) pairs files of any name"
        if images:
            hint = f"photos:{given} reads the {len(images)} image(s) without depth; {hint}"
        parts.append(hint)
    parts.append(_SYMLINK_POLICY)
    counts = {"files": len(files), "images": len(images), "depth_like": len(depth_like), "other": other}
    return NoSourcesMatched("; ".join(parts), spec, {**counts, "skipped": skipped})


def _layout_refs(
    kind: str,
    root: str | os.PathLike[str],
    lay: _Layout,
    skips_name: str,
    report: DiscoveryReport | None,
    pair: Any,
) -> list[SourceRef]:
    """Walk `root`, pair with `pair(files, skips)`, then warn about skips, or raise NoSourcesMatched if none paired."""
    root_r, _ = _root_dir(root)
    skips = _Skips(skips_name, report)
    files = _scan(root_r, skips)
    refs = _utf8_refs(pair(files, skips), skips)
    if not refs:
        raise _no_match(kind, root, root_r, files, skips)
    skips.warn()
    return sorted(refs, key=lambda r: r.id)


def diode_tree(
    root: str | os.PathLike[str],
    name: str = "diode",
    focal_px: float | None = DIODE_FOCAL_PX,
    *,
    include: Iterable[str] = ("**/*",),
    exclude: Iterable[str] = (),
    depth_orientation: str | None = None,
    depth_resize: str = "error",
    report: DiscoveryReport | None = None,
) -> list[SourceRef]:
    """A DIODE-style tree: every `X.png` with a sibling `X_depth.npy` (metric depth) and, if present,
    `X_depth_mask.npy` (nonzero = valid).

    `focal_px` defaults to DIODE's fixed fx = 886.81 px, which is only right for images at DIODE's
    original 1024 x 768 resolution; pass None for a resized copy of DIODE (or the rescaled focal).
    Discovery reads no pixels, so here only a focal length no image width could make plausible is
    refused (ImplausibleFocal); each image's load checks that it gives a horizontal field of view of
    10-170 degrees over that image's width (DIODE's own: 60 degrees), else that source is refused.
    `include` / `exclude` select images as in `photo_folder` (e.g. `exclude=("indoors/**",)`).
    `depth_orientation` and `depth_resize` are set on every ref (see `load_source`). PNGs without a
    depth map, and depth maps without a PNG, are skipped and reported (SkippedInputsWarning, and
    counted in `report` if given). A tree in which no PNG pairs raises NoSourcesMatched.
    """
    include, exclude = _check_patterns(include, "include"), _check_patterns(exclude, "exclude")
    _check_depth_options(depth_orientation, depth_resize)
    if focal_px is not None:
        focal_px = _plausible_focal(focal_px, f"{name}: DIODE focal length")
    lay = _Layout(name, include, exclude, depth_orientation, depth_resize)
    return _layout_refs(
        "diode", root, lay, name, report, lambda files, skips: _diode_pairs(files, lay, skips, focal_px)
    )


def megadepth_tree(
    root: str | os.PathLike[str],
    name: str = "megadepth",
    *,
    include: Iterable[str] = ("**/*",),
    exclude: Iterable[str] = (),
    depth_orientation: str | None = None,
    depth_resize: str = "error",
    report: DiscoveryReport | None = None,
) -> list[SourceRef]:
    """A MegaDepth-style tree: every image in a folder named `imgs` whose depth is `../depths/<stem>.h5`
    (HDF5 dataset `depth`, 0 = invalid).

    The v1 layout is `phoenix/S6/zl548/MegaDepth_v1/<scene>/dense<k>/imgs/<stem>.jpg` with
    `.../dense<k>/depths/<stem>.h5`, but any depth of nesting works. MegaDepth depth comes from SfM and
    is only defined up to a per-scene scale (the depth tasks compare relative gaps, so that is fine);
    no focal length is set. Images without depth, images outside an `imgs` folder and images of an
    unsupported format are skipped and reported (SkippedInputsWarning, and counted in `report` if
    given). `include` / `exclude` select images as in `photo_folder`; `depth_orientation` and
    `depth_resize` are set on every ref (see `load_source`). A tree in which no image pairs raises
    NoSourcesMatched.
    """
    include, exclude = _check_patterns(include, "include"), _check_patterns(exclude, "exclude")
    _check_depth_options(depth_orientation, depth_resize)
    lay = _Layout(name, include, exclude, depth_orientation, depth_resize)
    return _layout_refs("megadepth", root, lay, name, report, lambda files, skips: _megadepth_pairs(files, lay, skips))


def rgbd_tree(
    root: str | os.PathLike[str],
    name: str | None = None,
    *,
    include: Iterable[str] = ("**/*",),
    exclude: Iterable[str] = (),
    depth_orientation: str | None = None,
    depth_resize: str = "error",
    png_depth_scale: float = PNG_DEPTH_SCALE,
    diode_focal_px: float | None = DIODE_FOCAL_PX,
    report: DiscoveryReport | None = None,
) -> list[SourceRef]:
    """Images under `root` paired with their depth maps (and masks) by the common naming conventions.

    For an image `<folder>/X.<ext>` (`IMAGE_SUFFIXES`; not itself depth-like) the depth map is the
    first of these that exists, each tried with the suffixes `RGBD_DEPTH_SUFFIXES` in that order
    (.npy, .npz, .h5, .hdf5, .png; a second format of the same map is skipped and reported):
      1. beside it: `X_depth` (DIODE: `X.png` + `X_depth.npy`), then the name with a word img / imgs /
         image / images / rgb / color / colour replaced by depth, each occurrence from the left
         (`RGB-D_img3.png` + `RGB-D_depth3.npy`, `rgb_0001.jpg` + `depth_0001.png`,
         `frame-000000.color.png` + `frame-000000.depth.png`); a word is bounded by the name's start or
         end, `_`, `.`, `-` or a digit;
      2. when `<folder>` is named imgs / images / image / img / rgb / color / colour: the same names in a
         sibling folder `depths` or `depth` (MegaDepth: `imgs/X.jpg` + `depths/X.h5`; `rgb/X.png` +
         `depth/X.png`).
    Names are compared without regard to case. The mask (nonzero = valid) is `<depth>_mask.*` or the
    depth map's name with depth replaced by depth_mask (`X_depth_mask.npy`, `RGB-D_depth_mask3.npy`).
    Depth units: arrays as stored (metres for DIODE, up to scale for MegaDepth); HDF5 dataset `depth`;
    an integer PNG is multiplied by `png_depth_scale` (default 0.001: millimetres), 0 = invalid (a dataset
    marking invalid depth otherwise, e.g. 7-Scenes' 65535, needs a mask). The depth tasks compare depth
    ratios only, so the unit changes no answer; a manifest's `scale` column sets it per file.

    Intrinsics: images named in DIODE's scheme (`00019_00183_indoors_000_010.png` with
    `..._depth.npy`) get `diode_focal_px` (DIODE's 886.81 px, right for its original 1024 x 768
    images, as `diode_tree`); no other focal length is read (no intrinsics file convention is
    supported): the position task then assumes a field of view with a stated uncertainty, and a
    manifest's `focal_px` column gives per-image focal lengths.

    Ids are `name/<relative path of the image>`, `name` defaulting to the root folder's name; sorted by
    id. Images without depth, depth-like files paired with no image and images of an unsupported
    format are skipped and reported (SkippedInputsWarning, counted in `report` if given); symlinks as
    in every folder walk. `include` / `exclude` select files as in `photo_folder`; `depth_orientation`
    and `depth_resize` are set on every ref (see `load_source`). A folder in which no image pairs
    raises NoSourcesMatched.
    """
    include, exclude = _check_patterns(include, "include"), _check_patterns(exclude, "exclude")
    _check_depth_options(depth_orientation, depth_resize)
    if not (isinstance(png_depth_scale, (int, float)) and math.isfinite(png_depth_scale) and png_depth_scale > 0):
        raise ValueError(f"png_depth_scale must be a positive finite number, got {png_depth_scale!r}")
    if diode_focal_px is not None:
        diode_focal_px = _plausible_focal(diode_focal_px, "rgbd: DIODE focal length")
    name = name or Path(os.path.abspath(root)).name or "rgbd"
    lay = _Layout(name, include, exclude, depth_orientation, depth_resize)
    return _layout_refs(
        "rgbd",
        root,
        lay,
        name,
        report,
        lambda files, skips: _rgbd_pairs(files, lay, skips, float(png_depth_scale), diode_focal_px),
    )


# --------------------------------------------------------------------------------------------------
# Manifests


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _bounded_lines(f) -> Iterator[tuple[str, bool]]:
    """(line, fits) per line of the text file `f`, reading at most MAX_MANIFEST_LINE_CHARS + 1 characters
    at a time; an overlong line is consumed to its end and given once, truncated, with fits=False."""
    while True:
        line = f.readline(MAX_MANIFEST_LINE_CHARS + 1)
        if not line:
            return
        if len(line) <= MAX_MANIFEST_LINE_CHARS or line.endswith(("\n", "\r")):
            yield line, True
            continue
        rest = line
        while rest and not rest.endswith(("\n", "\r")):  # skip the remainder in bounded pieces
            rest = f.readline(MAX_MANIFEST_LINE_CHARS)
        yield line[:80], False


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, record) per data row, or (line, problem text) for a bad row; raises for a bad header."""
    allowed = ", ".join(MANIFEST_COLUMNS)

    row_chars = [0]  # characters of the row being read: a quoted field may span lines, so count per row

    def lines(f) -> Iterator[str]:
        for ln, (line, fits) in enumerate(_bounded_lines(f), 1):
            row_chars[0] += len(line)
            if not fits:  # rows may span lines, so an unreadable line ends the file's parsing
                raise ManifestError(path, [(ln, f"line longer than {MAX_MANIFEST_LINE_CHARS} characters")])
            if row_chars[0] > MAX_MANIFEST_LINE_CHARS:
                raise ManifestError(path, [(ln, f"row longer than {MAX_MANIFEST_LINE_CHARS} characters")])
            yield line

    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(lines(f))
        header: list[str] | None = None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                raise ManifestError(path, [(reader.line_num, f"unreadable CSV ({e})")]) from e
            row_chars[0] = 0
            ln = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                unknown = [c for c in header if c not in MANIFEST_COLUMNS]
                if unknown:
                    raise ManifestError(
                        path,
                        [(ln, f"unknown column(s) {unknown} in the header line (allowed: {allowed})")],
                    )
                dupes = sorted({c for c in header if header.count(c) > 1})
                if dupes:
                    raise ManifestError(path, [(ln, f"duplicate column(s) {dupes} in the header line")])
                if "rgb" not in header:
                    raise ManifestError(path, [(ln, f"the header line has no 'rgb' column: {row!r}")])
                continue
            if len(row) > len(header):
                yield ln, f"{len(row)} values but the header has {len(header)} columns: {_short(repr(row))}"
                continue
            yield ln, dict(zip(header, row))  # missing trailing cells = empty
    if header is None:
        raise ManifestError(path, [(None, f"empty manifest: a header line naming the columns ({allowed}) is required")])


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    allowed = ", ".join(MANIFEST_COLUMNS)
    with open(path, encoding="utf-8-sig") as f:
        for ln, (line, fits) in enumerate(_bounded_lines(f), 1):
            text = line.strip()
            if not fits:
                yield ln, f"line longer than {MAX_MANIFEST_LINE_CHARS} characters: {_short(text)!r}"
                continue
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                yield ln, f"malformed JSON ({e.msg}, column {e.colno}): {_short(text)!r}"
                continue
            except RecursionError:  # nesting deeper than the interpreter's recursion limit
                yield ln, f"JSON nested too deeply to parse: {_short(text)!r}"
                continue
            except ValueError as e:  # e.g. an integer beyond Python's int-from-string digit limit
                yield ln, f"unparsable JSON ({e}): {_short(text)!r}"
                continue
            if not isinstance(obj, dict):
                yield ln, f"expected a JSON object, got {type(obj).__name__}: {_short(text)!r}"
                continue
            unknown = sorted(k for k in obj if k not in MANIFEST_COLUMNS)
            if unknown:
                yield ln, f"unknown key(s) {unknown} (allowed: {allowed})"
                continue
            yield ln, obj


def _text_field(rec: dict[str, Any], key: str) -> str | None:
    value = rec.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _LineProblem(f"{key} must be a string, got {value!r}")
    return value.strip() or None


def _number_field(rec: dict[str, Any], key: str) -> float | None:
    value = rec.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _LineProblem(f"{key} must be a number, got {value!r}")
    try:
        x = float(value)
    except ValueError:
        raise _LineProblem(f"{key} is not a number: {_short(repr(value))}") from None
    except OverflowError:  # an integer too large for a float
        raise _LineProblem(f"{key} must be a positive finite number, got {_short(repr(value))}") from None
    if not (math.isfinite(x) and x > 0):
        raise _LineProblem(f"{key} must be a positive finite number, got {_short(repr(value))}")
    return x


def _choice_field(rec: dict[str, Any], key: str, choices: tuple[str, ...]) -> str | None:
    value = _text_field(rec, key)
    if value is not None and value not in choices:
        raise _LineProblem(f"{key} must be one of {', '.join(choices)}, got {_short(repr(value))}")
    return value


def _under_root(root: Path, key: str, value: str) -> tuple[str, Path]:
    """(normalised relative posix path, resolved path) of a manifest path, which must stay in root."""
    if "\x00" in value:
        raise _LineProblem(f"{key} path {value!r} contains a NUL character")
    if value.startswith(("/", "\\")) or PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
        raise _LineProblem(f"{key} path {value!r} is absolute; manifest paths must be relative to the root {root}")
    rel = posixpath.normpath(value)  # lexical: 'a/../b' -> 'b'; the file read is root/rel
    if rel == ".." or rel.startswith("../"):
        raise _LineProblem(f"{key} path {value!r} escapes the root {root} through '..'")
    if rel == ".":
        raise _LineProblem(f"{key} path {value!r} names the root folder, not a file")
    target, why = _resolve(root / rel)
    if target is None:
        raise _LineProblem(f"{key} path {value!r} cannot be resolved: {why}")
    if not target.is_relative_to(root):
        raise _LineProblem(f"{key} path {value!r} resolves through a symlink to {target}, outside the root {root}")
    if not target.exists():
        raise _LineProblem(f"{key} file {value!r} does not exist under the root {root}")
    if not target.is_file():
        raise _LineProblem(f"{key} path {value!r} is not a file")
    return rel, target


def _manifest_ref(
    rec: dict[str, Any], root: Path, name: str, depth_orientation: str | None, depth_resize: str
) -> SourceRef:
    rgb_value = _text_field(rec, "rgb")
    if rgb_value is None:
        raise _LineProblem(f"rgb is empty ({rec.get('rgb')!r}); every line needs an image path")
    rgb_rel, rgb = _under_root(root, "rgb", rgb_value)
    depth_value, mask_value = _text_field(rec, "depth"), _text_field(rec, "mask")
    depth = None if depth_value is None else _under_root(root, "depth", depth_value)[1]
    mask = None if mask_value is None else _under_root(root, "mask", mask_value)[1]
    scale, focal = _number_field(rec, "scale"), _number_field(rec, "focal_px")
    if focal is not None:
        try:
            focal = _plausible_focal(focal, "focal_px")
        except ImplausibleFocal as e:
            raise _LineProblem(str(e).removeprefix("focal_px: ")) from None
    depth_key = _text_field(rec, "depth_key")
    orientation = _choice_field(rec, "depth_orientation", DEPTH_ORIENTATIONS)
    resize = _choice_field(rec, "depth_resize", DEPTH_RESIZE_POLICIES)
    if depth is None:
        given = (("mask", mask_value), ("scale", scale), ("depth_key", depth_key))
        for key, value in (*given, ("depth_orientation", orientation), ("depth_resize", resize)):
            if value is not None:
                raise _LineProblem(f"{key} {value!r} is given without a depth map")
    else:  # the row's own value wins over the collection-wide default
        orientation = orientation or depth_orientation
        resize = resize or depth_resize
    source_id = _text_field(rec, "id") or f"{name}/{rgb_rel}"
    if not is_utf8_text(source_id):
        raise _LineProblem("id or file name is not UTF-8 text")
    return SourceRef(
        id=source_id,
        rgb=str(rgb),
        depth=None if depth is None else str(depth),
        mask=None if mask is None else str(mask),
        depth_scale=scale,
        depth_key=depth_key,
        focal_px=focal,
        depth_resize=resize or "error",
        depth_orientation=orientation,
    )


def read_manifest(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    name: str | None = None,
    *,
    depth_orientation: str | None = None,
    depth_resize: str = "error",
) -> list[SourceRef]:
    """Sources listed in a manifest, with every path resolved under `root`.

    Format by suffix: `.csv` (UTF-8, a header line is required) or `.jsonl` / `.ndjson` / `.json`
    (JSON lines: one object per line). Columns / keys: `rgb` (required), `depth`, `mask`, `scale`
    (multiplies the depth, e.g. 0.001 for millimetre PNGs), `focal_px`, `depth_key` (dataset in an
    .npz / .h5 file), `depth_orientation` (`stored` / `display`: the pixel grid of an EXIF-oriented
    photo the depth was made on), `depth_resize` (`error` / `nearest`: what to do when depth and
    image sizes differ) and `id`. Empty cells / null mean absent; blank lines are ignored. The
    `depth_orientation` / `depth_resize` arguments are the defaults for rows with depth that leave
    those columns empty (see `load_source`). A line may hold at most MAX_MANIFEST_LINE_CHARS characters.

    Paths are relative to `root` and may not leave it: absolute paths, `..` that climbs above root
    (`a/../b` is fine) and symlinks resolving outside root are refused. Files are checked to exist
    at discovery (one `stat` each), so a missing file fails here rather than in a worker hours later.
    Ids: the `id` column verbatim if given, else `name/<rgb path normalised>`, with `name` defaulting
    to the root folder's name; ids must be unique.

    Raises ManifestError (a ValueError) naming the manifest, the 1-based line and the offending value
    for every bad line (up to 20 listed): bad paths, missing files, symlink loops, empty rgb,
    non-numeric or non-positive scale / focal_px, a focal_px no image width could make plausible,
    unknown columns or keys or values, malformed, too deeply nested or overlong JSON lines, duplicate
    ids, and mask / scale / depth_key / depth_orientation / depth_resize without a depth map.
    """
    _check_depth_options(depth_orientation, depth_resize)
    path = Path(path)
    if not path.is_file():
        raise ManifestError(path, [(None, "no such manifest file")])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _csv_records(path)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        records = _jsonl_records(path)
    else:
        raise ManifestError(path, [(None, f"unknown manifest format {suffix!r} (use .csv or .jsonl)")])
    given_root = Path(root)
    if not given_root.is_dir():
        raise ManifestError(path, [(None, f"the root {given_root} is not an existing folder")])
    root_r = given_root.resolve()
    name = name or Path(os.path.abspath(given_root)).name or "manifest"

    refs: list[SourceRef] = []
    first_line: dict[str, int] = {}
    problems: list[tuple[int | None, str]] = []
    more = 0
    try:
        for ln, rec in records:
            try:
                if isinstance(rec, str):
                    raise _LineProblem(rec)
                ref = _manifest_ref(rec, root_r, name, depth_orientation, depth_resize)
                if ref.id in first_line:
                    raise _LineProblem(f"duplicate id {ref.id!r} (first on line {first_line[ref.id]})")
            except _LineProblem as e:
                if len(problems) < _MAX_PROBLEMS:
                    problems.append((ln, str(e)))
                else:
                    more += 1
                continue
            first_line[ref.id] = ln
            refs.append(ref)
    except UnicodeDecodeError as e:
        raise ManifestError(path, [*problems, (None, f"not UTF-8 text ({e.reason} at byte {e.start})")]) from e
    if problems:
        raise ManifestError(path, problems, more)
    return sorted(refs, key=lambda r: r.id)


# --------------------------------------------------------------------------------------------------
# CLI specs


def synthetic_paths(
    n: int, size: tuple[int, int] = (320, 240), frames: int = 64, first_seed: int = 0
) -> list[SourceRef]:
    """`n` camera paths of `frames` frames, each through synthetic scene i (seed i), with exact poses and depth."""
    if not MIN_SEQUENCE_FRAMES <= frames <= MAX_SYNTHETIC_PATH_FRAMES:
        raise ValueError(
            f"a synthetic path needs {MIN_SEQUENCE_FRAMES}-{MAX_SYNTHETIC_PATH_FRAMES} frames, got {frames}"
        )
    return [
        SourceRef(id=f"synthetic/path-{i:06d}", synthetic_seed=i, size=tuple(size), frames=frames)
        for i in range(first_seed, first_seed + n)
    ]


def video_files(root: str | os.PathLike[str], *, report: DiscoveryReport | None = None) -> list[SourceRef]:
    """Every video file (`VIDEO_SUFFIXES`, any case) under `root` (recursive), or `root` itself when it is one.
    Ids are `name/<relative path>` as for photos."""
    given = Path(root)
    if given.is_file():
        parent = Path(os.path.abspath(given)).parent.name or "videos"
        return [SourceRef(id=f"{parent}/{given.name}", video=str(given.resolve()), video_kind="file")]
    root_r, name = _root_dir(root)
    name = name or "videos"
    skips = _Skips(name, report)
    refs = [
        SourceRef(id=f"{name}/{rel}", video=str(path), video_kind="file")
        for rel, path in _scan(root_r, skips).items()
        if PurePosixPath(rel).suffix.lower() in VIDEO_SUFFIXES
    ]
    return _finish(refs, skips, root_r)


def _sequence_folders(root: Path, is_sequence) -> list[Path]:
    """`root` if it is a sequence, else every folder under it that is one (not looking inside sequences)."""
    if is_sequence(root):
        return [root]
    found = []
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if sub.is_symlink():
                continue
            if is_sequence(sub):
                found.append(sub)
            else:
                keep.append(d)
        dirnames[:] = keep
    return found


def _has_frames(folder: Path) -> bool:
    try:
        n = sum(1 for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
    except OSError:
        return False
    return n >= MIN_SEQUENCE_FRAMES


def frame_folders(root: str | os.PathLike[str], fps: float | None = None) -> list[SourceRef]:
    """Image sequences: `root` when it directly holds at least MIN_SEQUENCE_FRAMES images, else every folder
    under it that does. Frames are read in natural name order; ids are `name/<relative folder>`."""
    root_r, name = _root_dir(root)
    refs = [
        SourceRef(id=_sequence_id(name or "frames", root_r, f), video=str(f), video_kind="frames", fps=fps)
        for f in _sequence_folders(root_r, _has_frames)
    ]
    if not refs:
        raise NoSourcesMatched(f"frames:{root}: no folder with at least {MIN_SEQUENCE_FRAMES} images")
    return sorted(refs, key=lambda r: r.id)


def _is_posed(folder: Path) -> bool:
    return (folder / "color").is_dir() and (folder / "pose").is_dir()


def posed_sequences(
    root: str | os.PathLike[str], depth_scale: float | None = None, fps: float | None = None
) -> list[SourceRef]:
    """Posed RGB-D sequences (`color/`, `depth/`, `pose/`, intrinsic matrix; `video.open_posed_sequence`):
    `root` itself, or every folder under it holding `color/` and `pose/`. `depth_scale` multiplies the
    16-bit depth values (default: millimetres)."""
    root_r, name = _root_dir(root)
    if depth_scale is not None and not (math.isfinite(depth_scale) and depth_scale > 0):
        raise ValueError(f"depth scale must be a positive number, got {depth_scale!r}")
    refs = [
        SourceRef(
            id=_sequence_id(name or "posed", root_r, f),
            video=str(f),
            video_kind="posed",
            depth_scale=depth_scale,
            fps=fps,
        )  # fmt: skip
        for f in _sequence_folders(root_r, _is_posed)
    ]
    if not refs:
        raise NoSourcesMatched(f"posed:{root}: no folder with color/ and pose/ sub-folders")
    return sorted(refs, key=lambda r: r.id)


def _sequence_id(name: str, root: Path, folder: Path) -> str:
    rel = folder.relative_to(root).as_posix()
    return name if rel == "." else f"{name}/{rel}"


_SPEC_KINDS = (
    "photos", "rgbd", "diode", "megadepth", "manifest", "synthetic", "bundled",
    "video", "frames", "posed", "synthetic-video",
)  # fmt: skip
_SYNTHETIC_SPEC = re.compile(r"(\d+)(?:x(\d+)x(\d+))?")
_SYNTHETIC_VIDEO_SPEC = re.compile(r"(\d+)(?:x(\d+)x(\d+)(?:x(\d+))?)?")


def discover(
    spec: str | os.PathLike[str],
    *,
    depth_orientation: str | None = None,
    depth_resize: str = "error",
    report: DiscoveryReport | None = None,
) -> list[SourceRef]:
    """Sources from a CLI-style spec:

    photos:PATH          photo_folder(PATH), or the single photo PATH
    rgbd:PATH            rgbd_tree(PATH): images paired with depth by name (DIODE and MegaDepth trees too)
    diode:PATH           diode_tree(PATH)
    megadepth:PATH       megadepth_tree(PATH)
    manifest:FILE[@ROOT] read_manifest(FILE, ROOT); ROOT defaults to the manifest's folder
    synthetic:N[xWxH]    synthetic(N, (W, H)), e.g. synthetic:100x640x480 (default size 640x480)
    video:PATH           video_files(PATH): a video file, or every video file under a folder
    frames:PATH          frame_folders(PATH): folders of video frames (images in natural name order)
    posed:PATH           posed_sequences(PATH): posed RGB-D sequences (color/, depth/ in mm, pose/, intrinsic)
    synthetic-video:N[xWxH[xF]]  synthetic_paths(N, (W, H), F): camera paths through synthetic scenes
                         (default 320x240, 64 frames)
    bundled              bundled_photos()
    PATH                 an existing file or folder: same as photos:PATH

    `depth_orientation` ("stored" / "display" / None) and `depth_resize` ("error" / "nearest") are
    given to every discovered source with depth (for a manifest: to rows that leave those columns
    empty); see `load_source`. Inputs that folder walks skip are counted in `report`, if given.
    An `rgbd:` / `diode:` / `megadepth:` folder in which no image pairs with depth raises NoSourcesMatched
    (a ValueError; `ssrl generate` prints it as one line).
    """
    _check_depth_options(depth_orientation, depth_resize)
    depth_options = {"depth_orientation": depth_orientation, "depth_resize": depth_resize}
    spec = os.fspath(spec)
    kind, sep, arg = spec.partition(":")
    if spec == "bundled":
        return bundled_photos()
    if not sep or kind not in _SPEC_KINDS:
        if spec and Path(spec).exists():
            return _photos_spec(spec, report)
        if sep and "/" not in kind and "\\" not in kind:
            raise ValueError(f"unknown input kind {kind!r} in {spec!r}; use one of {', '.join(_SPEC_KINDS)}")
        raise FileNotFoundError(f"input {spec!r} is neither an existing path nor a KIND:ARG spec")
    if kind == "bundled":
        raise ValueError(f"'bundled' takes no argument, got {spec!r}")
    if not arg:
        raise ValueError(f"input spec {spec!r} needs an argument after '{kind}:'")
    if kind == "photos":
        return _photos_spec(arg, report)
    if kind == "rgbd":
        return rgbd_tree(arg, **depth_options, report=report)
    if kind == "diode":
        return diode_tree(arg, **depth_options, report=report)
    if kind == "megadepth":
        return megadepth_tree(arg, **depth_options, report=report)
    if kind == "manifest":
        file, root = arg, None
        if not Path(arg).is_file() and "@" in arg:  # a manifest path may itself contain '@'
            file, root = arg.rsplit("@", 1)
        return read_manifest(file, root or Path(file).parent, **depth_options)
    if kind == "video":
        return video_files(arg, report=report)
    if kind == "frames":
        return frame_folders(arg)
    if kind == "posed":
        return posed_sequences(arg)
    if kind == "synthetic-video":
        m = _SYNTHETIC_VIDEO_SPEC.fullmatch(arg)
        if m is None:
            raise ValueError(f"bad spec {spec!r}; expected synthetic-video:N, NxWxH or NxWxHxFRAMES")
        size = (int(m[2]), int(m[3])) if m[2] else (320, 240)
        frames = int(m[4]) if m[4] else 64
        if min(size) < 2:
            raise ValueError(f"bad spec {spec!r}: frames must be at least 2x2")
        return synthetic_paths(int(m[1]), size, frames)
    m = _SYNTHETIC_SPEC.fullmatch(arg)
    if m is None:
        raise ValueError(f"bad synthetic spec {spec!r}; expected synthetic:N or synthetic:NxWxH")
    n = int(m[1])
    size = (int(m[2]), int(m[3])) if m[2] else (640, 480)
    if min(size) < 2:
        raise ValueError(f"bad synthetic spec {spec!r}: the image size must be at least 2x2")
    return synthetic(n, size)


def _photos_spec(arg: str, report: DiscoveryReport | None) -> list[SourceRef]:
    p = Path(arg)
    if p.is_file():
        parent = Path(os.path.abspath(p)).parent.name or "photos"
        return [SourceRef(id=f"{parent}/{p.name}", rgb=str(p.resolve()))]
    return photo_folder(p, report=report)
