"""An RFC 6238 TOTP of the tests' own (hmac and struct, as the RFC's reference code does), so
the tests check the server's codes against an implementation other than the one it uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30


def hotp(key: bytes, counter: int, digits: int = 6, digest: str = "sha1") -> str:
    """RFC 4226: HMAC of the big-endian counter, dynamic truncation, the low decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    (number,) = struct.unpack(">I", mac[offset : offset + 4])
    return str((number & 0x7FFFFFFF) % 10**digits).zfill(digits)


def totp(secret_base32: str, at: float | None = None, *, steps_ahead: int = 0) -> str:
    """The 6-digit code of a base32 secret at `at` (now), `steps_ahead` 30-s steps later."""
    padded = secret_base32.upper() + "=" * (-len(secret_base32) % 8)
    key = base64.b32decode(padded)
    step = int((time.time() if at is None else at) // STEP_SECONDS) + steps_ahead
    return hotp(key, step)
