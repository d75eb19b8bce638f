"""The built-in rules bot: its rules (rules.py), its conversation as pure functions (engine.py)
and its part of a thread's stream (history.py)."""
