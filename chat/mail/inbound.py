"""Reading a visitor's reply (structures.md, "Email"): which thread it answers, its Message-ID,
and its new text without the quoted mail below it.

Quote stripping is a small heuristic rather than a library: the maintained candidates on PyPI
either were last released years ago (email-reply-parser, 2020) or are not packaged for this
environment, and our own mail helps: it starts with REPLY_ABOVE_MARKER, so the reply is what
comes before the quoted marker whatever the client. Otherwise the text is cut at the first line
that starts a quote in the common clients ("On ... wrote:", Outlook's "-----Original
Message-----" or "From:" block, a run of ">" lines) and at a signature separator ("-- ").
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

from chat.mail.addresses import thread_of_reply_address
from chat.mail.compose import REPLY_ABOVE_MARKER

# Where a forwarded mail may name the reply address: the headers the sender wrote, and those a
# delivering server adds for the envelope recipient (Postfix, Exim, most providers).
ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
# Lines scanned for the quote's start: a reply is short; past this the rest is kept as is.
MAX_SCANNED_LINES = 2000
_QUOTE_HEADER = re.compile(
    r"^(On\s.+wrote:|On\s.+$|-{2,}\s*Original Message\s*-{2,}|_{10,}|From:\s.+|Sent from my\s.+)$",
    re.IGNORECASE,
)
_WROTE_END = re.compile(r"wrote:\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reply:
    thread_id: str
    client_id: str  # from the Message-ID: the same mail delivered twice is stored once
    text: str  # the new text, quotes stripped, not yet length-checked


def read_reply(raw: bytes, key: bytes) -> Reply | None:
    """The reply `raw` (RFC 822) carries to a thread, or None if it names no valid reply
    address (the caller answers 404 either way, saying neither which nor why)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)  # what policy.default builds
    thread_id = _addressed_thread(msg, key)
    if thread_id is None:
        return None
    return Reply(thread_id, _client_id(msg, raw), strip_quoted(_body_text(msg)))


def _addressed_thread(msg: EmailMessage, key: bytes) -> str | None:
    values = [str(v) for name in ADDRESS_HEADERS for v in (msg.get_all(name) or ())]
    for _name, address in getaddresses(values):
        thread = thread_of_reply_address(key, address)
        if thread is not None:
            return thread
    return None


def _client_id(msg: EmailMessage, raw: bytes) -> str:
    """ "email:" and 32 hex digits of the Message-ID's SHA-256 (of the whole mail if it has none:
    then only a byte-identical redelivery is recognised)."""
    found = str(msg.get("Message-ID", "")).strip()
    source = found.encode() if found else raw
    return "email:" + hashlib.sha256(source).hexdigest()[:32]


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return html_text(content)
    return content


def strip_quoted(text: str) -> str:
    """The text a reply adds above the mail it quotes (module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines[:MAX_SCANNED_LINES]):
        bare = line.strip()
        if REPLY_ABOVE_MARKER in line or bare == "--" or bare.startswith(">"):
            break
        if _QUOTE_HEADER.match(bare) and _starts_quote(bare, lines[index + 1 : index + 3]):
            break
        kept.append(line)
    else:
        kept.extend(lines[MAX_SCANNED_LINES:])
    return "\n".join(kept).strip()


def _starts_quote(line: str, following: list[str]) -> bool:
    """A quote header line, or "On ..." whose "wrote:" ends one of the next two lines (clients
    wrap a long attribution)."""
    if not line.lower().startswith("on "):
        return True
    if _WROTE_END.search(line):
        return True
    return any(_WROTE_END.search(f) for f in following)


class _TextOf(HTMLParser):
    """The text of an HTML body: tags dropped, blocks on lines of their own, quoted blocks
    (<blockquote>) and scripts left out."""

    _SKIPPED = frozenset({"blockquote", "script", "style", "head"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))
