"""The API reference page at /api/v1/docs: Swagger UI over /api/v1/openapi.json.

Every asset is served by the service itself: Swagger UI's dist files come from the pinned
swagger-ui-bundle-v2 package (its files are those of swagger-ui-dist at the same version), the
page and its start-up script from chat/static. The page has no inline script or style, so it
works under a strict Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path

import trio
from quart import Blueprint, Response, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from chat.http.pages import STATIC_DIR

DOCS_PATH = "/api/v1/docs"
SWAGGER_UI_DIR = Path(str(swagger_ui_path))
# Only the files the page loads: not the package's index.html and initializer (inline-free but
# pointing at the Petstore demo), its source maps, or its other bundles.
SWAGGER_UI_ASSETS = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "index.css",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)
# Swagger UI's stylesheet draws a few icons as data: SVG images; nothing else is relaxed.
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:"


def docs_blueprint() -> Blueprint:
    docs = Blueprint("docs", __name__)

    @docs.get(DOCS_PATH)
    async def docs_page() -> Response:
        page = await trio.Path(STATIC_DIR / "api-docs.html").read_text(encoding="utf-8")
        response = Response(page, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @docs.get(f"{DOCS_PATH}/<name>")
    async def docs_asset(name: str) -> Response:
        if name not in SWAGGER_UI_ASSETS:
            abort(404)
        response = await send_from_directory(SWAGGER_UI_DIR, name)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return docs
