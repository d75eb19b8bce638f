"""Passwords, access tokens and visitor session tokens."""
