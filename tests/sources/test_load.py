"""Tests of spatial_ssrl.sources.load: the depth orientation policy for EXIF photos, and focal plausibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from spatial_ssrl.sources import AmbiguousOrientation, ImplausibleFocal, SizeMismatch, SourceError, load_source
from spatial_ssrl.sources.images import apply_orientation
from spatial_ssrl.sources.intrinsics import MAX_HFOV_DEG, MIN_HFOV_DEG, focal_px_range, hfov_deg

EXIF_ORIENTATION = 0x0112


def _marked(h: int, w: int) -> np.ndarray:
    """h x w grey image with an off-centre, asymmetric red marker (so every flip / rotation moves it)."""
    rgb = np.full((h, w, 3), 100, dtype=np.uint8)
    rgb[1:3, 2:5] = (255, 0, 0)
    rgb[1, 5] = (255, 0, 0)
    return rgb


def _photo(tmp_path, stored: np.ndarray, orientation: int) -> str:
    """PNG (lossless, so the marker stays exact) of the stored pixel grid, with an EXIF orientation tag."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    path = tmp_path / f"rgb{orientation}.png"
    Image.fromarray(stored).save(path, exif=exif)
    return str(path)


def _red(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] == 255) & (rgb[..., 1] == 0)


def _depth_of(rgb: np.ndarray) -> np.ndarray:
    """Depth 'measured' on an image: 5 m on the marker, 1 m elsewhere (the grid it was made on is kept)."""
    return np.where(_red(rgb), 5.0, 1.0).astype(np.float32)


def _save_depth(tmp_path, depth: np.ndarray, name: str = "d.npy") -> str:
    np.save(tmp_path / name, depth)
    return str(tmp_path / name)


# ---------------------------------------------------------------- depth_orientation


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize("policy", ["stored", "display"])
def test_stated_policy_aligns_depth_with_displayed_rgb(tmp_path, orientation, policy):
    stored = _marked(6, 10)
    rgb_path = _photo(tmp_path, stored, orientation)
    displayed = apply_orientation(stored, orientation)
    made_on = stored if policy == "stored" else displayed
    depth_path = _save_depth(tmp_path, _depth_of(made_on))
    src = load_source(rgb_path, depth_path, depth_orientation=policy)
    np.testing.assert_array_equal(src.rgb, displayed)
    np.testing.assert_array_equal(src.depth == 5.0, _red(src.rgb))  # the marker has the marker's depth


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_unstated_policy_is_inferred_when_only_one_grid_fits(tmp_path, orientation):
    # A 90-degree orientation swaps width and height: a non-square depth map fits one grid only.
    stored = _marked(6, 10)
    rgb_path = _photo(tmp_path, stored, orientation)
    for made_on in (stored, apply_orientation(stored, orientation)):
        src = load_source(rgb_path, _save_depth(tmp_path, _depth_of(made_on)))
        np.testing.assert_array_equal(src.depth == 5.0, _red(src.rgb))


@pytest.mark.parametrize(
    "shape,orientation",
    [((6, 10), 2), ((6, 10), 3), ((6, 10), 4), *(((8, 8), k) for k in range(2, 9))],
)
def test_ambiguous_orientation_refused_unless_stated(tmp_path, shape, orientation):
    # Orientations 2-4 keep the size, and a square photo fits both grids whatever the orientation.
    stored = _marked(*shape)
    rgb_path = _photo(tmp_path, stored, orientation)
    depth_path = _save_depth(tmp_path, _depth_of(stored))
    with pytest.raises(AmbiguousOrientation) as info:
        load_source(rgb_path, depth_path, source_id="s")
    message = str(info.value)
    assert isinstance(info.value, SourceError) and "\n" not in message
    assert f"EXIF orientation {orientation}" in message and "both" in message
    assert "depth_orientation='stored' or 'display'" in message and "--depth-orientation" in message
    assert load_source(rgb_path, depth_path, depth_orientation="stored").has_depth
    # The same photo without a rotation or mirror needs no statement: both grids are one.
    assert load_source(_photo(tmp_path, stored, 1), depth_path).has_depth


def test_ambiguity_also_counts_resizable_depth(tmp_path):
    # With depth_resize='nearest', a half-size square depth map fits both grids of a square photo.
    stored = _marked(8, 8)
    rgb_path = _photo(tmp_path, stored, 6)
    depth_path = _save_depth(tmp_path, np.ones((4, 4), np.float32))
    with pytest.raises(SizeMismatch):  # without resizing it fits neither grid: a size problem, not ambiguity
        load_source(rgb_path, depth_path)
    with pytest.raises(AmbiguousOrientation):
        load_source(rgb_path, depth_path, depth_resize="nearest")
    assert load_source(rgb_path, depth_path, depth_resize="nearest", depth_orientation="stored").depth.shape == (8, 8)


def test_bad_orientation_policy_value(tmp_path):
    stored = _marked(6, 10)
    with pytest.raises(ValueError, match="depth_orientation"):
        load_source(_photo(tmp_path, stored, 1), _save_depth(tmp_path, _depth_of(stored)), depth_orientation="raw")


def test_size_mismatch_says_how_to_resize_from_cli_and_manifest(tmp_path):
    Image.new("RGB", (6, 4)).save(tmp_path / "a.png")
    with pytest.raises(SizeMismatch) as info:
        load_source(tmp_path / "a.png", _save_depth(tmp_path, np.ones((2, 3), np.float32)))
    assert "manifest column depth_resize" in str(info.value) and "--depth-resize nearest" in str(info.value)


# ---------------------------------------------------------------- focal_px plausibility


@pytest.mark.parametrize(
    "focal,fov",
    [(1e-300, "180"), (1e300, "5.73e-297"), (1.0, "178"), (2000.0, "2.86")],
)
def test_implausible_focal_refused_with_the_implied_field_of_view(tmp_path, focal, fov):
    Image.new("RGB", (100, 60)).save(tmp_path / "a.png")
    with pytest.raises(ImplausibleFocal) as info:
        load_source(tmp_path / "a.png", focal_px=focal, source_id="s")
    message = str(info.value)
    assert isinstance(info.value, SourceError) and "\n" not in message
    assert f"focal_px={focal!r}" in message and f"{fov} degrees over 100 px" in message
    assert f"allowed {MIN_HFOV_DEG:g}-{MAX_HFOV_DEG:g} degrees" in message


def test_focal_range_edges(tmp_path):
    Image.new("RGB", (100, 60)).save(tmp_path / "a.png")
    lo, hi = focal_px_range(100)
    assert hfov_deg(lo, 100) == pytest.approx(MAX_HFOV_DEG) and hfov_deg(hi, 100) == pytest.approx(MIN_HFOV_DEG)
    for ok in (lo * 1.0001, hi * 0.9999, 80.0):
        assert load_source(tmp_path / "a.png", focal_px=ok).focal_px == ok
    for bad in (lo * 0.999, hi * 1.001):
        with pytest.raises(ImplausibleFocal, match="implies a horizontal field of view"):
            load_source(tmp_path / "a.png", focal_px=bad)
    for bad in (math.nan, math.inf, -5.0, 0.0):
        with pytest.raises(ImplausibleFocal, match="positive finite"):
            load_source(tmp_path / "a.png", focal_px=bad)


def test_focal_checked_against_the_displayed_width(tmp_path):
    # 100 x 20 stored, rotated 90 degrees by EXIF: the displayed width is 20 px. A focal of 3 px gives
    # 147 degrees over 20 px (allowed) but 173 degrees over 100 px (refused).
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    Image.new("RGB", (100, 20)).save(tmp_path / "rotated.png", exif=exif)
    Image.new("RGB", (100, 20)).save(tmp_path / "upright.png")
    assert load_source(tmp_path / "rotated.png", focal_px=3.0).focal_px == 3.0
    with pytest.raises(ImplausibleFocal, match="173 degrees over 100 px"):
        load_source(tmp_path / "upright.png", focal_px=3.0)
