"""Security headers on every response, and the HTML error pages of the web channel.

The JSON API has its own error shape (its blueprint's handlers run first); everything else answers
with a short HTML page that says what happened and where to go next. A channel that answers
machines (the gateway's callbacks) declares in `marketplace/http.py` how it answers instead.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .. import http
from ..messages import pages
from .i18n import current_language

# Pages load nothing from another host: no CDN, no web fonts, no inline scripts or styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_HEADER_KEYS = [(name.lower(), name, value) for name, value in _HEADERS.items()]

# Status codes the web pages explain in words; anything else gets the generic page.
_PAGES = {400, 403, 404, 405, 413, 429}


def set_security_headers(response: Response) -> Response:
    if response.mimetype != "text/html" and not http.for_browsers(request.blueprint):
        return response
    present = {name.lower() for name, _value in response.headers.items()}
    for key, name, value in _HEADER_KEYS:
        if key not in present:
            response.headers.add(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html" and request.cookies:
        # Signed-in pages show personal data: keep them out of shared caches and the back cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    """The error page of `status`, in the language every page of this request is shown in."""
    template = f"errors/{status}.html" if status in _PAGES else "errors/generic.html"
    lang = current_language()
    page = render_template(
        template,
        status=status,
        detail=detail,
        lang=lang,
        _=lambda key, **params: pages.errors(key, lang, **params),
    )
    return page, status


def handle_http_error(exc: HTTPException) -> Response | tuple[str, int] | HTTPException:
    answer = http.error_answer(request.path)
    if answer is not None and exc.code is not None and exc.code >= 400:
        return answer(exc.code)
    if request.path.startswith("/api/") and exc.code is not None and exc.code >= 400:
        from .api import http_error

        return http_error(exc)  # no API route matched: still the API's one error shape
    if _wants_json() or exc.code is None:
        return exc
    if exc.code < 400:
        return exc
    return render_error(exc.code)


def handle_csrf_error(exc: CSRFError) -> tuple[str, int]:
    return render_error(400, "csrf")


def register(app: Flask) -> None:
    from . import auth, errors

    auth.register(app)
    errors.register(app)  # a page's refusals (the API's blueprint answers its own first)
    app.after_request(set_security_headers)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
