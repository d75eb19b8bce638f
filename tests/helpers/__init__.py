"""Test helpers that read like the protocol."""
