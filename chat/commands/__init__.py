"""Commands: what agents (and, later, routing and tags) do to conversations, one implementation
for every caller (REST handlers and WebSocket sessions alike).

A floor below actors and HTTP, above chat/streams and chat/db: it imports neither chat.http,
chat.actors nor chat.services.
"""
