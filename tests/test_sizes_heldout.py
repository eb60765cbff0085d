"""The size assistant on a held-out set: 60 phrasings written by someone who never saw the
parser or its corpus (`tests/heldout_sizes.json`). Nothing is tuned on it: the floor below is
what the parser scored when the set was written (51 of 60), so it catches regressions, and the
misses are left as they are (reported in the closing note)."""

from __future__ import annotations

import json
from pathlib import Path

from common.shop import sizes

HELD_OUT = json.loads((Path(__file__).parent / "heldout_sizes.json").read_text())
FLOOR = 51


def test_the_held_out_phrasings_are_understood_at_least_as_well_as_when_written() -> None:
    right = 0
    for case in HELD_OUT:
        update = sizes.interpret(
            case["message"], available=case["available"], current=case["current"]
        )
        got = dict(update.sizes) if update.sizes is not None else None
        right += got == case["expected"]
    print(f"held-out: {right} of {len(HELD_OUT)}")
    assert len(HELD_OUT) == 60
    assert right >= FLOOR
