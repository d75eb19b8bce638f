"""TOTP second factor (RFC 6238 through pyotp): secrets sealed at rest, codes checked by time
step, recovery codes hashed with a key of their own. Plain computation, no I/O.

- A secret is 160 random bits (RFC 4226's recommended length), base32 as authenticator apps
  take it. It is stored sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
  server's `secret_key`, with the agent id as associated data, so a copied row cannot be moved
  to another agent and a database dump alone does not yield the secrets. Changing `secret_key`
  outright therefore voids every enrolment (the agents must be reset: `chat reset-two-factor`);
  `chat rotate-secret`'s grace period does not: a secret sealed under a previous key opens and
  is sealed anew under the new one at the agent's next code, and recovery codes made before the
  rotation work until the grace period ends.
- A code is matched against the steps now-1, now and now+1 (30 s each: a phone's clock may be
  a little off) and the step it matched is returned, so the caller can refuse any step not later
  than the last one accepted: a code works once.
- Recovery codes are 10 characters of a 32-letter alphabet (50 bits): too many to guess within
  the attempt budget, so an HMAC (not a slow password hash) is enough, and it lets the database
  find the code by its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER = "chat"
DIGITS = 6
STEP_SECONDS = 30
# Steps either side of now that are accepted: one, as RFC 6238 section 5.2 recommends at most.
DRIFT_STEPS = 1
SECRET_BYTES = 20
RECOVERY_CODES = 10
RECOVERY_CODE_CHARS = 10
# Crockford-like: no 0/O or 1/I/L to misread when typing a code from paper.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_SEALED_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealError(Exception):
    """A sealed secret that does not open: another secret_key, or a damaged row."""


def _derive(secret_key: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, independent of the JWT key and of each other."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"chat two-factor v1", info=purpose)
    return hkdf.derive(secret_key.encode())


def new_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32(length=SECRET_BYTES * 8 // 5)


def seal_secret(secret_key: str, agent_id: str, secret: str) -> bytes:
    aead = AESGCM(_derive(secret_key, b"totp secret"))
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return _SEALED_VERSION + nonce + aead.encrypt(nonce, secret.encode(), agent_id.encode())


def open_secret(secret_key: str, agent_id: str, sealed: bytes) -> str:
    """The secret sealed for this agent; SealError when it does not open."""
    if sealed[:1] != _SEALED_VERSION:
        raise SealError("unknown sealed secret version")
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    aead = AESGCM(_derive(secret_key, b"totp secret"))
    try:
        return aead.decrypt(nonce, body, agent_id.encode()).decode()
    except InvalidTag as exc:
        raise SealError("the secret does not open with this secret_key") from exc


def open_secret_any(secret_keys: Sequence[str], agent_id: str, sealed: bytes) -> tuple[str, int]:
    """The secret, and the index of the key of `secret_keys` that opened it: during a
    SECRET_KEY rotation's grace period a secret sealed under a previous key still opens (and
    the caller seals it anew under the first)."""
    for index, secret_key in enumerate(secret_keys):
        try:
            return open_secret(secret_key, agent_id, sealed), index
        except SealError:
            continue
    raise SealError("the secret does not open with any key that verifies")


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code or typed)."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    return totp.provisioning_uri(name=account, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The URI as a QR code: an SVG `data:` URI, for an <img> (where an SVG runs nothing)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4, dark="#000", light="#fff"))


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (within DRIFT_STEPS of now) whose code `code` is, else None. Compares in
    constant time; a code of the wrong shape matches nothing."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate
    return found


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, as shown to the agent (`xxxxx-xxxxx`)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_CHARS))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    """What was typed, as stored: lower case, without spaces or dashes."""
    return "".join(ch for ch in code.lower() if ch not in " -")


def recovery_code_hash(secret_key: str, agent_id: str, code: str) -> bytes:
    """The keyed hash stored for a recovery code of this agent."""
    key = _derive(secret_key, b"recovery code")
    message = f"{agent_id}:{normalise_recovery_code(code)}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()
