"""chat/auth/totp.py against the tests' own RFC 6238 code: steps and drift, sealing, recovery
codes; and the pending tokens, which are never access tokens."""

from __future__ import annotations

import pytest

from chat.auth import totp
from chat.auth.pending_tokens import (
    CHALLENGE,
    ENROLMENT,
    PendingClaims,
    check_pending_token,
    issue_pending_token,
)
from chat.auth.tokens import check_access_token
from chat.errors import UnauthorizedError
from tests.helpers.totp import totp as reference_totp

KEY = "unit-test-secret-key-0123456789abcdef"
NOW = 1_800_000_015.0  # 15 s into a step


def test_a_code_matches_its_step_within_one_step_of_drift() -> None:
    secret = totp.new_secret()
    step = int(NOW // 30)
    for offset in (-1, 0, 1):
        code = reference_totp(secret, NOW, steps_ahead=offset)
        assert totp.matching_step(secret, code, NOW) == step + offset
    for offset in (-2, 2):
        assert (
            totp.matching_step(secret, reference_totp(secret, NOW, steps_ahead=offset), NOW) is None
        )
    spaced = reference_totp(secret, NOW)
    assert totp.matching_step(secret, f"{spaced[:3]} {spaced[3:]}", NOW) == step
    for malformed in ("", "12345", "1234567", "abcdef"):
        assert totp.matching_step(secret, malformed, NOW) is None


def test_a_sealed_secret_opens_only_for_its_agent_and_key() -> None:
    secret = totp.new_secret()
    sealed = totp.seal_secret(KEY, "agent-a", secret)
    assert secret.encode() not in sealed
    assert totp.open_secret(KEY, "agent-a", sealed) == secret
    assert totp.seal_secret(KEY, "agent-a", secret) != sealed  # a fresh nonce each time
    with pytest.raises(totp.SealError):
        totp.open_secret(KEY, "agent-b", sealed)
    with pytest.raises(totp.SealError):
        totp.open_secret("another-secret-key-0123456789abcdef", "agent-a", sealed)


def test_recovery_codes_are_fresh_and_hashed_per_agent() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == totp.RECOVERY_CODES
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    digest = totp.recovery_code_hash(KEY, "agent-a", codes[0])
    assert totp.recovery_code_hash(KEY, "agent-a", codes[0].upper().replace("-", " ")) == digest
    assert totp.recovery_code_hash(KEY, "agent-b", codes[0]) != digest
    assert totp.recovery_code_hash(KEY + "x", "agent-a", codes[0]) != digest


def test_pending_tokens_are_of_one_kind_and_never_access_tokens() -> None:
    claims = PendingClaims("agent-a", "org-a")
    challenge = issue_pending_token(KEY, CHALLENGE, claims)
    assert check_pending_token(KEY, CHALLENGE, challenge) == claims
    with pytest.raises(UnauthorizedError):
        check_pending_token(KEY, ENROLMENT, challenge)
    with pytest.raises(UnauthorizedError):
        check_access_token(KEY, challenge)
    with pytest.raises(UnauthorizedError):
        check_pending_token("another-secret-key-0123456789abcdef", CHALLENGE, challenge)
