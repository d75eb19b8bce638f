"""`chat rotate-secret`: a new SECRET_KEY with a grace period in which the old one still
verifies (chat/auth/rotation.py), and `--end-grace` to drop the old ones.

The embedded setup keeps its key in the data folder: the command writes the new one there and
keeps the old one in `previous_secret_keys`, which `chat serve` reads; restart (or drain) the
processes to use them. With SECRET_KEY from the environment it cannot change your deployment's
configuration: it prints the two settings to give every node instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from chat.config import PREVIOUS_SECRETS_FILE
from chat.ops.backup import SECRET_FILE
from chat.ops.context import OpsError

# As chat/config.py makes the embedded setup's first key: 64 URL-safe characters.
KEY_BYTES = 48


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def rotate(data_dir: Path, *, end_grace: bool) -> str:
    """Rotate (or end the grace period); what to do next, for the operator."""
    if os.environ.get("SECRET_KEY"):
        return _instructions(os.environ["SECRET_KEY"], end_grace=end_grace)
    current, previous = data_dir / SECRET_FILE, data_dir / PREVIOUS_SECRETS_FILE
    if not current.is_file():
        raise OpsError(f"SECRET_KEY is not set and {current} does not exist (see --data-dir)")
    if end_grace:
        previous.unlink(missing_ok=True)
        return (
            f"removed {previous}: only the current key verifies once `chat serve` restarts"
            " (visitors whose token an older key signed start over as new visitors)"
        )
    old = current.read_text().strip()
    kept = previous.read_text().split() if previous.exists() else []
    _write_private(previous, "\n".join([old, *kept]) + "\n")
    _write_private(current, secrets.token_urlsafe(KEY_BYTES))
    return (
        f"wrote a new key to {current}; the old one is kept in {previous}.\n"
        "Restart `chat serve` (or `chat drain` it and start it again) to sign with the new key."
        "\nVisitors who come back while the old key is kept get a token under the new one."
        "\nEnd the grace period later (say in 30 days) with `chat rotate-secret --end-grace`."
    )


def _instructions(old: str, *, end_grace: bool) -> str:
    if end_grace:
        return "unset CHAT_PREVIOUS_SECRET_KEYS on every node, then restart (drain) them one by one"
    new = secrets.token_urlsafe(KEY_BYTES)
    return (
        "Give every node these two settings, then restart (drain) them one by one:\n"
        f"SECRET_KEY={new}\n"
        f"CHAT_PREVIOUS_SECRET_KEYS={old}\n"
        "Later (say in 30 days) unset CHAT_PREVIOUS_SECRET_KEYS: `chat rotate-secret --end-grace`."
    )
