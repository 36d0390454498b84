"""Ego-motion: how did the camera move between two frames of a posed sequence?

Question first: draw the wanted motion uniformly from MOTIONS (moved forward / backward / to the left /
to the right, turned left / right), three other motions as distractors and the order of the four options.
Geometry: among the frame pairs (a, b), a earlier, `min_gap_frames` to `max_gap_frames` apart, with valid
poses, take those whose relative pose realises the wanted motion unambiguously (`classify_motion`), pick
one at random, and check that frame a's scene is still in view in frame b (`min_overlap`, from a's depth).
Render: `two_frames` shows frame a then frame b; `clip` shows `clip_frames` frames from a to b.
Answer: one letter A-D.

The rule, in the first camera's frame (x right, y down, z forward) with R = R_a^T R_b and
t = R_a^T (o_b - o_a):
- rotation: angle theta of R (axis-angle) and the tilt of its axis from the camera's vertical (y) axis;
  a turn is a rotation about the vertical, so "turned right" when the signed angle about +y (down) is
  positive (forward swings towards +x);
- translation: its share of the first frame's median depth (parallax is translation / depth, so this is
  what a viewer can see, and poses known only up to scale work too when the depth shares their scale), its
  direction in the x-z plane, and its vertical share.
A `moved` answer needs translation >= `min_translation_rel`, theta <= `max_move_rotation_deg`, direction
within `max_direction_deg` of the answer's axis and vertical share <= `max_vertical_ratio`; a `turned`
answer needs `min_turn_deg` <= theta <= `max_turn_deg`, axis tilt <= `max_axis_tilt_deg` and displacement
(vertical too) <= `max_turn_translation_rel`. Everything in between is ambiguous and never asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import FrameSequence, Rejection, Sample
from spatial_ssrl.tasks._layout import format_options, letters

TASK = "ego_motion"  # the registered name

MOTIONS = ("forward", "backward", "left", "right", "turn_left", "turn_right")
MOTION_TEXT = {
    "forward": "It moved forward, towards what it was facing",
    "backward": "It moved backward, away from what it was facing",
    "left": "It moved to its left without turning",
    "right": "It moved to its right without turning",
    "turn_left": "It turned to its left on the spot",
    "turn_right": "It turned to its right on the spot",
}
MIRRORED = {"forward": "forward", "backward": "backward", "left": "right", "right": "left",
            "turn_left": "turn_right", "turn_right": "turn_left"}  # fmt: skip
"""The motion seen in the horizontally mirrored sequence."""


@dataclass
class EgoMotionParams:
    """Thresholds of the ego_motion task (docs/tasks.md); the field defaults are the task's defaults."""

    min_gap_frames: int = 2  # frames between the two shown frames, at least
    max_gap_frames: int = 48  # ... and at most
    min_translation_rel: float = 0.10  # a move: translation / median depth of the first frame, at least
    max_move_rotation_deg: float = 2.0  # a move: rotation, at most (its image motion < 40% of the move's)
    max_direction_deg: float = 25.0  # a move: angle between the translation and the answer's axis, at most
    max_vertical_ratio: float = 0.7  # a move: vertical / horizontal translation, at most (camera pitch ~35 deg)
    min_turn_deg: float = 10.0  # a turn: rotation angle, at least
    max_turn_deg: float = 60.0  # a turn: rotation angle, at most (the views must overlap)
    max_axis_tilt_deg: float = 30.0  # a turn: angle between the rotation axis and the camera's vertical
    max_turn_translation_rel: float = 0.02  # a turn: translation / median depth, at most
    min_overlap: float = 0.4  # share of the first frame's scene points that are in view in the second
    overlap_stride: int = 8  # pixel stride of the points the overlap is measured on
    clip_frames: int = 4  # frames shown by the `clip` variant, first and last included
    max_pair_checks: int = 4  # candidate pairs whose overlap is measured per attempt


def relative_motion(pose_a: np.ndarray, pose_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, t): the second camera's rotation and position in the first camera's frame, from 4x4
    camera-to-world poses (or stacks of them, N x 4 x 4: then N x 3 x 3 and N x 3)."""
    ra, rb = pose_a[..., :3, :3], pose_b[..., :3, :3]
    ra_t = np.swapaxes(ra, -1, -2)
    return ra_t @ rb, (ra_t @ (pose_b[..., :3, 3] - pose_a[..., :3, 3])[..., None])[..., 0]


def motion_measures(rel_rot: np.ndarray, rel_t: np.ndarray, median_depth) -> dict:
    """What `classify_motion` decides from: rotation angle and signed turn about +y (degrees), axis tilt
    from the vertical (degrees), horizontal translation / median depth, the whole displacement (vertical too)
    / median depth, the translation's direction in the x-z plane (degrees, 0 = forward, +90 = right) and its
    vertical share. Floats for one motion (R 3 x 3), arrays for N."""
    r, t = np.asarray(rel_rot, dtype=np.float64), np.asarray(rel_t, dtype=np.float64)
    cos = np.clip((np.trace(r, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    theta = np.degrees(np.arccos(cos))
    axis = np.stack([r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]], -1)
    norm = np.linalg.norm(axis, axis=-1)
    rotating = norm >= 1e-12  # else no rotation (or exactly 180 degrees, far beyond every threshold)
    axis_y = np.where(rotating, axis[..., 1] / np.where(rotating, norm, 1.0), 1.0)
    horizontal = np.hypot(t[..., 0], t[..., 2])
    depth = np.asarray(median_depth, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertical = np.where(horizontal > 0, np.abs(t[..., 1]) / horizontal, np.inf)
    out = {
        "rotation_deg": theta,
        "turn_deg": np.where(rotating, theta * np.sign(axis_y), 0.0),
        "axis_tilt_deg": np.degrees(np.arccos(np.minimum(1.0, np.abs(axis_y)))),
        "translation_rel": horizontal / depth,
        "displacement_rel": np.linalg.norm(t, axis=-1) / depth,  # in every direction: what a turn must lack
        "direction_deg": np.degrees(np.arctan2(t[..., 0], t[..., 2])),
        "vertical_ratio": vertical,
    }
    return {k: float(v) for k, v in out.items()} if r.ndim == 2 else out


_AXES = {"forward": 0.0, "right": 90.0, "backward": 180.0, "left": -90.0}


def classify_motion(measures: dict, params: EgoMotionParams, *, with_depth: bool = True):
    """The motion (one of MOTIONS) the measures show unambiguously, or None; for array measures an object
    array of them. `with_depth=False` skips the conditions on `translation_rel` (a prefilter before any depth
    map is read)."""
    m = {k: np.asarray(v, dtype=np.float64) for k, v in measures.items()}
    p = params
    rel = m["translation_rel"]
    turn = (
        (p.min_turn_deg <= m["rotation_deg"])
        & (m["rotation_deg"] <= p.max_turn_deg)
        & (m["axis_tilt_deg"] <= p.max_axis_tilt_deg)
        & ((m["displacement_rel"] <= p.max_turn_translation_rel) if with_depth else True)
    )
    move = (
        ((rel >= p.min_translation_rel) if with_depth else True)
        & (m["rotation_deg"] <= p.max_move_rotation_deg)
        & (m["vertical_ratio"] <= p.max_vertical_ratio)
    )
    label = np.full(np.shape(rel), None, dtype=object)
    for name, axis in reversed(list(_AXES.items())):  # the first matching axis wins, as it is listed
        off = np.abs((m["direction_deg"] - axis + 180.0) % 360.0 - 180.0)
        label = np.where(move & (off <= p.max_direction_deg), name, label)
    label = np.where(turn, np.where(m["turn_deg"] > 0, "turn_right", "turn_left"), label)
    return label.item() if label.ndim == 0 else label


def view_overlap(depth_a: np.ndarray, rel_rot: np.ndarray, rel_t: np.ndarray, focal: float, stride: int) -> float:
    """Share of frame a's valid depth pixels (every `stride` px) that land inside frame b in front of its
    camera (occlusion is not modelled), with the principal point at the image centre."""
    h, w = depth_a.shape
    v, u = np.mgrid[stride // 2 : h : stride, stride // 2 : w : stride]
    z = depth_a[v, u]
    ok = np.isfinite(z) & (z > 0)
    if not ok.any():
        return 0.0
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    z = z[ok].astype(np.float64)
    pts = np.stack([(u[ok] - cx) * z / focal, (v[ok] - cy) * z / focal, z], axis=1)
    in_b = (pts - rel_t[None, :]) @ rel_rot  # p_b = R^T (p_a - t), as row vectors
    zb = in_b[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ub = focal * in_b[:, 0] / zb + cx
        vb = focal * in_b[:, 1] / zb + cy
    inside = (zb > 1e-6) & (ub >= -0.5) & (ub <= w - 0.5) & (vb >= -0.5) & (vb <= h - 0.5)
    return float(inside.mean())


def draw_ego_motion(rng: np.random.Generator, params: EgoMotionParams, variant: str) -> dict:
    """The question draw: the wanted motion, three distractors and the order of the four options."""
    motion = MOTIONS[int(rng.integers(len(MOTIONS)))]
    others = [m for m in MOTIONS if m != motion]
    picked = [others[i] for i in rng.choice(len(others), 3, replace=False)]
    shown = [motion, *picked]
    order = rng.permutation(4)
    return {"motion": motion, "options": [shown[i] for i in order]}


MAX_CANDIDATE_PAIRS = 20_000  # pairs classified per attempt: a long sequence is sampled, not enumerated
MAX_DEPTH_READS = 16  # depth maps read per attempt, whatever the pairs' outcome


def _candidates(source: FrameSequence, params: EgoMotionParams, rng: np.random.Generator) -> np.ndarray:
    """(N, 2) frame pairs (a, b), a first, `min_gap_frames`..`max_gap_frames` apart, both with a valid pose;
    at most MAX_CANDIDATE_PAIRS, from first frames drawn at random when the sequence would give more."""
    n = source.n_frames
    valid = np.all(np.isfinite(source.poses.reshape(n, -1)), axis=1)
    gaps = np.arange(params.min_gap_frames, params.max_gap_frames + 1)
    firsts = np.flatnonzero(valid)
    if len(firsts) * len(gaps) > MAX_CANDIDATE_PAIRS:
        firsts = np.sort(rng.choice(firsts, max(1, MAX_CANDIDATE_PAIRS // len(gaps)), replace=False))
    a = np.repeat(firsts, len(gaps))
    b = a + np.tile(gaps, len(firsts))
    keep = b < n
    keep[keep] &= valid[b[keep]]
    return np.stack([a[keep], b[keep]], axis=1)


def _steady(source: FrameSequence, shown: list[int], wanted: str, median: float, params: EgoMotionParams) -> bool:
    """For the clip variant: every shown frame, seen from the first, shows the wanted motion's kind and none
    of the ignored one, so the clip does not wander (left, turn, right) between two end points."""
    a = shown[0]
    for k in shown[1:]:
        m = motion_measures(*relative_motion(source.poses[a], source.poses[k]), median)
        if wanted.startswith("turn"):
            if m["displacement_rel"] > params.max_turn_translation_rel or m["axis_tilt_deg"] > params.max_axis_tilt_deg:
                return False
            if m["rotation_deg"] > 1.0 and (m["turn_deg"] > 0) != (wanted == "turn_right"):
                return False
        else:
            if m["rotation_deg"] > params.max_move_rotation_deg or m["vertical_ratio"] > params.max_vertical_ratio:
                return False
            off = abs((m["direction_deg"] - _AXES[wanted] + 180.0) % 360.0 - 180.0)
            if m["translation_rel"] > 0.01 and off > params.max_direction_deg:
                return False
    return True


def _question(variant: str, n_images: int, options: dict[str, str]) -> str:
    if variant == "two_frames":
        head = (
            "<image><image>\nThese two frames come from one camera: the first image was taken first, the "
            "second one a moment later. How did the camera move between the two?"
        )
    else:
        head = (
            "".join("<image>" for _ in range(n_images))
            + f"\nThese {n_images} frames of a short video are shown in the order they were filmed. How did "
            "the camera move from the first frame to the last?"
        )
    return f"{head}\nOptions:\n{format_options(options)}\nAnswer with the letter of the correct option."


def make_ego_motion(
    source: FrameSequence, rng: np.random.Generator, params: EgoMotionParams, variant: str, plan: dict | None = None
) -> Sample | Rejection:
    """Ego-motion: how the camera moved between two frames (forward, backward, sideways or turning)."""
    plan = plan if plan is not None else {**draw_ego_motion(rng, params, variant), "attempt": 0}
    if not source.has_poses or source.focal_px is None:
        return Rejection(TASK, "ego_motion.no_poses", f"{source.id} has no camera poses or focal length")
    wanted = plan["motion"]

    # 1. Geometry: pairs whose poses show the wanted motion unambiguously (median depth from frame a).
    pairs = _candidates(source, params, rng)
    if not len(pairs):
        return Rejection(TASK, "ego_motion.too_short", f"{source.n_frames} frames give no pair with valid poses")
    rel_rots, rel_ts = relative_motion(source.poses[pairs[:, 0]], source.poses[pairs[:, 1]])
    plausible = np.flatnonzero(  # decided by the poses alone, all pairs at once: no depth map read
        classify_motion(motion_measures(rel_rots, rel_ts, 1.0), params, with_depth=False) == wanted
    )
    checked, reads, best_overlap, found = 0, 0, 0.0, None
    depths: dict[int, tuple[np.ndarray, float]] = {}  # frame -> (depth, median): the last few read
    for i in plausible[rng.permutation(len(plausible))]:
        a, b = (int(x) for x in pairs[i])
        if a not in depths:
            if reads >= MAX_DEPTH_READS:
                break
            reads += 1
            depth_a = source.depths([a])[0]
            depths[a] = (depth_a, float(np.nanmedian(depth_a)) if np.isfinite(depth_a).any() else math.nan)
            if len(depths) > 4:
                depths.pop(next(iter(depths)))
        depth_a, median = depths[a]
        if not median > 0:
            continue
        measures = motion_measures(rel_rots[i], rel_ts[i], median)
        if classify_motion(measures, params) != wanted:
            continue
        shown = (
            [a, b]
            if variant == "two_frames"
            else sorted({int(round(x)) for x in np.linspace(a, b, params.clip_frames)})
        )
        if variant != "two_frames" and not _steady(source, shown, wanted, median, params):
            continue
        overlap = view_overlap(depth_a, rel_rots[i], rel_ts[i], source.focal_px, params.overlap_stride)
        checked += 1
        best_overlap = max(best_overlap, overlap)
        if overlap >= params.min_overlap:
            found = (shown, measures, overlap)
            break
        if checked >= params.max_pair_checks:
            break
    if not checked:
        return Rejection(TASK, "ego_motion.no_pair", f"no frame pair shows {wanted!r} unambiguously")
    if found is None:
        return Rejection(TASK, "ego_motion.no_overlap", f"best overlap {best_overlap:.2f} < {params.min_overlap}")

    # 2. Render: the two frames, or a short clip from a to b.
    shown, measures, overlap = found
    images = source.frames(shown)

    # 3. Question and answer.
    keys = letters(4)
    options = {k: MOTION_TEXT[m] for k, m in zip(keys, plan["options"], strict=True)}
    answer = keys[plan["options"].index(wanted)]
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=images,
        question=_question(variant, len(images), options),
        answer=answer,
        options=options,
        meta={
            "motion": wanted,
            "option_motions": dict(zip(keys, plan["options"], strict=True)),
            "frame_indices": shown,
            "videos": [] if variant == "two_frames" else [list(range(len(images)))],
            "image_names": ["the first frame", "the second frame"]
            if variant == "two_frames"
            else [f"frame {i + 1} of the clip" for i in range(len(images))],
            "fps": source.fps,
            "measures": {k: round(v, 4) if math.isfinite(v) else None for k, v in measures.items()},
            "margins": {"overlap": round(overlap, 3)},
        },
    )


# ---------------------------------------------------------------------------- cold start


def explain_ego_motion(row: dict, meta: dict) -> str:
    """Cold-start reasoning for an ego_motion sample, from the poses' measures (see ColdstartTemplate)."""
    motion, m = meta["motion"], meta["measures"]
    letter = next(k for k, v in meta["option_motions"].items() if v == motion)
    if letter != row["answer"]:
        raise ValueError(f"{row['id']}: meta gives {letter!r} but the answer is {row['answer']!r}")
    if motion.startswith("turn"):
        side = "right" if motion == "turn_right" else "left"
        how = (
            f"The whole view swings sideways while near and far things keep their relative places: the scene "
            f"slides to the {'left' if side == 'right' else 'right'} as one piece, with no parallax. That is a "
            f"rotation of about {abs(m['turn_deg']):.0f} degrees, the camera turning to its {side} on the spot."
        )
    elif motion in ("forward", "backward"):
        closer = motion == "forward"
        how = (
            f"Things ahead {'grow and spread outwards from the centre' if closer else 'shrink towards the centre'}"
            f", and near things change more than far ones: parallax along the viewing direction with no turn. "
            f"The camera moved {motion}."
        )
    else:
        how = (
            f"Near things slide to the {'left' if motion == 'right' else 'right'} faster than far things while "
            f"the direction of view stays the same: sideways parallax without a turn. The camera moved to its "
            f"{motion}."
        )
    return f"I compare the first and the last frame. {how} That is option {row['answer']}."


register_task(
    TASK,
    make_ego_motion,
    params=EgoMotionParams,
    variants={"two_frames": 1, "clip": 1},
    answer_type="choice",
    needs_depth=True,
    needs_video=True,
    coldstart=explain_ego_motion,
    draw=draw_ego_motion,
)
