"""The WebSocket and REST protocol as Python speaks it: `inbound` (the frames clients send,
validated) and `outbound` (every frame and JSON view the service sends). The counterparts of
widget/src/protocol.ts and console/src/protocol.ts; the contract is ../shared/CONTRACT.md.

A base module: it imports only the vocabulary below it (events, ids, errors, json_types), never
storage, actors or HTTP.
"""
