"""Relative 3-D position.

Geometry: two flat, valid regions are marked 1 (the viewer) and 2 (the target). The viewer faces
one of four directions: toward the image's left (-x), its right (+x), toward the camera (-z) or
away from it (+z). In camera coordinates (x right, z depth) with offset d = target - viewer,
Front/Back is the sign of d along the facing, Right/Left its sign along the viewer's right,
where facing +z has right +x, -z has right -x, -x has right +z, +x has right -z.
Lateral position comes from the pinhole model, X = (u - cx) * Z / f, never from the pixel
column alone: two regions at different depths can swap left/right between pixels and metres.
Answer: one letter; options are {Front, Back, Left, Right} ("cardinal": one axis must clearly
dominate) or {Left-Front, Right-Front, Left-Back, Right-Back} ("diagonal": both axes clear).
Verifiability: each axis the answer uses has an offset whose sign holds over the whole extent of
both regions (interval arithmetic over pixel columns and depth ranges) and whose size is at least
`min_rel_offset` of the nearer depth; when the focal length is unknown, every condition must hold
for any focal length within a factor `focal_uncertainty` of the assumed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spatial_ssrl.contract import parse_options
from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import Rejection, Sample, Source
from spatial_ssrl.tasks._layout import format_options, letters
from spatial_ssrl.tasks._regions import min_center_separation, usable_tiles
from spatial_ssrl.tasks._render import MarkerFailure, draw_region_markers
from spatial_ssrl.tasks._wording import check_answer, num

TASK = "position"  # the registered name

# facing name -> (forward, right) as (x, z) unit vectors in the camera's ground plane
FACINGS = {
    "away": ((0.0, 1.0), (1.0, 0.0)),
    "toward": ((0.0, -1.0), (-1.0, 0.0)),
    "left": ((-1.0, 0.0), (0.0, 1.0)),
    "right": ((1.0, 0.0), (0.0, -1.0)),
}
# facing name -> how the question words it
FACING_WORDS = {
    "away": "away from the camera, into the scene",
    "toward": "toward the camera",
    "left": "toward the left side of the image",
    "right": "toward the right side of the image",
}
# variant -> its four answer options (shown under letters in random order)
OPTION_SETS = {
    "cardinal": ["Front", "Back", "Left", "Right"],
    "diagonal": ["Left-Front", "Right-Front", "Left-Back", "Right-Back"],
}


@dataclass
class PositionParams:
    """Thresholds of the position task (docs/tasks.md); the field defaults are the task's defaults."""

    region_frac: float = 0.03  # region side as a fraction of the short image side
    min_region_px: int = 9
    min_valid_frac: float = 0.9  # share of a region's pixels with valid depth
    max_region_spread: float = 0.15  # max - min of normalised depth inside a region
    max_region_depth_ratio: float = 1.25  # max / min of true depth inside a region: the region really is flat
    clip_percentiles: tuple[float, float] = (0.5, 99.5)  # clip before min-max normalisation
    normalise_space: str = "log"  # "linear" = the paper's min-max of depth; see _regions.depth_normaliser
    min_pixel_sep_frac: float = 0.2  # centres at least this fraction of the width apart (~the reference's 150 px)
    min_rel_offset: float = 0.10  # |offset| along a used axis >= this * nearer depth
    dominance_ratio: float = 2.0  # cardinal: major axis >= ratio * minor axis (within ~27 degrees)
    diagonal_min_ratio: float = 0.4  # diagonal: minor axis >= ratio * major axis (22-68 degrees)
    assumed_hfov_deg: float = 60.0  # horizontal field of view assumed when the focal length is unknown
    focal_uncertainty: float = 2.0  # unknown focal: conditions hold for f / u .. f * u
    # Paper: uniform facings. The authors' script draws 30/30/30/10 with "away" least.
    facing_weights: dict[str, float] = field(
        default_factory=lambda: {"left": 1.0, "right": 1.0, "toward": 1.0, "away": 1.0}
    )
    max_viewers: int = 48  # search effort: how many viewer regions to try


def _interval_product(a_lo, a_hi, b_lo, b_hi):
    corners = np.stack([a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi])
    return corners.min(axis=0), corners.max(axis=0)


def _component(fwd_or_right: tuple[float, float], dx: tuple, dz: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Interval of d . axis, for an axis that is +-x or +-z."""
    ax, az = fwd_or_right
    lo, hi = dx if ax != 0 else dz
    sign = ax if ax != 0 else az
    return (lo, hi) if sign > 0 else (-hi, -lo)


def _meets(answer: str, front: tuple, side: tuple, threshold: np.ndarray, params: PositionParams) -> np.ndarray:
    """Vectorised: does each candidate target give exactly `answer`, with clear margins?"""
    f_lo, f_hi = front
    s_lo, s_hi = side
    front_mag = np.maximum(np.abs(f_lo), np.abs(f_hi))
    side_mag = np.maximum(np.abs(s_lo), np.abs(s_hi))
    is_front, is_back = f_lo >= threshold, f_hi <= -threshold
    is_right, is_left = s_lo >= threshold, s_hi <= -threshold
    front_min = np.where(is_front, f_lo, -f_hi)  # guaranteed magnitude along the used sign
    side_min = np.where(is_right, s_lo, -s_hi)
    if answer in ("Front", "Back"):
        return (is_front if answer == "Front" else is_back) & (front_min >= params.dominance_ratio * side_mag)
    if answer in ("Left", "Right"):
        return (is_right if answer == "Right" else is_left) & (side_min >= params.dominance_ratio * front_mag)
    lr, fb = answer.split("-")
    ok = (is_left if lr == "Left" else is_right) & (is_front if fb == "Front" else is_back)
    return ok & (np.minimum(front_min, side_min) >= params.diagonal_min_ratio * np.maximum(front_mag, side_mag))


def draw_position(rng: np.random.Generator, params: PositionParams, variant: str) -> dict:
    """The question draw: the viewer's facing, the wanted relation and the order of the options."""
    names = [k for k, v in params.facing_weights.items() if v > 0]
    p = np.array([params.facing_weights[k] for k in names], dtype=float)
    facing = names[int(rng.choice(len(names), p=p / p.sum()))]
    option_texts = OPTION_SETS[variant]
    return {
        "facing": facing,
        "wanted": option_texts[int(rng.integers(4))],
        "order": [option_texts[i] for i in rng.permutation(4)],
    }


def make_position(
    source: Source, rng: np.random.Generator, params: PositionParams, variant: str, plan: dict | None = None
) -> Sample | Rejection:
    """Relative 3-D position: where is region 2 as seen by a viewer standing at region 1?"""
    # 1. The question comes first (facing, wanted answer, option order: the question draw, kept while a
    # rejected sample is retried), then a search for a pair realising it: this keeps the answer
    # distribution uniform whatever the scene layout.
    plan = plan if plan is not None else {**draw_position(rng, params, variant), "attempt": 0}
    facing, wanted = plan["facing"], plan["wanted"]

    found = usable_tiles(TASK, source, rng, params)
    if isinstance(found, Rejection):
        return found
    t, side = found
    n = len(t["box"])
    if n < 2:
        return Rejection(TASK, "depth.too_few_regions", f"{n} flat valid regions < 2")

    # Lateral coordinate times focal length: A = (u - cx) * Z, interval over the region's extent.
    cx = (source.width - 1) / 2.0
    u_lo, u_hi = t["box"][:, 0] - cx, t["box"][:, 2] - 1 - cx
    a_lo, a_hi = _interval_product(u_lo, u_hi, t["d_min"], t["d_max"])
    if source.focal_px:
        focals = [float(source.focal_px)]
    else:
        f0 = (source.width / 2.0) / math.tan(math.radians(params.assumed_hfov_deg) / 2.0)
        focals = [f0 / params.focal_uncertainty, f0 * params.focal_uncertainty]
    centers = (t["box"][:, :2] + t["box"][:, 2:]) / 2.0
    min_sep = max(params.min_pixel_sep_frac * source.width, min_center_separation(side, source.width, source.height))
    fwd, right = FACINGS[facing]

    pair = None
    for v in rng.permutation(n)[: params.max_viewers]:
        ok = np.hypot(*(centers - centers[v]).T) >= min_sep
        dz = (t["d_min"] - t["d_max"][v], t["d_max"] - t["d_min"][v])
        threshold = params.min_rel_offset * np.minimum(t["d_mean"], t["d_mean"][v])
        for f in focals:
            dx = ((a_lo - a_hi[v]) / f, (a_hi - a_lo[v]) / f)
            ok &= _meets(wanted, _component(fwd, dx, dz), _component(right, dx, dz), threshold, params)
        targets = np.flatnonzero(ok)
        if len(targets):
            pair = (int(v), int(targets[rng.integers(len(targets))]))
            break
    if pair is None:
        return Rejection(
            TASK, "position.no_clear_pair", f"no region pair is clearly '{wanted}' for a viewer facing {facing}"
        )
    v, g = pair

    # 2. Render: viewer is region 1, target region 2.
    regions = [{"box": t["box"][v].tolist(), "label": 1}, {"box": t["box"][g].tolist(), "label": 2}]
    drawn = draw_region_markers(source.rgb, regions, side)
    if isinstance(drawn, MarkerFailure):  # no label placement is unambiguous: reject rather than mislead
        return Rejection(TASK, drawn.reason, drawn.detail)
    image, markers = drawn

    # 3. Options in random order; the answer is the letter of the wanted option.
    order = list(plan["order"])
    letter_list = letters(4)
    options = dict(zip(letter_list, order))
    answer = letter_list[order.index(wanted)]
    f_ref = float(np.sqrt(focals[0] * focals[-1]))
    x = [float((centers[i, 0] - 0.5 - cx) * t["d_mean"][i] / f_ref) for i in (v, g)]
    z = [float(t["d_mean"][i]) for i in (v, g)]
    for m, i, xi in zip(markers, (v, g), x):
        m.update(depth=float(t["d_mean"][i]), depth_range=[float(t["d_min"][i]), float(t["d_max"][i])], x=xi)
    question = (
        "<image>\nTwo small regions of this photo are circled in red and labelled 1 and 2. Imagine you are "
        f"standing at region 1, facing {FACING_WORDS[facing]}. From your point of view, in which direction "
        "is region 2? Consider only directions along the ground and ignore any difference in height.\n"
        f"Options:\n{format_options(options)}\nAnswer with the letter of the correct option."
    )
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=[image],
        question=question,
        answer=answer,
        options=options,
        meta={
            "markers": markers,
            "region_side": side,
            "facing": facing,
            "answer_text": wanted,
            "offset_xz": [x[1] - x[0], z[1] - z[0]],
            "focal_px_used": focals,
            "margins": {"rel_offset_x": abs(x[1] - x[0]) / min(z), "rel_offset_z": abs(z[1] - z[0]) / min(z)},
        },
    )


# ---------------------------------------------------------------------------- cold start


_PLACES = {
    "Front": "in front of me",
    "Back": "behind me",
    "Left": "to my left",
    "Right": "to my right",
    "Left-Front": "ahead and to my left",
    "Right-Front": "ahead and to my right",
    "Left-Back": "behind me and to my left",
    "Right-Back": "behind me and to my right",
}

# direction in camera coordinates (x to the image's right, z away from the camera) -> words
_AXIS_WORDS = {
    (0.0, 1.0): "away from the camera",
    (0.0, -1.0): "toward the camera",
    (-1.0, 0.0): "toward the image's left",
    (1.0, 0.0): "toward the image's right",
}


def explain_position(row: dict, meta: dict) -> str:
    """Cold-start reasoning for a position sample, from how it was made (see ColdstartTemplate)."""
    facing, wanted = meta["facing"], meta["answer_text"]
    options = parse_options(row["options"]) or {}
    letters = [k for k, v in options.items() if v == wanted]
    check_answer(row, letters[0] if len(letters) == 1 else "")
    fwd, right = FACINGS[facing]
    dx, dz = meta["offset_xz"]
    ahead = dx * fwd[0] + dz * fwd[1]
    side = dx * right[0] + dz * right[1]
    by_label = {str(m["label"]): m for m in meta["markers"]}
    v, t = by_label["1"], by_label["2"]
    where_ahead = "level with me" if num(ahead) == "0" else "ahead" if ahead > 0 else "behind"
    where_side = "in line with me" if num(side) == "0" else "right" if side > 0 else "left"
    text = (
        f"In camera terms (x to the image's right, depth away from the camera), region 1 is at x {num(v['x'])}, "
        f"depth {num(v['depth'])} and region 2 at x {num(t['x'])}, depth {num(t['depth'])}: region 2 is offset "
        f"by {num(dx)} in x and {num(dz)} in depth. Standing at region 1 and facing {FACING_WORDS[facing]}, "
        f"my front points {_AXIS_WORDS[tuple(fwd)]} and my right points {_AXIS_WORDS[tuple(right)]}. "
        f"Along my facing the offset is {num(ahead)} ({where_ahead}), to my right it is {num(side)} ({where_side}). "
    )
    if "-" in wanted:
        text += f"Both components are clear, so region 2 is {_PLACES.get(wanted, wanted)} ({wanted})."
    else:
        major, minor = ("front-back", "left-right") if abs(ahead) >= abs(side) else ("left-right", "front-back")
        text += (
            f"The {major} component dominates ({num(max(abs(ahead), abs(side)))} against "
            f"{num(min(abs(ahead), abs(side)))} {minor}), so region 2 is {_PLACES.get(wanted, wanted)} ({wanted})."
        )
    return text + f" That is option {row['answer']}."


# Default mix weight: the task's count in the released Spatial-SSRL-81k.
register_task(
    TASK,
    make_position,
    params=PositionParams,
    variants={"cardinal": 1, "diagonal": 1},
    answer_type="choice",
    needs_depth=True,
    mix_weight=20200,
    coldstart=explain_position,
    draw=draw_position,
)
