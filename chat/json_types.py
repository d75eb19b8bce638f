"""The one name for a JSON object as plain data inside the service (frames, views, rows)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
