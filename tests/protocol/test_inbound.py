"""Parsing clients' frames (chat/protocol/inbound.py): the heartbeat's fast path answers only
the exact ping text, and every other spelling still meets the validator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chat.errors import InvalidError
from chat.protocol.inbound import (
    PING_TEXT,
    Ping,
    SendMessage,
    parse_agent_frame,
    parse_visitor_frame,
)


@pytest.mark.parametrize("parse", [parse_visitor_frame, parse_agent_frame])
@pytest.mark.parametrize(
    "text", [PING_TEXT, PING_TEXT.encode(), '{ "type": "ping" }', b'{"type" :"ping"}']
)
def test_a_ping_in_any_spelling_is_a_ping(
    parse: Callable[[str | bytes], object], text: str | bytes
) -> None:
    assert isinstance(parse(text), Ping)


@pytest.mark.parametrize("parse", [parse_visitor_frame, parse_agent_frame])
@pytest.mark.parametrize(
    "text",
    [
        '{"type":"pong"}',  # as long as a ping: still validated
        b'{"type":"pinG"}',
        '{"type":"ping","x":1}',  # extra fields are refused, for pings too
        '{"type":"ping"',
    ],
)
def test_what_only_looks_like_a_ping_is_refused(
    parse: Callable[[str | bytes], object], text: str | bytes
) -> None:
    with pytest.raises(InvalidError, match="invalid frame"):
        parse(text)


def test_a_message_still_meets_the_validator() -> None:
    frame = parse_visitor_frame('{"type":"message","client_id":"c1","content":"hi"}')
    assert isinstance(frame, SendMessage) and frame.content == "hi"
