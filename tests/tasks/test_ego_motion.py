"""Ego-motion answers against the motion that generated the poses, rejection of ambiguous motion, mirroring."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, run_task
from spatial_ssrl.engine.sample import FrameSequence
from spatial_ssrl.sources.synthetic import camera_pose
from spatial_ssrl.sources.video import synthetic_path
from spatial_ssrl.tasks.ego_motion import (
    MIRRORED,
    EgoMotionParams,
    classify_motion,
    explain_ego_motion,
    motion_measures,
    relative_motion,
)
from tests.fixtures.stats import CHI2_999, chi_square

P = EgoMotionParams()
DEPTH = 4.0  # median scene depth of the flat test scene (metres)


def _pose_pair(yaw_a: float, pitch: float, heading: float, dist: float, turn: float) -> tuple[np.ndarray, np.ndarray]:
    """Camera a at the origin; camera b moved `dist` metres along the level direction `heading` degrees from
    a's facing (0 forward, 90 right) and turned by `turn` degrees about the vertical: the generating motion."""
    a = camera_pose((0.0, 0.0, 0.0), yaw_a, pitch)
    h = math.radians(yaw_a + heading)
    b = camera_pose((dist * math.sin(h), 0.0, dist * math.cos(h)), yaw_a + turn, pitch)
    return a, b


def _oracle(heading: float, dist: float, turn: float) -> str | None:
    """The motion a person would name from the generating parameters, or None when it is clearly ambiguous;
    "skip" near a threshold, where either outcome is allowed (the camera pitch tilts the measured direction)."""
    rel = dist / DEPTH
    margin = 1.25
    if (
        abs(turn) >= P.min_turn_deg * margin
        and abs(turn) <= P.max_turn_deg / margin
        and rel <= P.max_turn_translation_rel / margin
    ):
        return "turn_right" if turn > 0 else "turn_left"
    if abs(turn) <= P.max_move_rotation_deg / margin and rel >= P.min_translation_rel * margin:
        for name, axis in {"forward": 0, "right": 90, "backward": 180, "left": -90}.items():
            off = abs((heading - axis + 180) % 360 - 180)
            if off <= P.max_direction_deg - 8:
                return name
        if all(abs((heading - axis + 180) % 360 - 180) >= P.max_direction_deg + 8 for axis in (0, 90, 180, -90)):
            return None  # diagonal
        return "skip"
    clearly_mixed = rel >= P.max_turn_translation_rel * margin and abs(turn) >= P.max_move_rotation_deg * margin
    clearly_small = rel <= P.min_translation_rel / margin and abs(turn) <= P.min_turn_deg / margin
    return None if clearly_mixed or clearly_small else "skip"


@settings(max_examples=400, deadline=None)
@given(
    yaw_a=st.floats(-40, 40),
    pitch=st.floats(0, 20),
    heading=st.floats(-180, 180),
    dist=st.floats(0, 1.5),
    turn=st.floats(-70, 70),
)
def test_answers_follow_the_generating_motion_and_ambiguous_motion_is_refused(yaw_a, pitch, heading, dist, turn):
    expected = _oracle(heading, dist, turn)
    assume(expected != "skip")
    a, b = _pose_pair(yaw_a, pitch, heading, dist, turn)
    rot, t = relative_motion(a, b)
    got = classify_motion(motion_measures(rot, t, DEPTH), P)
    assert got == expected, (got, expected)


@settings(max_examples=200, deadline=None)
@given(heading=st.floats(-180, 180), dist=st.floats(0, 1.5), turn=st.floats(-70, 70), pitch=st.floats(0, 20))
def test_a_mirrored_sequence_flips_left_and_right(heading, dist, turn, pitch):
    a, b = _pose_pair(0.0, pitch, heading, dist, turn)
    mirror = np.diag([-1.0, 1.0, 1.0, 1.0])  # x -> -x in the world and in the camera
    ma, mb = mirror @ a @ mirror, mirror @ b @ mirror
    got = classify_motion(motion_measures(*relative_motion(a, b), DEPTH), P)
    mirrored = classify_motion(motion_measures(*relative_motion(ma, mb), DEPTH), P)
    assert mirrored == (MIRRORED[got] if got else None)


def _flat_sequence(poses: np.ndarray, depth: float = DEPTH) -> FrameSequence:
    """Frames that differ per index (so images can be matched) over a wall at constant depth."""
    n = len(poses)
    frames = [np.full((48, 64, 3), i * 5 % 256, np.uint8) for i in range(n)]
    return FrameSequence(
        "flat", n, 64, 48, read_frames=lambda idx: [frames[i] for i in idx], poses=poses, focal_px=60.0,
        read_depths=lambda idx: [np.full((48, 64), depth, np.float32) for _ in idx],
    )  # fmt: skip


@pytest.mark.parametrize("motion", ["forward", "backward", "left", "right", "turn_left", "turn_right"])
def test_task_answers_are_the_motion_of_the_shown_frames(motion):
    step = {"forward": (0, 0.1, 0), "backward": (180, 0.1, 0), "left": (-90, 0.1, 0), "right": (90, 0.1, 0),
            "turn_left": (0, 0.0, -2.0), "turn_right": (0, 0.0, 2.0)}[motion]  # fmt: skip
    poses = [camera_pose((0, 0, 0), 0, 10)]
    for _ in range(20):
        heading, dist, turn = step
        _, nxt = _pose_pair(0, 10, heading, dist, turn)
        poses.append(poses[-1] @ np.linalg.inv(camera_pose((0, 0, 0), 0, 10)) @ nxt)
    video = _flat_sequence(np.stack(poses))
    found = 0
    for index in range(40):
        sample = run_task("ego_motion", video, seed=0, index=index)
        if isinstance(sample, Rejection):
            continue
        found += 1
        assert sample.meta["motion"] == motion and sample.meta["option_motions"][sample.answer] == motion
        a, b = sample.meta["frame_indices"][0], sample.meta["frame_indices"][-1]
        assert classify_motion(motion_measures(*relative_motion(poses[a], poses[b]), DEPTH), P) == motion
        shown = [int(im[0, 0, 0]) // 5 for im in sample.images]  # the frames carry their index
        assert shown == sample.meta["frame_indices"] and shown == sorted(shown)
        assert explain_ego_motion({"id": "x", "answer": sample.answer}, sample.meta)
    assert found, "the wanted motion was drawn but never realised"


def test_no_overlap_is_rejected():
    """Turning 55 degrees in front of a wall 0.3 m away: the two views share nothing."""
    poses = np.stack([camera_pose((0, 0, 0), 0, 0), camera_pose((0, 0, 0), 55, 0)] * 2)
    video = _flat_sequence(poses, depth=0.3)
    params = EgoMotionParams(min_gap_frames=1)
    reasons = Counter()
    for index in range(30):
        r = run_task("ego_motion", video, seed=0, index=index, params=params)
        reasons[r.reason if isinstance(r, Rejection) else r.meta["motion"]] += 1
    assert reasons["ego_motion.no_overlap"] > 0 and "turn_right" not in reasons


def test_sources_without_poses_and_photos_are_refused():
    video = _flat_sequence(np.stack([np.eye(4)] * 5))
    video.poses = None
    assert run_task("ego_motion", video, seed=0).reason == "ego_motion.no_poses"
    from spatial_ssrl import Source

    assert run_task("ego_motion", Source("p", np.zeros((8, 8, 3), np.uint8)), seed=0).reason == "source.kind"


def test_synthetic_paths_give_verified_samples_deterministically():
    motions = Counter()
    fingerprints = []
    for seed in range(4):
        for run in range(2):
            video = synthetic_path(seed, 64, 48, 56)
            for index in range(6):
                for attempt in range(6):
                    s = run_task("ego_motion", video, seed=1, index=index, attempt=attempt)
                    if not isinstance(s, Rejection):
                        break
                if isinstance(s, Rejection):
                    continue
                fingerprints.append((run, seed, index, s.answer, tuple(np.asarray(s.images).ravel()[::97])))
                if run == 0:
                    motions[s.meta["motion"]] += 1
                    a, b = s.meta["frame_indices"][0], s.meta["frame_indices"][-1]
                    depth = video.depths([a])[0]
                    m = motion_measures(*relative_motion(video.poses[a], video.poses[b]), float(np.nanmedian(depth)))
                    assert classify_motion(m, P) == s.meta["motion"]
    first = [f[1:] for f in fingerprints if f[0] == 0]
    second = [f[1:] for f in fingerprints if f[0] == 1]
    assert first == second and len(first) >= 12
    assert len(motions) >= 4


def test_answer_letters_are_uniform():
    poses = np.stack([camera_pose((0, 0, 0.1 * i), 0, 5) for i in range(20)])
    video = _flat_sequence(poses)
    params = EgoMotionParams()
    counts = Counter()
    for index in range(2000):
        s = run_task("ego_motion", video, seed=0, index=index, params=params)
        if not isinstance(s, Rejection):
            counts[s.answer] += 1
    assert sum(counts.values()) > 250  # forward is drawn one time in six
    assert chi_square(counts, list("ABCD")) < CHI2_999[3], counts


def test_a_turn_while_rising_is_not_a_turn_on_the_spot():
    a = camera_pose((0, 0, 0), 0, 10)
    b = camera_pose((0, -1.5, 0), 30, 10)  # y is down: 1.5 m up
    assert classify_motion(motion_measures(*relative_motion(a, b), DEPTH), P) is None


def test_the_clip_variant_refuses_a_wandering_path():
    """Left, then a turn right, then right: the end points say "turned right", the clip shows sideways moves."""
    poses = [camera_pose((-0.1 * i, 0, 0), 0, 0) for i in range(8)]
    poses += [camera_pose((-0.7, 0, 0), 3.0 * i, 0) for i in range(1, 9)]
    poses += [camera_pose((-0.7 + 0.1 * i * math.cos(math.radians(24)), 0, -0.1 * i * math.sin(math.radians(24))),
                          24, 0) for i in range(1, 8)]  # fmt: skip
    video = _flat_sequence(np.stack(poses))
    params = EgoMotionParams(max_gap_frames=30, min_gap_frames=20)
    for index in range(30):
        s = run_task("ego_motion", video, seed=0, index=index, variant="clip", params=params)
        if not isinstance(s, Rejection):
            assert s.meta["motion"] not in ("turn_right", "turn_left"), s.meta
