"""Two-factor sign-in in the console: the admin enrols on the Security page (the key read off
the page, the codes computed here with tests/helpers/totp.py, not the server's library), signs
out, signs in with a code and then with a recovery code, requires it for everyone, and an agent
without it is walked through enrolment by the sign-in page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Service
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import add_agent, rest
from tests.helpers.chat import PASSWORD
from tests.helpers.totp import totp

QR_DRAWN = "(img) => img.complete && img.naturalWidth > 0"


def _fill_sign_in(console: Console, email: str) -> None:
    console.signin.locator("input[name=email]").fill(email)
    console.signin.locator("input[name=password]").fill(PASSWORD)
    console.signin.locator("button[type=submit]").click()


def _enrol(console: Console) -> tuple[str, list[str]]:
    """Enrol from the enrol part on the page: the key, the recovery codes shown once."""
    console.part("enrol-start").click()
    qr = console.page.locator("#console img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate(QR_DRAWN)
    secret = console.part("enrol-secret").inner_text().strip()
    form = console.page.locator("#console form[data-part=enrol]")
    form.locator("input[name=code]").fill("000000" if totp(secret) != "000000" else "111111")
    form.locator("button[type=submit]").click()
    expect(console.part("enrol-error")).to_contain_text("wrong")
    form.locator("input[name=code]").fill(totp(secret))
    form.locator("button[type=submit]").click()
    codes = console.part("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    shown = [text.strip() for text in codes.all_inner_texts()]
    console.part("recovery-done").click()
    return secret, shown


def test_enrol_sign_out_and_sign_in_with_a_code_then_require_it(
    service: Service, consoles: Consoles
) -> None:
    org = service.org
    email = org.agent["email"]
    ada = consoles.new(service.base).sign_in(email, PASSWORD)
    ada.part("nav-security").click()
    # Requiring it before having it is refused, and the switch says so (a click: check() would
    # insist on the state the refusal takes back).
    ada.part("require-two-factor").click()
    expect(ada.part("security-error")).to_contain_text("enrol in two-factor sign-in")
    expect(ada.part("require-two-factor")).not_to_be_checked()
    expect(ada.part("require-state")).to_have_text("Off")
    secret, codes = _enrol(ada)
    expect(ada.part("codes-left")).to_have_text("Recovery codes left: 10")

    # Signed out, the password alone is not enough: the page asks for the code.
    ada.part("signout").click()
    _fill_sign_in(ada, email)
    step = ada.page.locator("#console form[data-part=second-factor]")
    step.locator("input[name=code]").fill(totp(secret, steps_ahead=1))
    step.locator("button[type=submit]").click()
    expect(ada.signin).to_have_count(0)
    ada.connected()

    # And with a recovery code instead.
    ada.part("signout").click()
    _fill_sign_in(ada, email)
    step.get_by_role("button", name="Use a recovery code").click()
    step.locator("input[name=code]").fill(codes[0])
    step.locator("button[type=submit]").click()
    ada.connected()

    # The admin requires it for everyone.
    ada.part("nav-security").click()
    expect(ada.part("codes-left")).to_have_text("Recovery codes left: 9")
    expect(ada.part("require-state")).to_have_text("Off")
    ada.part("require-two-factor").check()
    expect(ada.part("require-state")).to_have_text("On")  # once the PATCH succeeded
    found = rest(org, "GET", "/organization")
    assert found.body["require_two_factor"] is True, found.body

    # An agent without a second factor is walked through enrolment at sign-in, then is in.
    bea_agent, bea_email = add_agent(org, "Bea")
    bea = consoles.new(service.base)
    _fill_sign_in(bea, bea_email)
    expect(bea.part("enrol-required")).to_be_visible()
    _enrol(bea)
    bea.connected()

    # Bea lost her device: Ada resets her from the Agents page; Bea's console is signed out,
    # and her next sign-in walks her through enrolling again (the organization requires it).
    ada.part("nav-agents").click()
    row = ada.page.locator(f"#console [data-part=agent-row][data-agent-id='{bea_agent['id']}']")
    row.locator("[data-part=agent-reset-two-factor]").click()
    expect(row).to_contain_text("Two-factor sign-in reset.")
    assert any("two-factor" in text for text in ada.watch.confirms)
    expect(bea.signin).to_be_visible()
    _fill_sign_in(bea, bea_email)
    expect(bea.part("enrol-required")).to_be_visible()
