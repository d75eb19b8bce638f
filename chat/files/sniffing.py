"""What an uploaded file is, from its bytes alone: the declared type and the name are never
trusted (a `.png` holding HTML is HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import puremagic

from chat.errors import FileTooLargeError, FileTypeNotAllowedError, InvalidError

FileKind = Literal["image", "pdf", "text"]

# The only media types a file is ever stored and served as. HTML, SVG (which carries script),
# XML and everything else detected is refused whatever the space allows.
_KIND_OF_TYPE: dict[str, FileKind] = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    "application/pdf": "pdf",
    "text/plain": "text",
}
# Markup at the start of a "text" file: puremagic knows most HTML, these catch the rest so a
# page never passes as plain text (it would still be served as an attachment, with nosniff).
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body")


@dataclass(frozen=True, slots=True)
class Sniffed:
    content_type: str
    kind: FileKind

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


def sniff(data: bytes) -> Sniffed | None:
    """The file's type from its magic bytes; None when it is none of the types ever served."""
    try:
        found = puremagic.from_string(data, mime=True)
    except puremagic.PureError:
        found = ""
    if found in _KIND_OF_TYPE and found != "text/plain":
        return Sniffed(found, _KIND_OF_TYPE[found])
    if found:
        return None  # detected, and not a type we serve (text/html, image/svg+xml, ...)
    return Sniffed("text/plain", "text") if _is_plain_text(data) else None


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = text.lstrip("\ufeff \t\r\n")[:64].lower().encode()
    return not head.startswith(_MARKUP_STARTS)


def check_file(data: bytes, *, max_bytes: int, kinds: frozenset[str]) -> Sniffed:
    """The sniffed type of an upload its space accepts; FileTooLargeError, InvalidError (empty)
    or FileTypeNotAllowedError otherwise."""
    if not data:
        raise InvalidError("the file is empty")
    if len(data) > max_bytes:
        raise FileTooLargeError(f"files may be at most {max_bytes} bytes", max_bytes=max_bytes)
    found = sniff(data)
    if found is None or found.kind not in kinds:
        allowed = ", ".join(sorted(kinds))
        raise FileTypeNotAllowedError(f"this file's content is not of an allowed kind ({allowed})")
    return found
