"""The wake of an append on a Valkey Cluster (structures.md, "Valkey Cluster").

Every script that adds an entry to a space's `events` stream also publishes the new id on the
space's shard channel, `<prefix>:{S}:appended` (SPUBLISH). A shard channel lives in the slot of
its name, the space's, so the script may publish on it like it writes the space's keys, and the
message goes only to the clients of that shard. The reader of each process following the space
subscribes to it (chat/streams/cluster_reader.py): one subscriber connection per master, whatever
the number of slots followed. A message is only a hint to read the stream: the entries are read
from the stream itself, and a lost message is made up for by the reader's periodic pass.
"""

from __future__ import annotations

# pcall: one server without sharded pub/sub (Redis 6.2) answers SPUBLISH an error; nobody
# subscribes there (one server has one blocked XREAD instead), so the error is ignored.
APPENDED = r"""
local function appended(base, id)
  redis.pcall('SPUBLISH', base .. 'appended', id)
  return id
end
"""

TYPING = (
    APPENDED
    + r"""
-- KEYS[1] space events stream; ARGV: base, the typing entry's JSON
return appended(ARGV[1], redis.call('XADD', KEYS[1], '*', 't', 'typing', 'd', ARGV[2]))
"""
)
