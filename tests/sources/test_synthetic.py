"""Tests of the procedural RGB-D scene generator, checked against the scene model, not the ray caster.

Geometry is verified from the exposed camera parameters (height, pitch, focal length) and object
parameters alone; a small scalar ray caster written here serves as an independent reference for
which surface is nearest along sampled rays.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl.engine.sample import Source
from spatial_ssrl.sources.synthetic import SceneObject, SyntheticScene, make_scene

SMALL = (200, 150)


@functools.lru_cache(maxsize=64)
def scene(seed: int, width: int = SMALL[0], height: int = SMALL[1], sky: bool | None = None) -> SyntheticScene:
    return make_scene(seed, width, height, sky=sky)


def world_from_camera(s: SyntheticScene) -> np.ndarray:
    p = math.radians(s.camera["pitch_deg"])
    return np.array([[1.0, 0.0, 0.0], [0.0, math.cos(p), math.sin(p)], [0.0, -math.sin(p), math.cos(p)]])


def to_world(s: SyntheticScene, pts: np.ndarray) -> np.ndarray:
    """Camera-frame points (N, 3) into the gravity-aligned frame (X right, Y down, Z forward level)."""
    return pts.astype(np.float64) @ world_from_camera(s).T


def pixels_of(s: SyntheticScene, kind: str) -> list[tuple[int, np.ndarray]]:
    return [(k, s.object_id == k) for k, o in enumerate(s.objects) if o.kind == kind]


def tol(pts: np.ndarray) -> np.ndarray:
    """Float32 storage tolerance for points of the given size."""
    return 1e-5 + 2e-6 * np.linalg.norm(pts.astype(np.float64), axis=-1)


SEEDS = [0, 1, 2, 3, 7, 11, 30]
SKY_SEEDS = [(seed, sky) for seed in (0, 5, 9) for sky in (True, False)]


# ------------------------------------------------------------------------------------------------
# Determinism, shapes, dtypes


def test_same_seed_is_byte_identical() -> None:
    a = make_scene(123, *SMALL)
    b = make_scene(123, *SMALL)
    for name in ("rgb", "depth", "points", "object_id"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a.objects == b.objects
    assert a.camera == b.camera


def test_different_seeds_differ() -> None:
    a, b = scene(1), scene(2)
    assert a.rgb.tobytes() != b.rgb.tobytes()
    assert a.depth.tobytes() != b.depth.tobytes()


def test_layout_does_not_depend_on_image_size() -> None:
    a = make_scene(4, 160, 120, sky=False)
    b = make_scene(4, 320, 240, sky=False)
    assert a.objects == b.objects
    assert a.camera["pitch_deg"] == b.camera["pitch_deg"]


@pytest.mark.parametrize("width,height", [(320, 200), (1600, 1064)])
def test_shapes_and_dtypes(width: int, height: int) -> None:
    t0 = time.perf_counter()
    s = make_scene(5, width, height)
    print(f"make_scene {width}x{height}: {time.perf_counter() - t0:.3f} s")
    assert s.rgb.shape == (height, width, 3) and s.rgb.dtype == np.uint8
    assert s.depth.shape == (height, width) and s.depth.dtype == np.float32
    assert s.points.shape == (height, width, 3) and s.points.dtype == np.float32
    assert s.object_id.shape == (height, width) and s.object_id.dtype == np.int16
    assert s.cx == (width - 1) / 2 and s.cy == (height - 1) / 2
    hfov = 2 * math.degrees(math.atan((width / 2) / s.focal_px))
    assert hfov == pytest.approx(s.camera["hfov_deg"])
    assert int(s.object_id.max()) < len(s.objects)
    assert all(isinstance(o, SceneObject) for o in s.objects)


def test_to_source() -> None:
    s = scene(0, sky=True)
    src = s.to_source("syn-0")
    assert isinstance(src, Source)
    assert src.id == "syn-0" and src.focal_px == s.focal_px
    np.testing.assert_array_equal(src.valid, np.isfinite(s.depth))
    np.testing.assert_array_equal(src.rgb, s.rgb)
    np.testing.assert_array_equal(np.isnan(src.depth), np.isnan(s.depth))


# ------------------------------------------------------------------------------------------------
# Scene parameters


@pytest.mark.parametrize("seed", SEEDS)
def test_camera_and_layout_in_range(seed: int) -> None:
    s = scene(seed)
    cam = s.camera
    assert 1.2 <= cam["height_m"] <= 1.8
    assert 50 <= cam["hfov_deg"] <= 75
    assert 0 < cam["pitch_deg"] <= 20
    if not cam["sky"]:
        assert cam["pitch_deg"] >= 5
    np.testing.assert_allclose(np.array(cam["world_from_camera"]), world_from_camera(s), atol=1e-12)
    kinds = [o.kind for o in s.objects]
    assert kinds[0] == "ground" and kinds.count("ground") == 1
    solids = [o for o in s.objects if o.kind in ("box", "sphere")]
    assert 3 <= len(solids) <= 7
    for o in solids:
        c = to_world(s, np.array([o.center]))[0]
        assert 2.0 <= c[2] <= 15.0, o
        if o.kind == "box":  # resting on the ground: bottom face in the ground plane
            assert c[1] + o.size[1] / 2 == pytest.approx(cam["height_m"], abs=1e-9)
        else:
            assert c[1] + o.size[0] == pytest.approx(cam["height_m"], abs=1e-9)
    xs = [to_world(s, np.array([o.center]))[0][0] for o in solids]
    assert min(xs) < 0 < max(xs), "objects should spread left and right"


def test_objects_do_not_overlap() -> None:
    for seed in SEEDS:
        s = scene(seed)
        foot = []
        for o in s.objects:
            c = to_world(s, np.array([o.center]))[0]
            if o.kind == "box":
                foot.append((c[0], c[2], 0.5 * math.hypot(o.size[0], o.size[2])))
            elif o.kind == "sphere":
                foot.append((c[0], c[2], o.size[0]))
        for i in range(len(foot)):
            for j in range(i):
                d = math.hypot(foot[i][0] - foot[j][0], foot[i][1] - foot[j][1])
                assert d > foot[i][2] + foot[j][2], (seed, i, j)


def test_n_objects_and_sky_override() -> None:
    s = make_scene(8, *SMALL, sky=True, n_objects=(1, 1))
    assert sum(o.kind in ("box", "sphere") for o in s.objects) == 1
    assert s.camera["sky"] and not any(o.name == "back_wall" for o in s.objects)
    s = make_scene(8, *SMALL, sky=False, n_objects=(0, 0))
    assert [o.kind for o in s.objects if o.kind in ("box", "sphere")] == []
    assert not s.camera["sky"] and any(o.name == "back_wall" for o in s.objects)


def test_sky_probability() -> None:
    n = 60
    skies = sum(make_scene(seed, 32, 24).camera["sky"] for seed in range(n))
    assert 0.1 * n <= skies <= 0.55 * n


# ------------------------------------------------------------------------------------------------
# Projection and depth


@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=15, deadline=None)
def test_points_project_back_to_their_pixel(seed: int) -> None:
    s = make_scene(seed, 160, 120)
    valid = np.isfinite(s.depth)
    assert valid.any()
    np.testing.assert_array_equal(s.depth[valid], s.points[..., 2][valid])
    assert (s.depth[valid] > 0).all()
    vs, us = np.nonzero(valid)
    pick = np.random.default_rng(seed).choice(len(vs), size=min(300, len(vs)), replace=False)
    vs, us = vs[pick], us[pick]
    p = s.points[vs, us].astype(np.float64)
    u = s.focal_px * p[:, 0] / p[:, 2] + s.cx
    v = s.focal_px * p[:, 1] / p[:, 2] + s.cy
    np.testing.assert_allclose(u, us, atol=1e-3)
    np.testing.assert_allclose(v, vs, atol=1e-3)


@pytest.mark.parametrize("seed", SEEDS)
def test_all_pixels_project_back(seed: int) -> None:
    s = scene(seed)
    valid = np.isfinite(s.depth)
    vs, us = np.nonzero(valid)
    p = s.points[valid].astype(np.float64)
    assert np.abs(s.focal_px * p[:, 0] / p[:, 2] + s.cx - us).max() < 1e-3
    assert np.abs(s.focal_px * p[:, 1] / p[:, 2] + s.cy - vs).max() < 1e-3


# ------------------------------------------------------------------------------------------------
# Surfaces lie where the model says


@pytest.mark.parametrize("seed", SEEDS)
def test_ground_points_lie_on_ground_plane(seed: int) -> None:
    s = scene(seed)
    h, pitch = s.camera["height_m"], math.radians(s.camera["pitch_deg"])
    ((_, mask),) = pixels_of(s, "ground")
    assert mask.sum() > 0.1 * mask.size
    p = s.points[mask].astype(np.float64)
    # Height below the camera along gravity, from pitch alone: Y_world = cos(p) Y + sin(p) Z.
    below = math.cos(pitch) * p[:, 1] + math.sin(pitch) * p[:, 2]
    assert (np.abs(below - h) <= tol(s.points[mask])).all()
    # Analytic ground depth for each ground pixel's row: z = h / (cos(p) y + sin(p)).
    vs, _ = np.nonzero(mask)
    y = (vs - s.cy) / s.focal_px
    np.testing.assert_allclose(s.depth[mask], h / (math.cos(pitch) * y + math.sin(pitch)), rtol=1e-6)
    # The ground is only seen below the horizon.
    horizon_v = s.cy - s.focal_px * math.tan(pitch)
    assert vs.min() > horizon_v


@pytest.mark.parametrize("seed", SEEDS)
def test_sphere_points_lie_on_sphere(seed: int) -> None:
    s = scene(seed)
    for k, mask in pixels_of(s, "sphere"):
        if not mask.any():
            continue
        o = s.objects[k]
        r = np.linalg.norm(s.points[mask].astype(np.float64) - np.array(o.center), axis=1)
        assert (np.abs(r - o.size[0]) <= tol(s.points[mask])).all(), o.name


@pytest.mark.parametrize("seed", SEEDS)
def test_box_points_lie_on_a_face(seed: int) -> None:
    s = scene(seed)
    checked = 0
    for k, mask in pixels_of(s, "box"):
        if not mask.any():
            continue
        o = s.objects[k]
        half = np.array(o.size) / 2
        rel = np.abs(to_world(s, s.points[mask]) - to_world(s, np.array([o.center]))[0]) - half
        t = tol(s.points[mask])[:, None]
        assert (rel <= t).all(), o.name  # inside or on the box
        assert (np.abs(rel).min(axis=1) <= t[:, 0]).all(), o.name  # on one face
        checked += 1
    assert checked or not any(o.kind == "box" for o in s.objects)


@pytest.mark.parametrize("seed", SEEDS)
def test_wall_points_lie_on_their_plane(seed: int) -> None:
    s = scene(seed)
    for k, mask in pixels_of(s, "wall"):
        if not mask.any():
            continue
        o = s.objects[k]
        pw = to_world(s, s.points[mask])
        cw = to_world(s, np.array([o.center]))[0]
        axis = 2 if o.name == "back_wall" else 0
        assert (np.abs(pw[:, axis] - cw[axis]) <= tol(s.points[mask])).all(), o.name


def _reference_depth(s: SyntheticScene, u: int, v: int) -> tuple[float, int]:
    """Nearest hit along one pixel's ray, computed from the object list with scalar code."""
    rot = world_from_camera(s)
    d = rot @ np.array([(u - s.cx) / s.focal_px, (v - s.cy) / s.focal_px, 1.0])  # world dir, t = z-depth
    h = s.camera["height_m"]
    best, best_k = math.inf, -1
    for k, o in enumerate(s.objects):
        c = rot @ np.array(o.center)
        t = math.inf
        if o.kind == "ground":
            t = h / d[1] if d[1] > 0 else math.inf
        elif o.kind == "wall" and o.name == "back_wall":
            t = c[2] / d[2] if d[2] > 0 else math.inf
        elif o.kind == "wall":
            if d[0] * c[0] > 0:
                t = c[0] / d[0]
                p = t * d
                top = h - o.size[1]
                if not (p[1] >= top and c[2] - o.size[2] / 2 <= p[2] <= c[2] + o.size[2] / 2):
                    t = math.inf
        elif o.kind == "sphere":
            a, b, cc = d @ d, d @ c, c @ c - o.size[0] ** 2
            disc = b * b - a * cc
            if disc >= 0:
                t = (b - math.sqrt(disc)) / a
        elif o.kind == "box":
            lo, hi = c - np.array(o.size) / 2, c + np.array(o.size) / 2
            t0, t1 = -math.inf, math.inf
            for i in range(3):
                if d[i] == 0:
                    if not lo[i] <= 0 <= hi[i]:
                        t0 = math.inf
                    continue
                a_, b_ = sorted((lo[i] / d[i], hi[i] / d[i]))
                t0, t1 = max(t0, a_), min(t1, b_)
            t = t0 if t0 <= t1 else math.inf
        if 0 < t < best:
            best, best_k = t, k
    return best, best_k


@pytest.mark.parametrize("seed,sky", SKY_SEEDS)
def test_depth_matches_scalar_reference(seed: int, sky: bool) -> None:
    s = scene(seed, sky=sky)
    rng = np.random.default_rng(seed)
    pix = [(int(rng.integers(s.width)), int(rng.integers(s.height))) for _ in range(150)]
    # Also sample each object's own pixels so small objects are covered.
    for k in range(len(s.objects)):
        vs, us = np.nonzero(s.object_id == k)
        for i in rng.choice(len(vs), size=min(10, len(vs)), replace=False) if len(vs) else []:
            pix.append((int(us[i]), int(vs[i])))
    for u, v in pix:
        t, k = _reference_depth(s, u, v)
        if k < 0:
            assert s.object_id[v, u] == -1 and np.isnan(s.depth[v, u]), (u, v)
            continue
        assert s.object_id[v, u] == k, (u, v, s.objects[k].name, int(s.object_id[v, u]))
        assert s.depth[v, u] == pytest.approx(t, rel=1e-6), (u, v)


# ------------------------------------------------------------------------------------------------
# Sky


@pytest.mark.parametrize("seed", [0, 3, 5, 9, 21])
def test_sky_scene_nan_exactly_on_sky(seed: int) -> None:
    s = scene(seed, sky=True)
    sky = s.object_id == -1
    assert sky.any()
    np.testing.assert_array_equal(np.isnan(s.depth), sky)
    assert np.isnan(s.points[sky]).all()
    assert np.isfinite(s.points[~sky]).all()
    # The sky is above the horizon.
    pitch = math.radians(s.camera["pitch_deg"])
    assert np.nonzero(sky)[0].max() < s.cy - s.focal_px * math.tan(pitch)


@pytest.mark.parametrize("seed", [0, 3, 5, 9, 21])
def test_wall_scene_has_no_nan(seed: int) -> None:
    s = scene(seed, sky=False)
    assert np.isfinite(s.depth).all() and np.isfinite(s.points).all()
    assert (s.object_id >= 0).all()


# ------------------------------------------------------------------------------------------------
# Appearance


def _tile_std(grey: np.ndarray, size: int = 64) -> np.ndarray:
    h, w = (grey.shape[0] // size) * size, (grey.shape[1] // size) * size
    return grey[:h, :w].reshape(h // size, size, w // size, size).std(axis=(1, 3))


@pytest.mark.parametrize("seed", range(8))
def test_every_quarter_is_textured(seed: int) -> None:
    s = scene(seed, 640, 480)
    grey = s.rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    H, W = grey.shape
    for i in range(2):
        for j in range(2):
            quarter = grey[i * H // 2 : (i + 1) * H // 2, j * W // 2 : (j + 1) * W // 2]
            tiles = _tile_std(quarter)
            assert np.median(tiles) > 5, (seed, i, j, tiles.round(1))
            assert tiles.min() > 2, (seed, i, j, tiles.round(1))
            assert quarter.std() > 5


def test_texture_is_not_mirror_symmetric() -> None:
    s = scene(3, 640, 480)
    # 4x4 block means remove the per-pixel sensor noise, so only surface texture is compared.
    grey = s.rgb.astype(np.float64).mean(axis=2).reshape(120, 4, 160, 4).mean(axis=(1, 3))
    for v in range(0, 120 - 16, 16):
        for u in range(0, 160 - 16, 16):
            tile = grey[v : v + 16, u : u + 16]
            assert np.abs(tile - tile[:, ::-1]).mean() > 1.0, (v, u)
            assert np.abs(tile - tile[::-1, :]).mean() > 1.0, (v, u)


def test_shading_makes_faces_differ() -> None:
    """Boxes show at least two faces with different mean brightness somewhere in a few scenes."""
    found = False
    for seed in SEEDS:
        s = scene(seed, 320, 240)
        grey = s.rgb.astype(np.float64).mean(axis=2)
        for k, mask in pixels_of(s, "box"):
            if mask.sum() < 200:
                continue
            o = s.objects[k]
            rel = to_world(s, s.points[mask]) - to_world(s, np.array([o.center]))[0]
            rel /= np.array(o.size) / 2
            axis = np.argmax(np.abs(rel), axis=1)
            face = axis * 2 + (rel[np.arange(len(rel)), axis] > 0)
            means = [grey[mask][face == f].mean() for f in np.unique(face) if (face == f).sum() > 50]
            if len(means) >= 2 and max(means) - min(means) > 10:
                found = True
    assert found
