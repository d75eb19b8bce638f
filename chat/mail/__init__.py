"""The email channel's mail itself (structures.md, "Email"): signed reply addresses, composing
the team's and the visitor's mail, reading a visitor's reply, and sending over SMTP. Plain
functions on plain data: the mailer actor (chat/actors/mailer.py) and the inbound route's
command (chat/commands/email_replies.py) do the I/O around them."""

from __future__ import annotations

# A lead (an email left offline) or an email reply opens its conversation past the space's
# `max_open_threads`: the cap keeps a queue a team can serve live, and an email conversation
# waits for an email answer, not in that queue. Passed as the cap of POST_MESSAGE.
LEAD_MAX_OPEN_THREADS = 2**31 - 1
