"""A live-chat service: durable Redis Streams, a PostgreSQL projection, widget and agent sockets."""
