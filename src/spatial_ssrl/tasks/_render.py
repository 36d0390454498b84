"""Drawing labels and region markers directly on the pixel grid.

No plotting library: marker coordinates in metadata are exactly the pixels drawn on, and output
images keep the source size. Labels are white with a black outline so they read on any
background; their size scales with the piece or image they label.
"""

from __future__ import annotations

import functools
import math

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


def draw_region_markers(image: np.ndarray, regions: list[dict], region_side: int) -> tuple[np.ndarray, list[dict]]:
    """Circle each region (dict with 'box' [x0,y0,x1,y1] and 'label') and write its label beside it.

    Returns the new image and, per region, the marker record stored in sample metadata:
    centre pixel, ring radius and the label's pixel box."""
    h, w = image.shape[:2]
    geo = marker_geometry(region_side, w, h)
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    records = []
    for region in regions:
        x0, y0, x1, y1 = region["box"]
        cx, cy = (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2
        r, rw = geo["radius"], geo["width"]
        # Black halo then coloured ring: visible on light and dark backgrounds alike.
        draw.ellipse([cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1], outline=(0, 0, 0), width=rw + 2)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=MARKER_COLOR, width=rw)
        # Label diagonally up-right of the ring, flipped to the other side near an edge.
        lh = geo["label_height"]
        off = r + 0.7 * lh
        lx = cx + off if cx + off + lh < w else cx - off
        ly = cy - off if cy - off - lh > 0 else cy + off
        label_box = draw_label(draw, (lx, ly), str(region["label"]), lh)
        records.append(
            {
                "label": str(region["label"]),
                "center": [float(cx), float(cy)],
                "box": [int(v) for v in region["box"]],
                "ring_radius": r,
                "label_box": label_box,
            }
        )
    return np.asarray(pil).copy(), records
