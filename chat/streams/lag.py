"""The projector's lag over every space stream: a Lua script per LAG_CHUNK spaces.

The lag sampler (chat/actors/lag_sampler.py) calls this every second or so, off the scrape's
path: a scrape of /metrics reads the last sample and asks Valkey nothing. For each space the
script reads the projector group's `pending` and `lag` (XINFO GROUPS) and, for a lagging one,
its oldest unprojected id (XPENDING's smallest, else the first entry after the group's last
delivered one); it answers only the total and the oldest id. A pipeline of the same commands
cost the client ~90 ms of CPU a sample for 1,000 spaces (decoding every XINFO reply); in Lua
the client decodes two values per chunk, and each script holds Valkey for well under a
millisecond, so appends wait little behind it.
"""

from __future__ import annotations

import time

from chat.ids import parse_id
from chat.streams.client import by_slot, is_cluster
from chat.streams.groups import GroupLag
from chat.streams.keys import PROJECTOR_GROUP
from chat.streams.log import StreamLog

# Spaces per script call: ~250 XINFO GROUPS run in well under a millisecond of Valkey's time.
LAG_CHUNK = 250

# KEYS: space event streams. ARGV[1]: the projector's group. Answers {entries, oldest id or ''}.
# A stream that does not exist yet (a new space) or has no group counts nothing. `lag` is nil
# when Valkey cannot tell (entries deleted in the middle): counted as 0, as XINFO's reader did.
LAG_SCRIPT = r"""
local entries, oldest, oldest_ms = 0, '', nil
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local info = {}
      for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
      if info['name'] == ARGV[1] then
        local pending = tonumber(info['pending']) or 0
        local waiting = tonumber(info['lag']) or 0
        entries = entries + pending + waiting
        local first = nil
        if pending > 0 then
          first = redis.call('XPENDING', key, ARGV[1])[2]
        elseif waiting > 0 then
          local after = redis.call(
            'XRANGE', key, '(' .. info['last-delivered-id'], '+', 'COUNT', 1)
          if after[1] then first = after[1][1] end
        end
        if first then
          local ms = tonumber(string.match(first, '^(%d+)'))
          if oldest_ms == nil or ms < oldest_ms then oldest, oldest_ms = first, ms end
        end
      end
    end
  end
end
return {entries, oldest}
"""


async def total_lag(stream_log: StreamLog, space_ids: list[str]) -> GroupLag:
    """Entries of these spaces not yet projected, and the age of the oldest of them.

    One script call per LAG_CHUNK spaces, one after the other (not pipelined, so that other
    clients' commands run between them)."""
    script = stream_log.redis.register_script(LAG_SCRIPT)
    entries, oldest_ms = 0, None
    every = [stream_log.keys(s).events for s in space_ids]
    # In a cluster a script names keys of one slot only: one call per slot's chunk.
    slots = by_slot(every) if is_cluster(stream_log.redis) else [every]
    chunks = [keys[i : i + LAG_CHUNK] for keys in slots for i in range(0, len(keys), LAG_CHUNK)]
    for keys in chunks:
        answer: list[int | str] = await script(keys=keys, args=[PROJECTOR_GROUP])
        count, oldest = answer
        entries += int(count)
        if oldest:
            ms = parse_id(str(oldest))[0]
            oldest_ms = ms if oldest_ms is None else min(oldest_ms, ms)
    seconds = max(0.0, time.time() - oldest_ms / 1000) if oldest_ms is not None else 0.0
    return GroupLag(entries, seconds)
