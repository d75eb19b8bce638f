"""The widget bundle: `/widget.js` (short cache) and `/widget.<hash>.js` (cached for a year).

`make widget` builds chat/static/widget/widget.js. The app reads it once, when it is made: the
bytes are served from memory, so a hashed URL always names exactly the bytes it serves, and a
rebuilt bundle is served after the next start. See structures.md "How to embed" for which URL
to put in a page.

Neither URL sends `Access-Control-Allow-Origin`: a classic `<script src>` needs no CORS, and
the bundle holds no secret. `Cross-Origin-Resource-Policy: cross-origin` lets pages that
require it (`Cross-Origin-Embedder-Policy: require-corp`) load the script as well.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from quart import Blueprint, Response, request

from chat.errors import NotFoundError, UnavailableError

logger = logging.getLogger(__name__)

WIDGET_BUNDLE_PATH = Path(__file__).resolve().parent.parent / "static" / "widget" / "widget.js"
# `/widget.<hash>.js`: the first 12 hex characters of the bundle's SHA-256 (48 bits, plenty to
# tell builds apart; short enough to read in a page's source).
HASH_LENGTH = 12
# `/widget.js` is what embed snippets name, so a new build must reach sites soon: 5 minutes,
# revalidated by ETag after that. A hashed URL never changes its bytes.
SHORT_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
CONTENT_TYPE = "text/javascript; charset=utf-8"


@dataclass(frozen=True)
class WidgetBundle:
    """The bundle's bytes and the names derived from them."""

    body: bytes
    sha256: str

    @classmethod
    def of(cls, body: bytes) -> WidgetBundle:
        return cls(body, hashlib.sha256(body).hexdigest())

    @property
    def digest(self) -> str:
        """The `<hash>` of `/widget.<hash>.js`."""
        return self.sha256[:HASH_LENGTH]

    @property
    def etag(self) -> str:
        """The ETag value, unquoted (a strong tag: the same bytes always)."""
        return self.sha256


def load_widget_bundle(path: Path) -> WidgetBundle | None:
    """The bundle at `path`, or None (logged) when it has not been built."""
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        logger.warning(
            "widget bundle %s is missing: /widget.js answers 503 (run make widget)", path
        )
        return None
    return WidgetBundle.of(body)


def _script_response(bundle: WidgetBundle, cache_control: str) -> Response:
    if request.if_none_match.contains_weak(bundle.etag):
        response = Response(b"", status=304)
    else:
        response = Response(bundle.body, content_type=CONTENT_TYPE)
    response.set_etag(bundle.etag)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def widget_assets_blueprint(bundle_path: Path = WIDGET_BUNDLE_PATH) -> Blueprint:
    """Routes for the bundle; reads `bundle_path` now (once), not per request."""
    bundle = load_widget_bundle(bundle_path)
    assets = Blueprint("widget_assets", __name__)

    @assets.get("/widget.js")
    async def widget_script() -> Response:
        if bundle is None:
            raise UnavailableError(
                "the widget bundle is not built: run `make widget`, then restart the server"
            )
        return _script_response(bundle, SHORT_CACHE)

    @assets.get("/widget.<digest>.js")
    async def hashed_widget_script(digest: str) -> Response:
        if bundle is None or digest != bundle.digest:
            raise NotFoundError("no widget build has this hash; /widget.js is the current one")
        return _script_response(bundle, IMMUTABLE_CACHE)

    return assets
