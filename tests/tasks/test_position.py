"""Position answers are checked against the geometric rule applied to the true 3-D points."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, Source, run_task
from spatial_ssrl.sources.synthetic import make_scene

# Facing phrase in the question -> (forward, right) as (x, z): written here independently of the task.
RULES = {
    "away from the camera": ((0, 1), (1, 0)),
    "toward the camera": ((0, -1), (-1, 0)),
    "toward the left side of the image": ((-1, 0), (0, 1)),
    "toward the right side of the image": ((1, 0), (0, -1)),
}


def _facing(question: str):
    found = [v for k, v in RULES.items() if f"facing {k}" in question]
    assert len(found) == 1
    return found[0]


def _oracle(scene, sample) -> tuple[str, float, float]:
    v, t = sorted(sample.meta["markers"], key=lambda m: m["label"])
    assert (v["label"], t["label"]) == ("1", "2")

    def xz(m):
        x0, y0, x1, y1 = m["box"]
        p = scene.points[y0:y1, x0:x1].reshape(-1, 3)
        return np.array([np.nanmedian(p[:, 0]), np.nanmedian(p[:, 2])])

    d = xz(t) - xz(v)
    fwd, right = (np.array(a, float) for a in _facing(sample.question))
    front, side = float(d @ fwd), float(d @ right)
    options = set(sample.options.values())
    if "Front" in options:  # cardinal: the dominant axis
        text = ("Front" if front > 0 else "Back") if abs(front) > abs(side) else ("Right" if side > 0 else "Left")
    else:
        text = f"{'Right' if side > 0 else 'Left'}-{'Front' if front > 0 else 'Back'}"
    return text, front, side


@settings(max_examples=30, deadline=None)
@given(
    scene_seed=st.integers(0, 10_000),
    seed=st.integers(0, 1000),
    known_focal=st.booleans(),
    size=st.sampled_from([(640, 480), (480, 360)]),
)
def test_answer_matches_geometric_rule_on_true_points(scene_seed, seed, known_focal, size):
    scene = make_scene(scene_seed, *size)
    src = scene.to_source("s")
    if not known_focal:  # the rule must hold for any plausible focal length
        src = Source("s", src.rgb, depth=src.depth, valid=src.valid, focal_px=None)
    for i in range(3):
        sample = run_task("position", src, seed=seed, index=i)
        if isinstance(sample, Rejection):
            assert sample.reason in ("position.no_clear_pair", "depth.too_few_regions", "markers.label_ambiguous")
            continue
        text, front, side = _oracle(scene, sample)
        assert sample.options[sample.answer] == text, (front, side, sample.meta)
        assert sample.meta["answer_text"] == text


def test_pixel_columns_and_metric_left_right_can_disagree():
    """Over many samples, some answers depend on depth: the target's pixel column is on one side but
    its metric X on the other. The task must follow the metric rule (checked above); here we check
    such cases occur, so the test above exercises them."""
    disagreements = 0
    for s in range(15):
        scene = make_scene(s, 480, 360)
        for i in range(6):
            sample = run_task("position", scene.to_source(f"s{s}"), seed=1, index=i)
            if isinstance(sample, Rejection):
                continue
            v, t = sorted(sample.meta["markers"], key=lambda m: m["label"])
            du = t["center"][0] - v["center"][0]
            pv, pt = (scene.points[round(m["center"][1]), round(m["center"][0])] for m in (v, t))
            disagreements += np.sign(du) != np.sign(pt[0] - pv[0])
    assert disagreements > 0


def test_every_facing_and_option_set_occurs():
    scene = make_scene(4, 480, 360)
    seen = set()
    for i in range(80):
        s = run_task("position", scene.to_source("s"), seed=0, index=i)
        if not isinstance(s, Rejection):
            seen.add((s.meta["facing"], s.variant))
    assert len(seen) == 8
