"""The limits of a visitor's context from the host page (structures.md, "Visitor context"):
`ChatWidget.identify({attributes})` and the browser's locale and time zone.

Attributes are unverified: any script on the host page can set them, so agents see them marked
as such and nothing checks them against anything. The bounds keep one visitor's row small.
"""

from __future__ import annotations

import orjson

from chat.errors import InvalidError, TooLongError

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 512
# The attribute set as JSON, in bytes.
MAX_ATTRIBUTES_BYTES = 8 * 1024
Scalar = str | int | float | bool | None


def check_attributes(attributes: dict[str, Scalar]) -> str:
    """The attribute set as compact JSON, within the bounds; TooLongError (naming which bound)
    or InvalidError otherwise. Keys are trimmed and must be non-empty."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise TooLongError(f"attributes: at most {MAX_ATTRIBUTES} keys")
    cleaned: dict[str, Scalar] = {}
    for raw_key, value in attributes.items():
        key = raw_key.strip()
        if not key:
            raise InvalidError("attributes: a key is empty")
        if len(key) > MAX_ATTRIBUTE_KEY_CHARS:
            raise TooLongError(
                f"attributes: key {key[:20]!r}... is longer than {MAX_ATTRIBUTE_KEY_CHARS}"
            )
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_VALUE_CHARS:
            raise TooLongError(
                f"attributes: the value of {key!r} is longer than {MAX_ATTRIBUTE_VALUE_CHARS}"
            )
        if isinstance(value, float) and value != value:  # NaN cannot be JSON
            raise InvalidError(f"attributes: the value of {key!r} is not a number")
        cleaned[key] = value
    encoded = orjson.dumps(cleaned)
    if len(encoded) > MAX_ATTRIBUTES_BYTES:
        raise TooLongError(f"attributes: more than {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    return encoded.decode()
