"""The text of a log entry's frame, stamped with the entry's append time.

`encoded` (chat/protocol/outbound.py) makes one per entry and audience; the writer of every
socket that sends it observes the delivery latency, append to socket write, from the stamp
(chat/actors/frame_outbox.py write_frame). A `str` in every other respect: the socket sends it
as is.
"""

from __future__ import annotations


class EntryText(str):
    """A frame's text and `appended`, the entry's id time in epoch seconds."""

    appended: float

    @classmethod
    def of(cls, text: str, entry_id: str) -> EntryText:
        stamped = cls(text)
        # An entry id is `<ms>-<seq>`, the ms Valkey's clock when it was appended.
        stamped.appended = int(entry_id.partition("-")[0]) / 1000
        return stamped
