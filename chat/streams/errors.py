"""The Redis errors the layers above chat/streams may meet, named here so that only chat/streams
imports the client library (an import contract in pyproject.toml)."""

from __future__ import annotations

from coredis.exceptions import RedisError, StreamConsumerGroupError

# Any failure of a Redis call: a lost connection, a timeout, an error reply.
StreamLogError = RedisError
# NOGROUP: a stream lost the projector's consumer group (its stream was deleted or restored).
ConsumerGroupMissingError = StreamConsumerGroupError

__all__ = ["ConsumerGroupMissingError", "StreamLogError"]
