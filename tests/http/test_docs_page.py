"""The API reference page at /api/v1/docs: served whole by the service, under a strict CSP."""

from __future__ import annotations

from html.parser import HTMLParser

import trio

from chat.http.docs import CONTENT_SECURITY_POLICY
from tests.helpers.http import Reply, call

DOCS = "/api/v1/docs"
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def _header(reply: Reply, name: str) -> str:
    found = {k.lower(): v for k, v in reply.headers.items()}
    return found.get(name.lower(), "")


class _Page(HTMLParser):
    """What a browser would load from the page, and anything that a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []  # script src and link href: fetched on load
        self.links: list[str] = []  # a href
        self.data: dict[str, str] = {}
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "script":
            self._in_script = True
            assert "src" in found, "inline script"
            self.assets.append(found["src"])
        elif tag == "link":
            self.assets.append(found["href"])
        elif tag == "a":
            self.links.append(found["href"])
        elif tag == "style":
            self.inline.append("<style>")
        for key, value in found.items():
            if key.startswith("on") or key == "style":
                self.inline.append(f"{tag} {key}")
            if key.startswith("data-"):
                self.data[key] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def _parse(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    page.close()
    return page


async def test_docs_page_is_strict_and_self_contained(base_url: str) -> None:
    with trio.fail_after(30):
        reply = await call("GET", f"{base_url}{DOCS}")
        assert reply.status == 200
        assert _header(reply, "Content-Type").startswith("text/html")
        assert _header(reply, "Content-Security-Policy") == CONTENT_SECURITY_POLICY
        assert "default-src 'self'" in CONTENT_SECURITY_POLICY
        assert "unsafe" not in CONTENT_SECURITY_POLICY
        assert _header(reply, "X-Content-Type-Options") == "nosniff"
        page = _parse(reply.body)
        assert page.inline == []
        assert page.data["data-openapi-url"] == "/api/v1/openapi.json"
        assert "/static/api-docs.js" in page.assets
        assert f"{DOCS}/swagger-ui-bundle.js" in page.assets
        assert f"{DOCS}/swagger-ui.css" in page.assets
        for url in page.assets + page.links:
            # Same-origin paths only: no scheme, no protocol-relative `//host`.
            assert url.startswith("/") and not url.startswith("//"), url
        assert "http://" not in reply.body and "https://" not in reply.body


async def test_every_asset_of_the_docs_page_is_served(base_url: str) -> None:
    with trio.fail_after(30):
        page = _parse((await call("GET", f"{base_url}{DOCS}")).body)
        for url in page.assets:
            asset = await call("GET", f"{base_url}{url}")
            assert asset.status == 200, url
            suffix = url[url.rindex(".") :]
            assert CONTENT_TYPES[suffix] in _header(asset, "Content-Type"), url
        spec = await call("GET", f"{base_url}{page.data['data-openapi-url']}")
        assert spec.status == 200
        assert spec.body["openapi"].startswith("3.")


async def test_docs_start_up_script_points_at_the_document(base_url: str) -> None:
    with trio.fail_after(30):
        script = await call("GET", f"{base_url}/static/api-docs.js")
        assert script.status == 200
        assert "javascript" in _header(script, "Content-Type")
        assert "SwaggerUIBundle(" in script.body
        assert "openapiUrl" in script.body
        # Swagger UI's default would load a badge from an external validator.
        assert "validatorUrl: null" in script.body
        bundle = await call("GET", f"{base_url}{DOCS}/swagger-ui-bundle.js")
        assert "SwaggerUIBundle" in bundle.body


async def test_only_the_pages_assets_are_served_from_the_bundle(base_url: str) -> None:
    with trio.fail_after(30):
        for name in (
            "index.html",
            "swagger-initializer.js",
            "swagger-ui-bundle.js.map",
            "..%2F__init__.py",
            "nope.js",
        ):
            reply = await call("GET", f"{base_url}{DOCS}/{name}")
            assert reply.status == 404, (name, reply.status)
