"""CORS for the widget's attachment routes (structures.md, "Attachments", widget side).

The widget runs on the host page's origin and calls these routes cross-origin with the session
token in `X-Chat-Session`, so the browser preflights them. The routes themselves check the
Origin (chat/http/api/attachments.py); this hook only tells the browser which origin may read
the answers: the request's Origin, echoed when it is one of the space's `allowed_domains` (the
widget socket's rule), on every answer to such a path, errors included (a 413 `too_large` from
the body limit, a 429 from the request budget), so the widget can show the error's code. A
refused origin, an unknown key or a missing Origin gets no CORS header at all.

The file route (`/api/v1/files/{id}`) needs none: the widget shows it as `<img src>` and
`<a href>`, which do not read it through CORS (it sends Cross-Origin-Resource-Policy).
"""

from __future__ import annotations

import re

from quart import Quart, Response, request

from chat.http.api.attachments import SESSION_HEADER
from chat.http.api.routes import PREFIX
from chat.http.origin import origin_allowed
from chat.services import Services

# The upload (POST .../attachments), the link (GET .../attachments/{id}/link) and the emailed
# transcript (POST .../threads/{id}/transcript/email), nothing else.
_WIDGET_ATTACHMENT_PATH = re.compile(
    rf"^{re.escape(PREFIX)}/widget/(?P<key>[^/]+)/"
    rf"(?:attachments(?P<link>/[0-9a-fA-F-]{{36}}/link)?"
    rf"|threads/[0-9a-fA-F-]{{36}}/transcript/email)$"
)
ALLOWED_HEADERS = f"{SESSION_HEADER}, Content-Type"
# A browser keeps a preflight's answer this long (Chromium caps it at 2 h); short, so that an
# origin taken out of allowed_domains stops working soon, as the socket's check does at once.
PREFLIGHT_MAX_AGE_SECONDS = 600


def install_widget_cors(app: Quart, services: Services) -> None:
    """Answer preflights and add Access-Control-Allow-Origin on the widget's attachment routes
    for the space's allowed origins only."""

    @app.after_request
    async def widget_attachment_cors(reply: Response) -> Response:
        found = _WIDGET_ATTACHMENT_PATH.match(request.path)
        if found is None:
            return reply
        reply.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin is None or origin == "null":
            return reply
        space = await services.spaces.space_by_widget_key(found["key"])
        if space is None or not origin_allowed(origin, space.allowed_domains):
            return reply
        reply.headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            reply.headers["Access-Control-Allow-Methods"] = "GET" if found["link"] else "POST"
            reply.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            reply.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
        return reply
