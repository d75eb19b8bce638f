"""The console's Reports page (console/src/ui/ReportsPage.tsx) in Chromium, on the hand-computed
fixture of tests/helpers/report_fixture.py: an admin sees the window's figures, one bar per day,
the breakdown by agent and downloads the CSV; a plain agent sees their own figures only."""

from __future__ import annotations

from pathlib import Path

import trio
from playwright.sync_api import expect

from chat.config import Settings
from tests.browser.conftest import Service
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import no_errors, sign_in_admin
from tests.helpers.chat import PASSWORD
from tests.helpers.report_fixture import FIRST_DAY, LAST_DAY, TIME_ZONE, set_up


def _window(console: Console) -> None:
    console.part("nav-reports").click()
    expect(console.part("reports-page")).to_be_visible()
    console.part("report-from").fill(FIRST_DAY)
    console.part("report-to").fill(LAST_DAY)


def test_reports_show_the_figures_by_day_and_agent_and_download_csv(
    service: Service, consoles: Consoles, settings: Settings, artifacts: Path
) -> None:
    bob, _, ids = trio.run(set_up, service.org, settings.database_url)
    ada = sign_in_admin(consoles, service)
    _window(ada)
    # The fixture's totals (EXPECTED_TOTAL), as people read them.
    for part, text in {
        "opened": "7",
        "answered": "4",
        "missed": "2",
        "closed": "5",
        "frt-median": "1 min 30 s",  # 90 s
        "frt-p90": "7 min 36 s",  # 456 s
        "resolution-median": "40 min",  # 2400 s
        "resolution-p90": "2 h 24 min",  # 8664 s
        "messages": "2.71",
        "satisfaction": "50% of 2",  # t1 good, t3 bad
    }.items():
        expect(ada.part(f"total-{part}")).to_have_text(text)
    expect(ada.part("report-scope")).to_contain_text(f"days in {TIME_ZONE}")
    # One bar per Paris day, each the day's conversations opened.
    bars = ada.page.locator("#console [data-part=chart-opened] [data-part=bar]")
    expect(bars).to_have_count(4)
    assert [bars.nth(i).get_attribute("data-value") for i in range(4)] == ["1", "2", "2", "2"]

    ada.part("report-by").select_option("agent")
    rows = ada.part("breakdown-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Ada")
    expect(rows.nth(1)).to_contain_text("Bob")
    expect(rows.nth(2)).to_contain_text("Unassigned")
    ada.page.screenshot(path=str(artifacts / "reports-page.png"), full_page=True)

    with ada.page.expect_download() as download:
        ada.part("report-csv").click()
    saved = Path(download.value.path())
    lines = saved.read_text().splitlines()
    assert download.value.suggested_filename == f"conversations-{FIRST_DAY}-{LAST_DAY}.csv"
    assert lines[0].startswith("agent_id,name,opened,")
    assert lines[1].startswith(f"{ids.agents['a']},Ada,3,")
    no_errors(ada)

    # Bob, a plain agent: the page is his too, with his own conversations only.
    bee = consoles.new(service.base).sign_in(bob.agent["email"], PASSWORD)
    _window(bee)
    expect(bee.part("total-opened")).to_have_text("2")
    expect(bee.part("total-missed")).to_have_text("1")
    expect(bee.part("report-scope")).to_contain_text("Your conversations")
    expect(bee.part("report-agent")).to_have_count(0)
    no_errors(bee)
