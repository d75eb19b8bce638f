"""The built-in rules bot: its rules (rules.py) and its conversation as pure functions
(engine.py)."""
