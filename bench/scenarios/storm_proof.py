"""Storm's proof: per visitor and repeat, the agent messages it received after its `last`
(welcome history plus live frames) are exactly the ids the agent's acks returned for its
thread, in order. Gaps (an expected id missing) and doubles (an id seen twice) are counted,
never hidden.

Each load process compares its visitors (`compare`, in `Crowd.verify`); the coordinator adds
the processes' figures up (`merge`) and keeps the proof's part in the repeat (`figures`).
"""

from __future__ import annotations

from typing import Any

# How long a repeat waits for every visitor to have every expected message; past it the missing
# ones are counted as gaps.
VERIFY_TIMEOUT_SECONDS = 30.0
# After the last expected message arrived: a late double would show within this.
DOUBLE_GRACE_SECONDS = 0.5
# What a verify counts over a load process's visitors (`incomplete`: still waiting at the end).
COUNTED = ("gaps", "doubles", "extra", "out_of_order", "incomplete")


def compare(want: list[str], got: list[str]) -> dict[str, int]:
    """One visitor: the acked ids of its thread (`want`) against the agent message ids it
    received, in arrival order (`got`)."""
    firsts = list(dict.fromkeys(i for i in got if i in set(want)))
    return {
        "gaps": len(set(want) - set(got)),
        "doubles": len(got) - len(set(got)),
        "extra": len(set(got) - set(want)),
        "out_of_order": int(firsts != [i for i in want if i in set(got)]),
    }


def merge(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """The load processes' verify replies as one: counts added, lists joined."""
    merged: dict[str, Any] = {}
    for reply in replies:
        for key, value in reply.items():
            merged[key] = merged.get(key, [] if isinstance(value, list) else 0) + value
    return merged


def figures(verified: dict[str, Any], posted: int) -> dict[str, Any]:
    """The proof's figures for a repeat's record: `verified` (merged) against `posted`."""
    keys = ("gaps", "doubles", "extra", "out_of_order", "incomplete", "errors", "wrong_thread")
    return {
        **{key: verified[key] for key in keys},
        "posted": posted,
        "received": verified["received"],
        "via_history": verified["via_history"],
    }
