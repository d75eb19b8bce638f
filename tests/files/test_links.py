from __future__ import annotations

from chat.files.links import link_valid, sign_link

SECRET = "s" * 40
FILE = "6f1c6a52-9a8e-4d8e-8f57-0e4a1f0f7a11"
OTHER = "0b0e7d0e-2d4c-4b8e-9d8c-3a3f2a1b1c11"


def test_a_link_names_one_file_until_one_moment() -> None:
    expires, sig = sign_link(SECRET, FILE, 1000, 300)
    assert expires == 1300
    assert link_valid(SECRET, FILE, expires, sig, 1300)
    assert not link_valid(SECRET, FILE, expires, sig, 1301)  # expired
    assert not link_valid(SECRET, OTHER, expires, sig, 1000)  # another file
    assert not link_valid(SECRET, FILE, expires + 3600, sig, 1000)  # expiry pushed back
    assert not link_valid("t" * 40, FILE, expires, sig, 1000)  # another key
