"""Procedural RGB-D scenes: the ground-truth oracle for depth and 3-D position questions.

Frames and conventions
----------------------
Camera frame (all public geometry: `SyntheticScene.points`, `SceneObject.center`):
    origin at the optical centre, X right, Y down, Z forward along the optical axis, metres.
    Pinhole projection with square pixels: u = f * X / Z + cx, v = f * Y / Z + cy, where
    f = `focal_px` and (cx, cy) = ((W - 1) / 2, (H - 1) / 2). Pixel (u, v) is the centre of column u,
    row v, so the ray of pixel (u, v) passes exactly through (u, v); no anti-aliasing.
    `depth` is the z-depth (camera Z of the surface point), not the distance along the ray, so
    depth == points[..., 2] exactly (both float32 from the same float64 value).

Level ("world") frame, used to build the scene and exposed through `SyntheticScene.camera`:
    same origin as the camera, X right, Y down along gravity, Z forward and horizontal. The camera
    is pitched down by `pitch_deg` about X: p_world = R @ p_cam with
        R = [[1, 0, 0], [0, cos p, sin p], [0, -sin p, cos p]]   (`camera["world_from_camera"]`).
    The ground is the plane Y_world = `height_m`; boxes are axis-aligned in this frame and rest on
    the ground (their bottom face lies in it), spheres touch it at one point.

Everything is drawn from `np.random.default_rng(seed)` in a fixed order, scene layout first, so the
same seed and size give byte-identical arrays, and the layout does not depend on the image size
(except for the pitch of sky scenes, limited so that the horizon is inside the image).
"""

from __future__ import annotations

import colorsys
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spatial_ssrl.engine.sample import Source

__all__ = ["SceneObject", "SyntheticScene", "camera_path", "camera_pose", "make_scene", "render_view"]

SKY_PROBABILITY = 0.3  # share of random scenes that show open sky instead of a back wall


@dataclass
class SceneObject:
    """One surface of the scene.

    kind:   "ground", "wall", "box" or "sphere".
    center: camera coordinates (metres) of the object's centre; for the ground the point straight
            below the camera; for a back wall its foot straight ahead; for a side wall the centre of
            its rectangle (its height is infinite in scenes without sky).
    size:   box: full extents along the level-frame axes (X, Y, Z); sphere: (radius,);
            side wall: (0, height, length); ground and back wall: () (unbounded planes).
    color:  base albedo as 0-255 RGB (the rendered surface is textured around it).
    """

    kind: str
    name: str
    center: tuple[float, float, float]
    size: tuple[float, ...]
    color: tuple[int, int, int]


@dataclass
class SyntheticScene:
    """A rendered scene with exact per-pixel geometry (see the module docstring for the frames)."""

    rgb: np.ndarray
    depth: np.ndarray
    points: np.ndarray
    object_id: np.ndarray
    objects: list[SceneObject]
    focal_px: float
    cx: float
    cy: float
    camera: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.rgb.shape[1])

    def to_source(self, source_id: str) -> Source:
        """The scene as a task-engine input (metric depth, known focal length)."""
        return Source(
            id=source_id,
            rgb=self.rgb,
            depth=self.depth,
            valid=np.isfinite(self.depth),
            focal_px=float(self.focal_px),
        )


# ----------------------------------------------------------------------------------------------
# Procedural noise (integer hash lattice, value noise, fractal sums): vectorised and deterministic.

_HASH_MUL = (np.uint32(0x8DA6B343), np.uint32(0xD8163841), np.uint32(0xCB1AB31F))


def _hash01(seed: int, *ints: np.ndarray) -> np.ndarray:
    """A float32 in [0, 1) per lattice point, from integer coordinates (any shape, broadcast)."""
    h = np.uint32(seed & 0xFFFFFFFF)
    for i, mul in zip(ints, _HASH_MUL[: len(ints)], strict=True):
        h = h + np.asarray(i).astype(np.uint32) * mul
    h = np.asarray(h, dtype=np.uint32)
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x7FEB352D)
    h = h ^ (h >> np.uint32(15))
    h = h * np.uint32(0x846CA68B)
    h = h ^ (h >> np.uint32(16))
    return (h >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


def _value_noise(seed: int, coords: list[np.ndarray]) -> np.ndarray:
    """Smooth value noise in [-1, 1] on the unit lattice (2-D or 3-D coordinates)."""
    base = [np.floor(c) for c in coords]
    idx = [b.astype(np.int64) for b in base]
    w = [(c - b).astype(np.float32) for c, b in zip(coords, base, strict=True)]
    w = [t * t * (np.float32(3.0) - np.float32(2.0) * t) for t in w]
    total = np.zeros(coords[0].shape, dtype=np.float32)
    for corner in itertools.product((0, 1), repeat=len(coords)):
        weight = None
        for t, o in zip(w, corner, strict=True):
            f = t if o else np.float32(1.0) - t
            weight = f if weight is None else weight * f
        total += weight * _hash01(seed, *[i + o for i, o in zip(idx, corner, strict=True)])
    return total * np.float32(2.0) - np.float32(1.0)


def _fbm(
    seed: int,
    coords: list[np.ndarray],
    scale: float,
    octaves: int,
    footprint: np.ndarray | None = None,
    gain: float = 0.55,
) -> np.ndarray:
    """Fractal value noise, roughly in [-1, 1]; octaves finer than ~2 pixels fade out."""
    total = np.zeros(coords[0].shape, dtype=np.float32)
    norm = 0.0
    for o in range(octaves):
        sc = scale / (2.0**o)
        amp = gain**o
        norm += amp
        n = _value_noise(seed + 1013 * o, [c / sc for c in coords])
        if footprint is not None:
            n *= np.clip((sc / footprint - 1.5) / 1.5, 0.0, 1.0).astype(np.float32)
        total += np.float32(amp) * n
    return total / np.float32(norm)


def _fade(feature_m: float, footprint: np.ndarray) -> np.ndarray:
    """1 where a pattern of period `feature_m` spans >= 4 pixels, 0 below 2 pixels."""
    return np.clip((feature_m / footprint - 2.0) / 2.0, 0.0, 1.0).astype(np.float32)[:, None]


# ----------------------------------------------------------------------------------------------
# Scene description in the level frame.


@dataclass
class _Body:
    kind: str  # ground | back_wall | side_wall | box | sphere
    name: str
    center: np.ndarray  # level frame
    size: tuple[float, ...]
    albedo: np.ndarray  # (3,) float32 in 0..1
    tex: dict[str, Any]


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _rng_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _unit_axis(rng: np.random.Generator) -> np.ndarray:
    """A random direction with every component >= 0.3 in size, so stripes show on every box face."""
    a = rng.uniform(0.3, 1.0, 3) * rng.choice([-1.0, 1.0], 3)
    return a / np.linalg.norm(a)


def _draw_layout(
    rng: np.random.Generator, width: int, height: int, sky: bool | None, n_objects: tuple[int, int]
) -> tuple[dict[str, Any], list[_Body], dict[str, Any]]:
    hfov = float(rng.uniform(50.0, 75.0))
    cam_h = float(rng.uniform(1.2, 1.8))
    pitch_u = float(rng.random())
    is_sky = bool(rng.random() < SKY_PROBABILITY) if sky is None else bool(sky)
    focal = (width / 2.0) / math.tan(math.radians(hfov) / 2.0)
    cy = (height - 1) / 2.0
    hi = 20.0
    if is_sky:  # keep the horizon at least 20% of the height below the top edge
        hi = min(hi, math.degrees(math.atan(max(cy - 0.2 * height, 0.0) / focal)))
    lo = min(5.0, hi)
    pitch = lo + pitch_u * (hi - lo)

    light = np.array([rng.uniform(-0.9, 0.9), -1.0, rng.uniform(-0.9, 0.2)])
    light /= np.linalg.norm(light)
    ambient = float(rng.uniform(0.35, 0.5))
    sky_tex = {
        "horizon": _hsv(rng.uniform(0.52, 0.62), rng.uniform(0.05, 0.25), rng.uniform(0.85, 0.97)),
        "zenith": _hsv(rng.uniform(0.55, 0.65), rng.uniform(0.35, 0.7), rng.uniform(0.6, 0.85)),
        "cover": float(rng.uniform(-0.3, 0.2)),
        "seed": _rng_seed(rng),
    }
    camera = {"height_m": cam_h, "pitch_deg": pitch, "hfov_deg": hfov, "sky": is_sky}

    bodies: list[_Body] = []
    g_hue = rng.uniform(0, 1)
    g_a = _hsv(g_hue, rng.uniform(0.1, 0.45), rng.uniform(0.5, 0.8))
    g_b = g_a * np.float32(rng.uniform(0.55, 0.8))
    g_b = (0.7 * g_b + 0.3 * _hsv(g_hue + rng.uniform(-0.15, 0.15), 0.3, float(g_b.max()))).astype(np.float32)
    ground_tex = {
        "pattern": ["checker", "tiles", "planks"][int(rng.integers(0, 3))],
        "tile": float(rng.uniform(0.5, 1.4)),
        "plank_w": float(rng.uniform(0.15, 0.35)),
        "plank_l": float(rng.uniform(1.0, 3.0)),
        "second": g_b,
        "seed": _rng_seed(rng),
    }
    bodies.append(_Body("ground", "ground", np.array([0.0, cam_h, 0.0]), (), g_a, ground_tex))

    def wall_tex() -> dict[str, Any]:
        bh = float(rng.uniform(0.18, 0.35))
        return {
            "pattern": ["bricks", "bricks", "panels"][int(rng.integers(0, 3))],
            "brick_h": bh,
            "brick_w": bh * float(rng.uniform(2.0, 3.0)),
            "panel_w": float(rng.uniform(0.4, 1.2)),
            "mortar": _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.15), rng.uniform(0.7, 0.9)),
            "seed": _rng_seed(rng),
        }

    wall_dist = float(rng.uniform(8.0, 20.0))
    back_albedo = _hsv(rng.uniform(0, 1), rng.uniform(0.2, 0.6), rng.uniform(0.45, 0.85))
    back_tex = wall_tex()
    if not is_sky:
        bodies.append(_Body("back_wall", "back_wall", np.array([0.0, cam_h, wall_dist]), (), back_albedo, back_tex))
    has_side = bool(rng.random() < 0.35)
    side_x = float(rng.uniform(3.5, 7.0))
    side_mask = int(rng.integers(1, 4))  # bit 0: left, bit 1: right
    side_h = float(rng.uniform(2.0, 4.0)) if is_sky else math.inf
    side_z1 = float(rng.uniform(10.0, 25.0)) if is_sky else wall_dist
    side_albedo = _hsv(rng.uniform(0, 1), rng.uniform(0.2, 0.6), rng.uniform(0.45, 0.85))
    side_tex = wall_tex()
    walls_x: list[float] = []
    if has_side:
        for bit, sign, name in ((1, -1.0, "left_wall"), (2, 1.0, "right_wall")):
            if side_mask & bit:
                walls_x.append(sign * side_x)
                yc = cam_h - side_h / 2.0 if math.isfinite(side_h) else cam_h
                bodies.append(
                    _Body(
                        "side_wall",
                        name,
                        np.array([sign * side_x, yc, side_z1 / 2.0]),
                        (0.0, side_h, side_z1),
                        side_albedo,
                        side_tex,
                    )
                )
    x_lo = -side_x + 0.3 if -side_x in walls_x else -math.inf
    x_hi = side_x - 0.3 if side_x in walls_x else math.inf
    z_max = 15.0 if is_sky else min(15.0, wall_dist - 0.5)

    n_lo, n_hi = n_objects
    n = int(rng.integers(n_lo, n_hi + 1)) if n_hi >= n_lo else 0
    half = math.radians(hfov / 2.0) * 0.85
    edges = np.linspace(-half, half, n + 1)
    order = rng.permutation(n)
    placed: list[tuple[float, float, float]] = []  # (x, z, footprint radius)
    for i in range(n):
        is_sphere = bool(rng.random() < 0.4)
        if is_sphere:
            size0 = np.array([rng.uniform(0.25, 0.9)])
        else:
            size0 = np.array([rng.uniform(0.4, 2.0), rng.uniform(0.3, 2.2), rng.uniform(0.4, 2.0)])
        hue = float(rng.uniform(0, 1))
        albedo = _hsv(hue, rng.uniform(0.35, 0.85), rng.uniform(0.6, 0.95))
        second = _hsv(hue + rng.uniform(0.08, 0.5), rng.uniform(0.3, 0.8), rng.uniform(0.2, 0.45))
        if _luma(albedo) < 0.4:  # dark base colour: light stripes keep the texture visible in grey
            second = (1.0 - 0.3 * (1.0 - second)).astype(np.float32)
        tex = {
            "axis": _unit_axis(rng),
            "period": float(rng.uniform(0.12, 0.4)),
            "phase": float(rng.uniform(0, 2 * math.pi)),
            "second": second,
            "seed": _rng_seed(rng),
        }
        for attempt in range(60):
            # First try the object's own angular sector, then anywhere in view.
            ang = rng.uniform(edges[order[i]], edges[order[i] + 1]) if attempt < 30 else rng.uniform(-half, half)
            dist = float(rng.uniform(2.0, 15.0))
            shrink = min(1.0, (0.3 * dist + 0.3) / float(size0.max() * (2.0 if is_sphere else 1.0)))
            size = size0 * shrink
            foot = float(size[0]) if is_sphere else 0.5 * math.hypot(size[0], size[2])
            x = dist * math.tan(ang)
            x = min(max(x, x_lo + foot), x_hi - foot)
            if dist - foot < 1.5 or dist + foot > z_max:
                continue
            if all(math.hypot(x - px, dist - pz) > foot + pr + 0.2 for px, pz, pr in placed):
                break
        else:
            continue
        placed.append((x, dist, foot))
        if is_sphere:
            r = float(size[0])
            center = np.array([x, cam_h - r, dist])
            bodies.append(_Body("sphere", f"sphere{i}", center, (r,), albedo, tex))
        else:
            sx, sy, sz = (float(s) for s in size)
            center = np.array([x, cam_h - sy / 2.0, dist])
            bodies.append(_Body("box", f"box{i}", center, (sx, sy, sz), albedo, tex))
    shading = {"light": light, "ambient": ambient, "sky": sky_tex}
    return camera, bodies, shading


# ----------------------------------------------------------------------------------------------
# Ray casting. Ray of pixel (u, v): camera direction d = (x_u, y_v, 1) with x_u = (u - cx) / f,
# y_v = (v - cy) / f, so the ray parameter t of a hit IS its z-depth. Level-frame direction D = R d
# for the camera's rotation R (world_from_camera); a still scene's camera is only pitched, R = Rx(pitch):
# D = (x_u, c y_v + s, -s y_v + c) with c, s = cos, sin(pitch). A camera path (`render_view`) also
# turns (yaw) and moves: the ray then starts at the camera's position `origin` instead of 0.


def _bbox(
    corners_w: np.ndarray,
    rot: np.ndarray,
    f: float,
    cx: float,
    cy: float,
    width: int,
    height: int,
    origin: np.ndarray | None = None,
) -> tuple[int, int, int, int]:
    """Pixel rectangle [v0, v1) x [u0, u1) that contains the projection of a convex set."""
    rel = corners_w if origin is None else corners_w - origin
    pc = rel @ rot  # level -> camera: p_cam = R^T p_world, i.e. row vector p @ R
    if np.any(pc[:, 2] <= 1e-6):
        return 0, height, 0, width
    u = f * pc[:, 0] / pc[:, 2] + cx
    v = f * pc[:, 1] / pc[:, 2] + cy
    u0 = max(0, int(math.floor(u.min())) - 1)
    u1 = min(width, int(math.ceil(u.max())) + 2)
    v0 = max(0, int(math.floor(v.min())) - 1)
    v1 = min(height, int(math.ceil(v.max())) + 2)
    return v0, v1, u0, u1


def _ray_directions(rot: np.ndarray, f: float, cx: float, cy: float, width: int, height: int) -> np.ndarray:
    """(H, W, 3) level-frame directions D = R (x_u, y_v, 1) of every pixel's ray."""
    x = (np.arange(width, dtype=np.float64) - cx) / f
    y = (np.arange(height, dtype=np.float64) - cy) / f
    rays = np.empty((height, width, 3))
    for k in range(3):  # the same operations, in the same order, as the pitch-only formula above
        rays[..., k] = rot[k, 0] * x[None, :] + rot[k, 1] * y[:, None] + rot[k, 2]
    return rays


def _cast(
    bodies: list[_Body],
    rot: np.ndarray,
    f: float,
    cx: float,
    cy: float,
    width: int,
    height: int,
    origin: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray parameter (= z-depth, NaN on sky), object index (-1 on sky) and ray directions of every pixel."""
    o = np.zeros(3) if origin is None else np.asarray(origin, dtype=np.float64)
    rays = _ray_directions(rot, f, cx, cy, width, height)
    dx, dy, dz = rays[..., 0], rays[..., 1], rays[..., 2]
    ground_y = float(bodies[0].center[1])
    t = np.full((height, width), np.inf)
    oid = np.full((height, width), -1, dtype=np.int16)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, b in enumerate(bodies):
            if b.kind == "ground":
                tk = np.where(dy > 0, (b.center[1] - o[1]) / dy, np.inf)
            elif b.kind == "back_wall":
                tk = np.where(dz > 0, (b.center[2] - o[2]) / dz, np.inf)
            elif b.kind == "side_wall":
                wx = float(b.center[0]) - o[0]
                tk = wx / dx
                yw = o[1] + tk * dy
                zw = o[2] + tk * dz
                top = ground_y - b.size[1]  # -inf for walls of unbounded height
                tk = np.where((dx * wx > 0) & (yw >= top) & (zw >= 0.0) & (zw <= b.size[2]), tk, np.inf)
            else:
                continue
            better = tk < t
            t[better] = tk[better]
            oid[better] = k

        for k, b in enumerate(bodies):
            if b.kind not in ("box", "sphere"):
                continue
            half = np.full(3, b.size[0]) if b.kind == "sphere" else np.array(b.size) / 2.0
            corners = b.center + np.array(list(itertools.product((-1, 1), repeat=3))) * half
            v0, v1, u0, u1 = _bbox(corners, rot, f, cx, cy, width, height, origin)
            if v0 >= v1 or u0 >= u1:
                continue
            sx, sy, sz = dx[v0:v1, u0:u1], dy[v0:v1, u0:u1], dz[v0:v1, u0:u1]
            center = b.center - o
            if b.kind == "sphere":
                cxw, cyw, czw = center
                a = sx * sx + sy * sy + sz * sz
                bh = sx * cxw + sy * cyw + sz * czw
                cc = float(center @ center) - b.size[0] ** 2
                disc = bh * bh - a * cc
                tk = (bh - np.sqrt(np.maximum(disc, 0.0))) / a
                hit = (disc >= 0) & (tk > 0)
            else:
                lo = center - half
                hi = center + half
                tnear = np.full((v1 - v0, u1 - u0), -np.inf)
                tfar = np.full((v1 - v0, u1 - u0), np.inf)
                for d, l_, h_ in ((sx, lo[0], hi[0]), (sy, lo[1], hi[1]), (sz, lo[2], hi[2])):
                    inv = 1.0 / d
                    t0 = l_ * inv
                    t1 = h_ * inv
                    tnear = np.maximum(tnear, np.minimum(t0, t1))
                    tfar = np.minimum(tfar, np.maximum(t0, t1))
                tk = tnear
                hit = (tnear <= tfar) & (tnear > 0)
            sub_t = t[v0:v1, u0:u1]
            better = hit & (tk < sub_t)
            sub_t[better] = tk[better]
            oid[v0:v1, u0:u1][better] = k
    t[oid < 0] = np.nan
    return t, oid, rays


# ----------------------------------------------------------------------------------------------
# Surface appearance.


def _ground_albedo(b: _Body, p: np.ndarray, foot: np.ndarray) -> np.ndarray:
    tex = b.tex
    seed = tex["seed"]
    gx, gz = p[:, 0], p[:, 2]
    a, second = b.albedo[None, :], tex["second"][None, :]
    if tex["pattern"] == "planks":
        pw, pl = tex["plank_w"], tex["plank_l"]
        col_i = np.floor(gx / pw)
        off = _hash01(seed + 7, col_i.astype(np.int64)) * pl
        row_i = np.floor((gz + off) / pl)
        jit = _hash01(seed + 11, col_i.astype(np.int64), row_i.astype(np.int64))
        base = a * (0.8 + 0.4 * jit)[:, None]
        fx = gx / pw - col_i
        fz = (gz + off) / pl - row_i
        seam = (np.minimum(fx, 1 - fx) * pw < 0.012) | (np.minimum(fz, 1 - fz) * pl < 0.012)
        base = np.where(seam[:, None], second * 0.7, base)
        grain = _value_noise(seed + 13, [gx / pw * 4.0, gz * 1.5])
        base = base * (1.0 + 0.12 * grain)[:, None]
        k = _fade(pw, foot)
    else:
        ts = tex["tile"]
        ix = np.floor(gx / ts)
        iz = np.floor(gz / ts)
        jit = _hash01(seed + 11, ix.astype(np.int64), iz.astype(np.int64))
        if tex["pattern"] == "checker":
            parity = ((ix + iz) % 2.0)[:, None]
            base = (a * (1 - parity) + second * parity) * (0.92 + 0.16 * jit)[:, None]
        else:
            fx = gx / ts - ix
            fz = gz / ts - iz
            grout = (np.minimum(fx, 1 - fx) < 0.03) | (np.minimum(fz, 1 - fz) < 0.03)
            base = a * (0.8 + 0.4 * jit)[:, None]
            base = np.where(grout[:, None], second * 0.8, base)
        k = _fade(ts, foot)
    mean = 0.5 * (a + second) if tex["pattern"] == "checker" else a
    base = k * base + (1 - k) * mean
    noise = _fbm(seed, [gx, gz], 6.0, 6, foot, gain=0.7)
    detail = _fbm(seed + 5, [gx, gz], 0.3, 6, foot, gain=0.85)  # additive: shows on dark tiles too
    return base * (1.0 + 0.5 * noise)[:, None] + (0.22 * detail)[:, None]


def _wall_albedo(b: _Body, horiz: np.ndarray, up: np.ndarray, foot: np.ndarray) -> np.ndarray:
    tex = b.tex
    seed = tex["seed"]
    a = b.albedo[None, :]
    if tex["pattern"] == "bricks":
        bh, bw = tex["brick_h"], tex["brick_w"]
        row = np.floor(up / bh)
        off = (row % 2.0) * 0.5 * bw
        col = np.floor((horiz + off) / bw)
        jit = _hash01(seed + 3, row.astype(np.int64), col.astype(np.int64))
        base = a * (0.75 + 0.5 * jit)[:, None]
        fu = up / bh - row
        fh = (horiz + off) / bw - col
        mortar = (np.minimum(fu, 1 - fu) * bh < 0.012) | (np.minimum(fh, 1 - fh) * bw < 0.012)
        base = np.where(mortar[:, None], tex["mortar"][None, :], base)
        k = _fade(bh, foot)
    else:
        pw = tex["panel_w"]
        col = np.floor(horiz / pw)
        jit = _hash01(seed + 3, col.astype(np.int64))
        base = a * (0.7 + 0.6 * jit)[:, None]
        fh = horiz / pw - col
        base = np.where((np.minimum(fh, 1 - fh) * pw < 0.02)[:, None], a * 0.5, base)
        k = _fade(pw, foot)
    base = k * base + (1 - k) * a
    noise = _fbm(seed, [horiz, up], 3.0, 5, foot, gain=0.7)
    detail = _fbm(seed + 5, [horiz, up], 0.3, 5, foot, gain=0.85)
    return base * (1.0 + 0.4 * noise)[:, None] + (0.15 * detail)[:, None]


def _object_albedo(b: _Body, local: np.ndarray, foot: np.ndarray) -> np.ndarray:
    tex = b.tex
    phase = (local @ tex["axis"]) * (2 * math.pi / tex["period"]) + tex["phase"]
    stripe = np.clip(np.sin(phase) * 2.5, -1.0, 1.0) * 0.5 + 0.5
    k = _fade(tex["period"], foot)
    stripe = k[:, 0] * stripe + (1 - k[:, 0]) * 0.5
    mix = 0.55 * stripe[:, None]
    base = b.albedo[None, :] * (1 - mix) + tex["second"][None, :] * mix
    noise = _fbm(tex["seed"], [local[:, 0], local[:, 1], local[:, 2]], 0.4, 5, foot, gain=0.8)
    return base * (1.0 + 0.3 * noise)[:, None] + (0.08 * noise)[:, None]


def _sky_color(tex: dict[str, Any], d: np.ndarray) -> np.ndarray:
    horiz = np.hypot(d[:, 0], d[:, 2])
    el = np.arctan2(-d[:, 1], horiz)
    az = np.arctan2(d[:, 0], d[:, 2])
    g = np.clip(el / 0.7, 0.0, 1.0) ** 0.7
    col = tex["horizon"][None, :] * (1 - g[:, None]) + tex["zenith"][None, :] * g[:, None]
    clouds = _fbm(tex["seed"], [az, el * 2.5], 0.3, 7, gain=0.7)
    amount = np.clip(clouds * 2.5 + tex["cover"], 0.0, 1.0)
    col = col * (1 - 0.75 * amount[:, None]) + np.float32(0.97) * (0.75 * amount[:, None])
    fine = _value_noise(tex["seed"] + 99, [az / 0.01, el / 0.01])
    return col * (1.0 + 0.06 * fine)[:, None]


def _shade(
    bodies: list[_Body],
    shading: dict[str, Any],
    t: np.ndarray,
    oid: np.ndarray,
    rays: np.ndarray,
    f: float,
    origin: np.ndarray | None = None,
) -> np.ndarray:
    height, width = oid.shape
    img = np.zeros((height * width, 3), dtype=np.float32)
    oid_flat = oid.ravel()
    t_flat = t.ravel()
    rays_flat = rays.reshape(-1, 3)
    light = shading["light"]
    ambient = shading["ambient"]
    for k in range(-1, len(bodies)):
        idx = np.flatnonzero(oid_flat == k)
        if idx.size == 0:
            continue
        d = rays_flat[idx]
        if k < 0:
            img[idx] = _sky_color(shading["sky"], d)
            continue
        b = bodies[k]
        tk = t_flat[idx]
        p = d * tk[:, None]  # level-frame point relative to the camera, then in the level frame
        if origin is not None:
            p = p + origin[None, :]
        dnorm = np.linalg.norm(d, axis=1)
        if b.kind == "ground":
            normal = np.array([0.0, -1.0, 0.0])[None, :]
        elif b.kind == "back_wall":
            normal = np.array([0.0, 0.0, -1.0])[None, :]
        elif b.kind == "side_wall":
            normal = np.array([-math.copysign(1.0, b.center[0]), 0.0, 0.0])[None, :]
        elif b.kind == "sphere":
            normal = (p - b.center[None, :]) / b.size[0]
        else:
            rel = (p - b.center[None, :]) / (np.array(b.size)[None, :] / 2.0)
            axis = np.argmax(np.abs(rel), axis=1)
            normal = np.zeros_like(p)
            normal[np.arange(len(p)), axis] = np.sign(rel[np.arange(len(p)), axis])
        cos_inc = np.abs((normal * d).sum(axis=1)) / dnorm
        foot = (tk * dnorm / f / np.maximum(cos_inc, 0.05)).astype(np.float32)
        if b.kind == "ground":
            alb = _ground_albedo(b, p, foot)
        elif b.kind == "back_wall":
            alb = _wall_albedo(b, p[:, 0], b.center[1] - p[:, 1], foot)
        elif b.kind == "side_wall":
            alb = _wall_albedo(b, p[:, 2], bodies[0].center[1] - p[:, 1], foot)
        else:
            alb = _object_albedo(b, p - b.center[None, :], foot)
        lam = np.maximum((normal * light[None, :]).sum(axis=1), 0.0)
        img[idx] = alb * (ambient + (1.0 - ambient) * lam)[:, None]
    return img.reshape(height, width, 3)


# ----------------------------------------------------------------------------------------------


def _pitch_rotation(pitch_deg: float) -> np.ndarray:
    p = math.radians(pitch_deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, math.cos(p), math.sin(p)], [0.0, -math.sin(p), math.cos(p)]])


def _render(
    camera: dict[str, Any],
    bodies: list[_Body],
    shading: dict[str, Any],
    rot: np.ndarray,
    origin: np.ndarray | None,
    width: int,
    height: int,
    noise_rng: np.random.Generator,
) -> SyntheticScene:
    """One view of a drawn layout from the camera at `origin` (None: the level frame's origin) turned by `rot`."""
    focal = (width / 2.0) / math.tan(math.radians(camera["hfov_deg"]) / 2.0)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    camera = {**camera, "world_from_camera": rot.tolist(), "focal_px": focal}
    if origin is not None:
        camera["position"] = [float(v) for v in origin]

    t, oid, rays = _cast(bodies, rot, focal, cx, cy, width, height, origin)
    img = _shade(bodies, shading, t, oid, rays, focal, origin)
    sensor_noise = noise_rng.standard_normal((height, width, 1), dtype=np.float32) * np.float32(1.5)
    img = img * np.float32(255.0) + sensor_noise
    rgb = np.clip(np.rint(img), 0, 255).astype(np.uint8)

    x = (np.arange(width, dtype=np.float64) - cx) / focal
    y = (np.arange(height, dtype=np.float64) - cy) / focal
    points = np.empty((height, width, 3), dtype=np.float32)
    points[..., 0] = t * x[None, :]
    points[..., 1] = t * y[:, None]
    depth = t.astype(np.float32)
    points[..., 2] = depth

    objects = []
    for b in bodies:
        rel = b.center if origin is None else b.center - origin
        center_cam = tuple(float(v) for v in rot.T @ rel)
        kind = "wall" if b.kind in ("back_wall", "side_wall") else b.kind
        color = tuple(int(v) for v in np.clip(np.rint(b.albedo * 255), 0, 255))
        objects.append(SceneObject(kind, b.name, center_cam, tuple(float(s) for s in b.size), color))
    return SyntheticScene(
        rgb=rgb,
        depth=depth,
        points=points,
        object_id=oid,
        objects=objects,
        focal_px=float(focal),
        cx=cx,
        cy=cy,
        camera=camera,
    )


def make_scene(
    seed: int,
    width: int = 640,
    height: int = 480,
    *,
    sky: bool | None = None,
    n_objects: tuple[int, int] = (3, 7),
) -> SyntheticScene:
    """Render a random scene: ground, back wall (or sky), optional side walls, boxes and spheres.

    `sky=None` picks a sky scene with probability 0.3; `n_objects` is the inclusive range of the
    number of boxes and spheres (fewer are placed only if they cannot be put down without overlap).
    """
    if width < 2 or height < 2:
        raise ValueError(f"image size must be at least 2x2, got {width}x{height}")
    rng = np.random.default_rng(seed)
    camera, bodies, shading = _draw_layout(rng, width, height, sky, n_objects)
    return _render(camera, bodies, shading, _pitch_rotation(camera["pitch_deg"]), None, width, height, rng)


# ----------------------------------------------------------------------------------------------
# Camera paths: the same scenes seen from a moving camera (the oracle of the video tasks).


def yaw_rotation(yaw_deg: float) -> np.ndarray:
    """Rotation about the level frame's Y axis (down): a positive yaw turns the view to the right (+X)."""
    a = math.radians(yaw_deg)
    return np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])


def camera_pose(position: tuple[float, float, float], yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """4x4 camera-to-world pose in the level frame: R = Ry(yaw) Rx(pitch), translation = `position`."""
    pose = np.eye(4)
    pose[:3, :3] = yaw_rotation(yaw_deg) @ _pitch_rotation(pitch_deg)
    pose[:3, 3] = position
    return pose


def scene_camera(seed: int, width: int, height: int) -> dict[str, Any]:
    """The camera of scene `seed` at `width` x `height`: height_m, pitch_deg, hfov_deg, sky and focal_px."""
    camera, _, _ = _draw_layout(np.random.default_rng(seed), width, height, None, (3, 7))
    return {**camera, "focal_px": (width / 2.0) / math.tan(math.radians(camera["hfov_deg"]) / 2.0)}


def render_view(
    seed: int, width: int, height: int, pose: np.ndarray, *, noise_seed: int = 0, sky: bool | None = None
) -> SyntheticScene:
    """Scene `seed` (the layout `make_scene(seed, width, height)` draws) seen from `pose`, a 4x4
    camera-to-world matrix in the scene's level frame (`camera_pose`). Depth, points and object centres
    are in the new camera's frame; `noise_seed` seeds the sensor noise of this view."""
    if width < 2 or height < 2:
        raise ValueError(f"image size must be at least 2x2, got {width}x{height}")
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise ValueError("pose must be a finite 4x4 camera-to-world matrix")
    rng = np.random.default_rng(seed)
    camera, bodies, shading = _draw_layout(rng, width, height, sky, (3, 7))
    noise_rng = np.random.default_rng([seed, 1, noise_seed])
    return _render(camera, bodies, shading, pose[:3, :3], pose[:3, 3].copy(), width, height, noise_rng)


# Camera path limits: the camera stays where the scene is built (in front of it, between the walls,
# away from objects) and keeps facing into it.
PATH_MAX_YAW_DEG = 40.0  # beyond this the view leaves the scene's built half-space
PATH_CLEARANCE_M = 0.8  # distance kept from every object's footprint
PATH_Z_RANGE = (-4.0, 1.0)  # metres along the scene's forward axis
PATH_MAX_SIDE_M = 2.5  # metres sideways from the scene's first camera position
PATH_MOVES = ("forward", "backward", "left", "right", "turn_left", "turn_right", "still", "curve")


def _path_is_clear(bodies: list[_Body], x: float, z: float) -> bool:
    if not (PATH_Z_RANGE[0] <= z <= PATH_Z_RANGE[1]) or abs(x) > PATH_MAX_SIDE_M:
        return False
    for b in bodies:
        if b.kind == "side_wall" and abs(x - b.center[0]) < 1.0:
            return False
        if b.kind in ("box", "sphere"):
            foot = b.size[0] if b.kind == "sphere" else 0.5 * math.hypot(b.size[0], b.size[2])
            if math.hypot(x - b.center[0], z - b.center[2]) < foot + PATH_CLEARANCE_M:
                return False
    return True


_OPPOSITE_MOVE = {"forward": "backward", "backward": "forward", "left": "right", "right": "left",
                  "turn_left": "turn_right", "turn_right": "turn_left", "still": "still", "curve": "still"}  # fmt: skip


def _step(x: float, z: float, yaw: float, move: str, speed: float, turn: float, curve_turn: float):
    """The camera's (x, z, yaw) after one frame of `move`."""
    a = math.radians(yaw)
    forward, right = (math.sin(a), math.cos(a)), (math.cos(a), -math.sin(a))  # (x, z) in the level frame
    f_, r_ = {"forward": (1, 0), "backward": (-1, 0), "left": (0, -1), "right": (0, 1), "curve": (1, 0)}.get(
        move, (0, 0)
    )
    dyaw = {"turn_left": -turn, "turn_right": turn, "curve": curve_turn}.get(move, 0.0)
    return x + speed * (f_ * forward[0] + r_ * right[0]), z + speed * (f_ * forward[1] + r_ * right[1]), yaw + dyaw


def camera_path(
    seed: int,
    width: int,
    height: int,
    n_frames: int,
    *,
    path_seed: int = 0,
    moves: list[tuple[str, int]] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Poses of a camera walking through scene `seed` (as drawn at `width` x `height`): (n_frames, 4, 4)
    camera-to-world matrices in the level frame, and the move of each frame step (one of PATH_MOVES;
    "curve" = moving forward while turning).

    The path is a chain of moves of 5-10 frames each, every kind of move once in a random order (then again),
    drawn from `path_seed` (or given as `moves`, (move, frames) pairs, for tests), at 0.08-0.15 m or 1.5-3.5
    degrees per frame (a curve: forward while turning at half that rate). A step that would leave the clear
    region (PATH_* limits) goes the opposite way, or stands still; camera height and pitch stay fixed.
    """
    if n_frames < 1:
        raise ValueError(f"a camera path needs at least one frame, got {n_frames}")
    rng = np.random.default_rng(seed)
    camera, bodies, _ = _draw_layout(rng, width, height, None, (3, 7))  # the layout render_view draws
    pitch = camera["pitch_deg"]
    path_rng = np.random.default_rng([seed, 2, path_seed])
    x, z, yaw = 0.0, 0.0, 0.0
    poses = [camera_pose((x, 0.0, z), yaw, pitch)]
    labels: list[str] = []
    plan = list(moves) if moves is not None else []
    queue: list[str] = []
    while len(poses) < n_frames:
        if plan:
            move, length = plan.pop(0)
            if move not in PATH_MOVES:
                raise ValueError(f"unknown move {move!r}; known: {PATH_MOVES}")
        elif moves is not None:
            move, length = "still", n_frames
        else:  # every kind of move once, in a random order, then again: each path shows them all
            if not queue:
                queue = [PATH_MOVES[int(i)] for i in path_rng.permutation(len(PATH_MOVES))]
            move, length = queue.pop(0), int(path_rng.integers(5, 11))
        speed = float(path_rng.uniform(0.08, 0.15))
        turn = float(path_rng.uniform(1.5, 3.5))
        curve_turn = turn * 0.5 * (1.0 if path_rng.random() < 0.5 else -1.0)
        for _ in range(length):
            if len(poses) >= n_frames:
                break
            for tried in (move, _OPPOSITE_MOVE[move], "still"):  # a blocked step goes the other way
                nx, nz, nyaw = _step(x, z, yaw, tried, speed, turn, curve_turn)
                if abs(nyaw) <= PATH_MAX_YAW_DEG and _path_is_clear(bodies, nx, nz):
                    break
            else:
                nx, nz, nyaw, tried = x, z, yaw, "still"
            x, z, yaw = nx, nz, nyaw
            poses.append(camera_pose((x, 0.0, z), yaw, pitch))
            labels.append(tried)
    return np.stack(poses), labels
