"""Drawing labels and region markers directly on the pixel grid.

No plotting library: marker coordinates in metadata are exactly the pixels drawn on, and output
images keep the source size. Labels are white with a black outline so they read on any
background; their size scales with the piece or image they label.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MARKER_COLOR = (255, 32, 32)  # RGB of the circles drawn around marked regions


@functools.lru_cache(maxsize=64)
def label_font(height_px: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font (FreeType), so no system font can be missing."""
    font = ImageFont.load_default(size=max(8, int(height_px)))
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow built without FreeType
        raise RuntimeError("Pillow was built without FreeType; scalable labels need it")
    return font


def piece_label_height(piece_w: int, piece_h: int) -> int:
    """Label glyph height for a grid piece: 18% of its short side, at least 14 px."""
    return max(14, round(0.18 * min(piece_w, piece_h)))


def draw_label(draw: ImageDraw.ImageDraw, center: tuple[float, float], text: str, height_px: int) -> list[int]:
    """Draw outlined text centred at `center`; returns its pixel box [x0, y0, x1, y1] (exclusive)."""
    font = label_font(height_px)
    stroke = max(2, height_px // 8)
    draw.text(center, text, font=font, fill=(255, 255, 255), anchor="mm", stroke_width=stroke, stroke_fill=(0, 0, 0))
    x0, y0, x1, y1 = draw.textbbox(center, text, font=font, anchor="mm", stroke_width=stroke)
    return [int(math.floor(x0)), int(math.floor(y0)), int(math.ceil(x1)) + 1, int(math.ceil(y1)) + 1]


def label_pieces(
    image: np.ndarray, boxes: list[tuple[int, int, int, int]], labels: list[str]
) -> tuple[np.ndarray, list[list[int]]]:
    """Write `labels[i]` near the top-left corner of piece `boxes[i]` (x0, y0, x1, y1)."""
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    drawn = []
    for (x0, y0, x1, y1), text in zip(boxes, labels):
        h = piece_label_height(x1 - x0, y1 - y0)
        drawn.append(draw_label(draw, (x0 + 0.9 * h, y0 + 0.9 * h), text, h))
    return np.asarray(pil).copy(), drawn


def marker_geometry(region_side: int, image_w: int, image_h: int) -> dict[str, int]:
    """Ring radius/width and label size for a square region of `region_side` px.

    The ring's inner edge clears the region's corners, so the region itself stays visible."""
    half_diag = region_side / math.sqrt(2)
    width = max(2, region_side // 8)
    radius = int(math.ceil(half_diag + width / 2 + 2))
    label_h = max(16, round(0.045 * min(image_w, image_h)))
    return {"radius": radius, "width": width, "label_height": label_h}


# ---------------------------------------------------------------------------- label placement

# Each label's box must be at least this many times farther from every other ring and every other
# label than from its own ring (gaps measured edge to edge, see `place_labels`). 3 means that at the
# default sizes a label hugging its ring at ~4 px keeps >= 12 px (over half a label height) from
# everything else; justified and measured in docs/tasks.md.
LABEL_ASSOCIATION_FACTOR = 3.0
LABEL_GAP_FRAC = 0.2  # wanted gap between a label and its own ring, as a fraction of the label height
RING_HALO_PX = 1  # the black halo drawn outside the red ring
RING_SLACK_PX = 2  # rasterisation: every ring pixel lies within radius + halo + 1.1 px of the centre
N_LABEL_DIRECTIONS = 16  # candidate label positions around each ring (every 22.5 degrees)
MAX_PLACEMENT_NODES = 50_000  # bound on the joint search over candidate positions


@dataclass(frozen=True)
class MarkerFailure:
    """Why markers could not be drawn unambiguously; tasks turn it into a `Rejection`."""

    reason: str
    detail: str = ""


def ring_outer_radius(radius: int) -> int:
    """Radius of the disk that holds every pixel of a drawn ring (red ring, black halo, rasterisation)."""
    return radius + RING_HALO_PX + RING_SLACK_PX


def label_gap(label_height: int) -> int:
    """Wanted gap in px between a label's box and the outside of its own ring."""
    return max(2, round(LABEL_GAP_FRAC * label_height))


def label_box_offsets(text: str, height_px: int) -> tuple[int, int, int, int]:
    """The box `draw_label` returns for `text` centred at (0, 0): add an integer centre to get its box."""
    font = label_font(height_px)
    stroke = max(2, height_px // 8)
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), text, font=font, anchor="mm", stroke_width=stroke
    )
    return int(math.floor(x0)), int(math.floor(y0)), int(math.ceil(x1)) + 1, int(math.ceil(y1)) + 1


def _directions() -> np.ndarray:
    """Unit vectors (x right, y down) in preference order: the four diagonals starting up-right (the
    classic spot), then the remaining directions by angular distance from up-right."""
    diagonals = [-45.0, -135.0, 45.0, 135.0]
    rest = [a for a in np.arange(-180.0, 180.0, 360.0 / N_LABEL_DIRECTIONS) if a not in diagonals]
    rest.sort(key=lambda a: (abs((a + 45.0 + 180.0) % 360.0 - 180.0), a))
    ang = np.radians(np.array(diagonals + rest, dtype=float))
    return np.stack([np.cos(ang), np.sin(ang)], axis=1)


def _point_box_dist(px: np.ndarray, py: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Distance from points to boxes (x0, y0, x1, y1), broadcast; 0 inside."""
    dx = np.maximum(np.maximum(boxes[..., 0] - px, px - boxes[..., 2]), 0.0)
    dy = np.maximum(np.maximum(boxes[..., 1] - py, py - boxes[..., 3]), 0.0)
    return np.hypot(dx, dy)


def _box_box_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Edge-to-edge distance between boxes, broadcast; 0 when they touch or overlap."""
    dx = np.maximum(np.maximum(a[..., 0] - b[..., 2], b[..., 0] - a[..., 2]), 0.0)
    dy = np.maximum(np.maximum(a[..., 1] - b[..., 3], b[..., 1] - a[..., 3]), 0.0)
    return np.hypot(dx, dy)


def place_labels(
    centers: np.ndarray,
    outer_radii: np.ndarray,
    offsets: np.ndarray,
    gap: float,
    width: int,
    height: int,
    factor: float = LABEL_ASSOCIATION_FACTOR,
    names: list[str] | None = None,
) -> np.ndarray | MarkerFailure:
    """Choose one label box per ring so that no label can be read as belonging to another ring.

    centers (n, 2) ring centres; outer_radii (n,) radii of the disks holding each drawn ring;
    offsets (n, 4) each label's box relative to its integer centre (`label_box_offsets`); names (n,)
    the label texts, for the failure message.
    For label i with box B_i, own gap g_i = dist(B_i, c_i) - R_i (box edge to the outside of its ring).
    The rule, for every label i:
      - g_i >= 1 (it touches no ring, so no region either: regions lie inside their rings),
      - dist(B_i, c_j) - R_j >= factor * g_i for every other ring j,
      - dist(B_i, B_k) >= factor * g_i for every other label k,
      - B_i lies inside the image.
    Candidates: N_LABEL_DIRECTIONS directions around each ring, each at the distance where g_i is about
    `gap`; rings are filled in order with the first candidate (in preference order) compatible with the
    labels already chosen, backtracking when stuck (bounded). Returns the (n, 4) int boxes, or a
    MarkerFailure "markers.label_ambiguous" when no combination satisfies the rule."""
    centers = np.asarray(centers, dtype=float).reshape(-1, 2)
    radii = np.asarray(outer_radii, dtype=float).reshape(-1)
    offsets = np.asarray(offsets, dtype=float).reshape(-1, 4)
    n = len(centers)
    if n == 0:
        return np.zeros((0, 4), int)
    u = _directions()  # (K, 2)
    # Distance along each direction at which the label box is `gap` from the ring's outside: the
    # distance from the centre to a box moving away along a ray is monotonic, so bisect (vectorised).
    lo = np.zeros((n, len(u)))
    hi = np.broadcast_to((radii + gap)[:, None] + np.abs(offsets).max(axis=1)[:, None] * 2 + 2, lo.shape).copy()
    target = (radii + gap)[:, None]
    rel = offsets[:, None, :]  # (n, 1, 4)
    for _ in range(16):  # 16 halvings: sub-pixel (a few label heights / 65536)
        mid = (lo + hi) / 2
        d = _point_box_dist(-mid * u[None, :, 0], -mid * u[None, :, 1], rel)
        short = d < target
        lo, hi = np.where(short, mid, lo), np.where(short, hi, mid)
    label_c = np.rint(centers[:, None, :] + hi[..., None] * u[None])  # (n, K, 2) integer centres
    boxes = np.concatenate([label_c, label_c], axis=-1) + rel  # (n, K, 4)

    # Gaps of every candidate to every ring: (n, K, n).
    ring_gap = _point_box_dist(centers[None, None, :, 0], centers[None, None, :, 1], boxes[:, :, None, :])
    ring_gap = ring_gap - radii[None, None, :]
    own = ring_gap[np.arange(n), :, np.arange(n)]  # (n, K)
    others = ring_gap.copy()
    others[np.arange(n), :, np.arange(n)] = np.inf
    inside = (boxes[..., 0] >= 0) & (boxes[..., 1] >= 0) & (boxes[..., 2] <= width) & (boxes[..., 3] <= height)
    ok = inside & (own >= 1) & (others.min(axis=2) >= factor * own)  # (n, K)
    # Label-label compatibility of candidate k of ring i with candidate l of ring j: (n, K, n, K).
    lab_gap = _box_box_dist(boxes[:, :, None, None, :], boxes[None, None, :, :, :])
    need = factor * np.maximum(own[:, :, None, None], own[None, None, :, :])
    compat = lab_gap >= need

    choice = [-1] * n
    budget = [MAX_PLACEMENT_NODES]

    def search(i: int) -> bool:
        if i == n:
            return True
        for k in np.flatnonzero(ok[i]):
            budget[0] -= 1
            if budget[0] < 0:
                return False
            if all(compat[i, k, j, choice[j]] for j in range(i)):
                choice[i] = int(k)
                if search(i + 1):
                    return True
        return False

    if not search(0):
        names = names or [f"#{i + 1}" for i in range(n)]
        stuck = [names[i] for i in range(n) if not ok[i].any()]
        why = f"label(s) {', '.join(stuck)}: no free position" if stuck else "the labels would crowd each other"
        return MarkerFailure(
            "markers.label_ambiguous",
            f"no label placement keeps every label {factor:g}x nearer its own ring than any other ring or label "
            f"({why})",
        )
    return boxes[np.arange(n), choice].astype(int)


def draw_region_markers(
    image: np.ndarray, regions: list[dict], region_side: int
) -> tuple[np.ndarray, list[dict]] | MarkerFailure:
    """Circle each region (dict with 'box' [x0,y0,x1,y1] and 'label') and write its label beside it.

    Labels are placed by `place_labels` (each clearly nearer its own ring than anything else); when no
    placement satisfies that rule nothing is drawn and a MarkerFailure is returned instead.
    Otherwise returns the new image and, per region, the marker record stored in sample metadata:
    centre pixel, ring radius, the radius holding every ring pixel, the label's pixel box and its gaps."""
    h, w = image.shape[:2]
    geo = marker_geometry(region_side, w, h)
    r, rw, lh = geo["radius"], geo["width"], geo["label_height"]
    outer = ring_outer_radius(r)
    texts = [str(region["label"]) for region in regions]
    centers = np.array([[(x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2] for x0, y0, x1, y1 in (g["box"] for g in regions)])
    offsets = np.array([label_box_offsets(t, lh) for t in texts]).reshape(-1, 4)
    boxes = place_labels(centers, np.full(len(regions), outer), offsets, label_gap(lh), w, h, names=texts)
    if isinstance(boxes, MarkerFailure):
        return boxes

    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    for cx, cy in centers:
        # Black halo then coloured ring: visible on light and dark backgrounds alike.
        draw.ellipse([cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1], outline=(0, 0, 0), width=rw + 2)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=MARKER_COLOR, width=rw)
    records = []
    for i, (region, text) in enumerate(zip(regions, texts)):
        x0, y0, x1, y1 = (int(v) for v in boxes[i])
        center = ((x0 - offsets[i, 0] + x1 - offsets[i, 2]) / 2, (y0 - offsets[i, 1] + y1 - offsets[i, 3]) / 2)
        drawn = draw_label(draw, center, text, lh)
        if drawn != [x0, y0, x1, y1]:  # the box checked by the rule must be the box drawn
            raise RuntimeError(f"label {text!r} drawn at {drawn}, placed at {[x0, y0, x1, y1]}")
        ring_gaps = _point_box_dist(centers[:, 0], centers[:, 1], boxes[i].astype(float)) - outer
        label_gaps = _box_box_dist(boxes[i].astype(float), boxes.astype(float))
        clear = np.concatenate([np.delete(ring_gaps, i), np.delete(label_gaps, i)])
        records.append(
            {
                "label": text,
                "center": [float(centers[i, 0]), float(centers[i, 1])],
                "box": [int(v) for v in region["box"]],
                "ring_radius": r,
                "ring_outer_radius": outer,
                "label_box": [x0, y0, x1, y1],
                "label_gap": round(float(ring_gaps[i]), 2),
                "label_clearance": round(float(clear.min()), 2) if clear.size else None,
            }
        )
    return np.asarray(pil).copy(), records
