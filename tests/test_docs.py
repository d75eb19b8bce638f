"""The README's configuration table names every setting the service reads."""

from __future__ import annotations

from pathlib import Path

from chat.config import Settings

ROOT = Path(__file__).resolve().parents[1]
PLAIN = {"redis_url": "REDIS_URL", "database_url": "DATABASE_URL", "secret_key": "SECRET_KEY"}


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        name
        for field in Settings.model_fields
        if f"| `{(name := PLAIN.get(field, 'CHAT_' + field.upper()))}` |" not in readme
    ]
    assert missing == []
