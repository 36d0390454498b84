"""Where sources come from: picklable references that load lazily.

A `SourceRef` names one source (a photo, a photo + depth map, or a synthetic scene) without
holding its pixels, so millions of them can be listed, hashed into splits, and sent to worker
processes or Ray tasks; `ref.load()` reads it when a worker needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spatial_ssrl.sample import Source

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class SourceRef:
    """One source, by reference. Exactly one of `rgb` (a file) or `synthetic_seed` is set."""

    id: str
    rgb: str | None = None
    depth: str | None = None
    mask: str | None = None
    depth_scale: float | None = None
    depth_key: str | None = None
    focal_px: float | None = None
    synthetic_seed: int | None = None
    size: tuple[int, int] | None = None  # (width, height) of a synthetic scene

    @property
    def has_depth(self) -> bool:
        return self.depth is not None or self.synthetic_seed is not None

    def load(self, max_side: int | None = None, max_pixels: int | None = None) -> Source:
        """Read the source (raises a SourceError subclass for unreadable input)."""
        if self.synthetic_seed is not None:
            from spatial_ssrl.synthetic import make_scene

            w, h = self.size or (640, 480)
            return make_scene(self.synthetic_seed, w, h).to_source(self.id)
        from spatial_ssrl.io import load_source

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
            **kwargs,
        )


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
    """RGB photos from files or folders (searched recursively), sorted for a stable order."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"input {p} does not exist")
    return [SourceRef(id=str(f), rgb=str(f)) for f in sorted(set(files))]
