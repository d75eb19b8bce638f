"""Actors: plain async functions, each a task group fed by channels and streams."""
