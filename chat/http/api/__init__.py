"""The REST API under /api/v1: one module per resource; routes.py assembles them."""
