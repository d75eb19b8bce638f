"""Bodies and replies of the two-factor routes (chat/http/api/two_factor.py), in the OpenAPI
document like every route's."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from chat.http.bodies import _Body
from chat.http.replies import Agent, _Reply

TotpCode = Annotated[
    str, Field(min_length=6, max_length=16, description="6 digits from the authenticator app")
]
RecoveryCode = Annotated[
    str, Field(min_length=10, max_length=32, description="One of the recovery codes (xxxxx-xxxxx)")
]
CurrentPassword = Annotated[str, Field(max_length=1024)]


class SecondFactor(_Body):
    """Exactly one of `code` and `recovery_code`."""

    challenge_token: Annotated[str, Field(min_length=1, max_length=2048)] = Field(
        description="From the 401 two_factor_code_required of /auth/login (details)"
    )
    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None

    @model_validator(mode="after")
    def _one_code(self) -> SecondFactor:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code and recovery_code")
        return self


class ConfirmEnrolment(_Body):
    code: TotpCode


class ProveIdentity(_Body):
    """Exactly one of `code` (or `recovery_code`) and `password`: the account's owner, not only a
    holder of its access token, changes its second factor."""

    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None
    password: CurrentPassword | None = None

    @model_validator(mode="after")
    def _one_proof(self) -> ProveIdentity:
        given = [x for x in (self.code, self.recovery_code, self.password) if x is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of code, recovery_code and password")
        return self


class TwoFactorStatus(_Reply):
    enabled: bool = Field(description="Sign-ins of this agent ask for a code")
    pending: bool = Field(description="An enrolment waits for its first code")
    recovery_codes_left: int
    required: bool = Field(description="The organization requires two-factor sign-in")


class Enrolment(_Reply):
    secret: str = Field(description="Base32, for typing into an authenticator app")
    otpauth_uri: str = Field(description="otpauth://totp/... (what the QR code holds)")
    qr_code: str = Field(description="The URI as a QR code: an SVG data: URI for an <img>")


class RecoveryCodes(_Reply):
    recovery_codes: list[str] = Field(description="Shown this once: each works one time")


class Enrolled(RecoveryCodes):
    """Confirmed with an enrolment token: the agent is signed in too."""

    access_token: str | None = None
    refresh_token: str | None = None
    agent: Agent | None = None
