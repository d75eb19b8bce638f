"""The mail about one message (structures.md, "Email"): to the team, a visitor's lead or reply;
to the visitor, an agent's answer. Built with the standard library's `email` package, whose
default policy refuses a header with a line break in it (no header injection from names).

What a visitor's mail holds: the space's name, the agent's display name and the answer; never
an agent's email, an id other than the thread's (in the reply address), or anything else of
the team's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from chat.mail.addresses import message_id, reply_address, thread_root_id

Recipient = Literal["team", "visitor"]
# The line above which a visitor types a reply; reading the reply cuts at it
# (chat/mail/inbound.py), whatever the client's own quoting looks like.
REPLY_ABOVE_MARKER = "Reply above this line to continue the conversation."
# Earlier mail a new one references: enough to thread, without headers growing forever.
MAX_REFERENCES = 10


class BadAddressError(ValueError):
    """An address the mail cannot be sent to (a visitor's email that is not one)."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who mail goes out as, and where replies come back."""

    from_address: str
    reply_domain: str  # the domain of reply addresses and Message-IDs
    reply_key: bytes
    public_url: str  # "" for no link to the console


@dataclass(frozen=True, slots=True)
class MailFacts:
    """What one outbox row's mail is about, as chat/db/outbox.py loads it."""

    recipient: Recipient
    thread_id: str
    entry_id: str
    sent_ms: int  # the message's time (its entry id's milliseconds)
    space_name: str
    organization_name: str
    sender_name: str  # the visitor's or the agent's display name
    content: str
    thread_email: str  # the visitor's address
    team_emails: tuple[str, ...]  # the organization's agents (team mail only)
    earlier_entries: tuple[str, ...]  # entry ids of earlier mail to this recipient, oldest first


def compose(facts: MailFacts, sender: Sender) -> tuple[EmailMessage, list[str]]:
    """The mail and its envelope recipients. BadAddressError for an unusable address."""
    domain = sender.reply_domain
    msg = EmailMessage()
    msg["From"] = _address(facts.space_name, sender.from_address)
    msg["Date"] = format_datetime(datetime.fromtimestamp(facts.sent_ms / 1000, UTC))
    msg["Message-ID"] = message_id(facts.thread_id, facts.entry_id, facts.recipient, domain)
    root = thread_root_id(facts.thread_id, facts.recipient, domain)
    earlier = [
        message_id(facts.thread_id, entry, facts.recipient, domain)
        for entry in facts.earlier_entries[-MAX_REFERENCES:]
    ]
    msg["In-Reply-To"] = earlier[-1] if earlier else root
    msg["References"] = " ".join([root, *earlier])
    msg["Auto-Submitted"] = "auto-generated" if facts.recipient == "team" else "no"
    if facts.recipient == "visitor":
        recipients = [_address("", facts.thread_email).addr_spec]
        msg["To"] = recipients[0]
        msg["Reply-To"] = reply_address(sender.reply_key, facts.thread_id, domain)
        msg["Subject"] = f"Re: Your conversation with {facts.space_name}"
        msg.set_content(_visitor_text(facts))
    else:
        recipients = [_address("", email).addr_spec for email in facts.team_emails]
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = f"[{facts.space_name}] Conversation with {facts.thread_email}"
        msg.set_content(_team_text(facts, sender.public_url))
    return msg, recipients


def _address(display_name: str, addr_spec: str) -> Address:
    try:
        return Address(display_name=display_name, addr_spec=addr_spec)
    except (ValueError, IndexError) as exc:  # the email package's parser raises both
        raise BadAddressError(f"not a mail address: {exc}") from exc


def _visitor_text(facts: MailFacts) -> str:
    return (
        f"{REPLY_ABOVE_MARKER}\n\n"
        f"{facts.sender_name} ({facts.space_name}) wrote:\n\n"
        f"{facts.content}\n\n"
        f"-- \n"
        f"Reply to this email to continue the conversation with {facts.space_name}.\n"
    )


def _team_text(facts: MailFacts, public_url: str) -> str:
    link = ""
    if public_url:
        link = f"Open it in the console: {public_url.rstrip('/')}/console#/inbox\n"
    return (
        f"{facts.sender_name} <{facts.thread_email}> wrote in {facts.space_name}"
        f" ({facts.organization_name}):\n\n"
        f"{facts.content}\n\n"
        f"-- \n"
        f"{link}"
        f"Answer from the console, not by replying to this mail: the answer is sent by email to"
        f" {facts.thread_email}, and their reply joins the conversation.\n"
    )
