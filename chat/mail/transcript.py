"""The transcript a visitor asks to be emailed (structures.md, "Transcripts and export"): one
plain-text mail of the conversation's messages, as the visitor's download has them (messages
only: private notes live elsewhere and never reach a transcript).

Built with the standard library's `email` package: its default policy refuses a header with a
line break in it, and the address is parsed as one address (no header injection through the
visitor's email or the space's name). The text is bounded: past MAX_TRANSCRIPT_MAIL_CHARS it is
cut, and says so (the download has the whole conversation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from chat.mail.compose import BadAddressError

# A long live chat is a few tens of KB of text; a mailbox takes this comfortably.
MAX_TRANSCRIPT_MAIL_CHARS = 200_000
CUT_NOTE = "(The transcript is cut here: download it from the chat for the whole conversation.)"


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    created_at: str
    sender_name: str
    content: str


def transcript_text(space_name: str, lines: list[TranscriptLine], truncated: bool) -> str:
    """The mail's body: a header line, then one entry per message, cut to the bound."""
    head = f"Your conversation with {space_name}\n\n"
    parts = [head]
    used = len(head)
    cut = truncated
    for line in lines:
        entry = f"[{line.created_at}] {line.sender_name}:\n{line.content}\n\n"
        if used + len(entry) > MAX_TRANSCRIPT_MAIL_CHARS:
            cut = True
            break
        parts.append(entry)
        used += len(entry)
    if cut:
        parts.append(CUT_NOTE + "\n")
    return "".join(parts)


def compose_transcript(
    *, space_name: str, from_address: str, to: str, domain: str, text: str, now_ms: int
) -> EmailMessage:
    """The mail to `to`. BadAddressError when `to` (or the From) is not one address."""
    msg = EmailMessage()
    msg["From"] = _address(space_name, from_address)
    msg["To"] = _address("", to)
    msg["Subject"] = f"Your conversation with {space_name}".replace("\r", " ").replace("\n", " ")
    msg["Date"] = format_datetime(datetime.fromtimestamp(now_ms / 1000, UTC))
    msg["Message-ID"] = make_msgid("transcript", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    return msg


def _address(display_name: str, addr_spec: str) -> Address:
    try:
        address = Address(display_name=display_name, addr_spec=addr_spec)
    except (ValueError, IndexError) as exc:  # the email package's parser raises both
        raise BadAddressError(f"not a mail address: {exc}") from exc
    if any(c in addr_spec for c in "\r\n,;<>"):
        raise BadAddressError("one plain address only")
    return address
