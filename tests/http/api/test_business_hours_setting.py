"""The business hours setting over REST and in the widget config (chat/http/api/spaces.py,
chat/http/api/widget.py): validated (422 naming the field), stored as sent, cleared by null, and
served to the widget as the verdict and the open intervals ahead."""

from __future__ import annotations

import trio

from tests.helpers.chat import ORIGIN, make_org
from tests.helpers.http import call

HOURS = {
    "timezone": "Pacific/Kiritimati",  # UTC+14: whatever the test machine's zone
    "weekly": {
        "mon": [{"open": "09:00", "close": "17:00"}],
        "sat": [{"open": "22:00", "close": "02:00"}],
    },
    "away_message": "Back soon",
}


async def test_hours_are_validated_stored_served_and_cleared(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        space = f"{base_url}/api/v1/spaces/{org.space['id']}"
        config_url = f"{base_url}/api/v1/widget/{org.space['widget_key']}/config"
        before = await call("GET", config_url, origin=ORIGIN)
        assert before.body["hours"] is None

        bad = {**HOURS, "timezone": "Europe/Atlantis"}
        refused = await call("PATCH", space, {"settings": {"business_hours": bad}}, token=org.token)
        assert refused.status == 422, refused.body
        assert "timezone" in str(refused.body["error"].get("details"))

        stored = await call(
            "PATCH", space, {"settings": {"business_hours": HOURS}}, token=org.token
        )
        assert stored.status == 200, stored.body
        assert stored.body["settings"]["business_hours"] == HOURS

        async def served() -> dict:  # type: ignore[type-arg]
            while True:  # the space cache drops its copy a moment after the PATCH
                got = await call("GET", config_url, origin=ORIGIN)
                if got.body["hours"] is not None:
                    return dict(got.body["hours"])
                await trio.sleep(0.05)

        hours = await served()
        assert hours["away_message"] == "Back soon" and hours["timezone"] == "Pacific/Kiritimati"
        assert isinstance(hours["open"], bool)
        # 8 days ahead: two Mondays at most and two Saturday nights at most, as UTC ms pairs.
        assert 2 <= len(hours["intervals"]) <= 4
        assert all(start < end for start, end in hours["intervals"])

        cleared = await call(
            "PATCH", space, {"settings": {"business_hours": None}}, token=org.token
        )
        assert cleared.status == 200 and cleared.body["settings"]["business_hours"] is None
