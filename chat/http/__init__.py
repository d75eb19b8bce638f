"""The quart-trio app: REST API, widget and agent WebSockets, health and metrics."""
