"""Host pages for browser tests: a small static server of our own, on another origin than the
service.

The server listens on 127.0.0.1; a test visits it as `http://localhost:<port>` (the origin the
test space allows) or as `http://127.0.0.1:<port>` (an origin it does not). Either way it is
not the service's origin (`http://127.0.0.1:<service port>`), so CORS and the Origin check are
really exercised.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Clicking the host's own button must keep working whatever the widget does.
HOST_SCRIPT = b"""\
document.getElementById("host-button").addEventListener("click", function () {
  var out = document.getElementById("host-count");
  out.textContent = String(Number(out.textContent) + 1);
});
"""

# A host page that styles everything it can reach, and then some. None of it may reach into the
# widget; inherited properties would, through the shadow host, unless the widget resets them.
AGGRESSIVE_CSS = """
* { all: unset; font-size: 40px; }
html, body, div, p, h1, button, textarea, input, span, ol, ul, li, dialog, form {
  display: block; box-sizing: content-box;
}
body * {
  color: red !important; font-family: "Comic Sans MS", cursive, serif !important;
  line-height: 3 !important; letter-spacing: 6px !important; word-spacing: 12px !important;
  text-transform: uppercase !important; text-align: right !important; font-weight: 900 !important;
  font-style: italic !important; text-shadow: 2px 2px 0 lime !important;
  white-space: pre !important; text-indent: 30px !important; cursor: crosshair !important;
}
button, textarea, input, [role="dialog"], [data-part] {
  background: yellow !important; border: 9px dashed blue !important; padding: 30px !important;
  margin: 30px !important; width: 900px !important; height: 300px !important;
  border-radius: 0 !important; opacity: 0.5 !important; box-shadow: 0 0 0 30px pink !important;
}
:root {
  --accent: red; --primary: red; --color: red; --bg: red; --fg: lime; --text: lime;
  --radius: 0; --font: serif; --font-size: 40px; --shadow: none; --border: 9px solid red;
}
"""

# An ordinary host page: the styles most sites have, which the widget must leave alone.
TYPICAL_CSS = """
:root { --accent: #c2410c; --bg: #fffbeb; }
html { font-size: 18px; }
body { margin: 0; padding: 2rem; font: 1rem/1.6 Georgia, serif; color: #222; }
body { background: var(--bg); }
h1 { font-size: 2.2rem; color: var(--accent); margin: 0 0 1rem; }
p { max-width: 40rem; }
a { color: var(--accent); text-decoration: underline dotted; }
button { font: inherit; padding: .5rem 1rem; border: 2px solid var(--accent); background: #fff; }
input, textarea { font: inherit; padding: .3rem; border: 1px solid #999; }
ul { list-style: square; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem; box-shadow: 0 1px 3px #0002; }
"""


@dataclass(frozen=True)
class WidgetTag:
    """The embed snippet's two values: where the bundle is, and the space's key (and the nonce
    a host page with a nonce-based CSP puts on its scripts)."""

    src: str
    key: str
    nonce: str = ""

    def html(self) -> str:
        nonce = f' nonce="{html.escape(self.nonce)}"' if self.nonce else ""
        return (
            f'<script src="{html.escape(self.src)}" data-widget-key="{html.escape(self.key)}"'
            f"{nonce} async></script>"
        )


@dataclass
class HostPage:
    """One HTML page of the host site, its stylesheet and the headers it is served with."""

    body: bytes
    css: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def host_page(
    widget: WidgetTag | None,
    *,
    stylesheet: str | None,
    host_script: bool,
    title: str,
    extra: str = "",
) -> bytes:
    """A host page with some content of its own, the host's button, and (unless `widget` is
    None) the widget's one script tag, as an embedding site writes it; `extra` is more of the
    host's markup, last in <body> (a cookie bar)."""
    style = f'<link rel="stylesheet" href="{stylesheet}">' if stylesheet else ""
    script = '<script src="/host.js"></script>' if host_script else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(title)}</title>
{style}
</head>
<body>
<h1 id="host-title">{html.escape(title)}</h1>
<p id="host-text">Some text of the host site, with <a id="host-link" href="#top">a link</a>.</p>
<div class="card" id="host-card">
  <button id="host-button" type="button">Count</button>
  <output id="host-count">0</output>
  <input id="host-input" value="host input">
  <textarea id="host-textarea">host textarea</textarea>
</div>
<ul id="host-list"><li>one</li><li>two</li></ul>
{widget.html() if widget else ""}
{script}
{extra}
</body>
</html>
""".encode()


class HostSite:
    """Serves registered pages (plus /host.js and /host.css) from a thread."""

    def __init__(self) -> None:
        self.pages: dict[str, HostPage] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                site._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test output is for failures

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def url(self, path: str, *, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def origin(self, host: str = "localhost") -> str:
        return f"{host}:{self.port}"

    def add_page(
        self,
        path: str,
        widget: WidgetTag | None,
        *,
        css: str = "",
        host_script: bool = True,
        headers: dict[str, str] | None = None,
        title: str = "A host page",
        extra: str = "",
    ) -> str:
        """Serve a host page at `path` (its CSS at `path.css`); returns the path."""
        stylesheet = f"{path}.css" if css else None
        body = host_page(
            widget, stylesheet=stylesheet, host_script=host_script, title=title, extra=extra
        )
        self.pages[path] = HostPage(body, css.encode(), headers or {})
        return path

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if path == "/host.js":
            self._reply(handler, HOST_SCRIPT, "text/javascript; charset=utf-8", {})
        elif path.endswith(".css") and path.removesuffix(".css") in self.pages:
            css = self.pages[path.removesuffix(".css")].css
            self._reply(handler, css, "text/css; charset=utf-8", {})
        elif path in self.pages:
            page = self.pages[path]
            self._reply(handler, page.body, "text/html; charset=utf-8", page.headers)
        else:
            self._reply(handler, b"not found", "text/plain", {}, status=404)

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        body: bytes,
        content_type: str,
        headers: dict[str, str],
        status: int = 200,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
