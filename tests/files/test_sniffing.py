from __future__ import annotations

import pytest

from chat.errors import FileTooLargeError, FileTypeNotAllowedError, InvalidError
from chat.files.sniffing import check_file, sniff
from tests.files.images import HTML, PDF, SVG, png

ALL = frozenset({"image", "pdf", "text"})


def test_types_come_from_the_bytes() -> None:
    assert sniff(png()) is not None and sniff(png()).content_type == "image/png"  # type: ignore[union-attr]
    assert sniff(PDF).content_type == "application/pdf"  # type: ignore[union-attr]
    assert sniff("héllo, plain text\n".encode()).content_type == "text/plain"  # type: ignore[union-attr]


@pytest.mark.parametrize("payload", [HTML, SVG, b"  <html><p>hi", b"\x00\x01\x02binary"])
def test_markup_and_unknown_bytes_are_never_a_served_type(payload: bytes) -> None:
    assert sniff(payload) is None
    with pytest.raises(FileTypeNotAllowedError):
        check_file(payload, max_bytes=1 << 20, kinds=ALL)


def test_limits() -> None:
    with pytest.raises(FileTooLargeError):
        check_file(png(64), max_bytes=100, kinds=ALL)
    with pytest.raises(FileTypeNotAllowedError):
        check_file(PDF, max_bytes=1 << 20, kinds=frozenset({"image"}))
    with pytest.raises(InvalidError):
        check_file(b"", max_bytes=1 << 20, kinds=ALL)
