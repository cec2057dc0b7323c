"""The front door, `/`: what the service is and the way in for each kind of user.

Entrepreneurs are told the USSD code to dial and the SMS keywords (they have no page: a basic
phone is their way in); mentors, programme officers and funders get their page; developers the API
document and, in development, the phone simulator. In the page's language, with the language switch
at its foot like every page set (the one of the sign-in page, which comes back here).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template, url_for

from ..messages.pages import front as t
from ..services import settings
from ..simulator import page_enabled
from .i18n import current_language

bp = Blueprint("front", __name__)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {"lang": lang, "_": lambda key, **params: t(key, lang, **params)}


@bp.get("/")
def home() -> str:
    return render_template(
        "front.html",
        ussd=settings.ussd_code(),
        short=settings.short_code(),
        simulator=url_for("phone.index") if page_enabled(current_app.config) else None,
        api_document=url_for("api_doc.openapi_json"),
    )


def register(app: Flask) -> None:
    app.register_blueprint(bp)
