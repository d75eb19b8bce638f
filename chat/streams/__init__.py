"""The only code that talks to Redis: key builders, append scripts, readers."""
