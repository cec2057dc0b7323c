"""Which language a page is shown in, and the language switch of every page set.

The words themselves are in the message catalogue (`marketplace/messages/`): each page set reads
its section and the words all pages share (`messages/pages.py`). Templates call `_('key', name=...)`.

The language is the signed-in mentor's own setting, else the one chosen in this browser (kept in
the session, and across sign-out), else English. `switch_language()` is the one language switch
of every page set: it answers the small form at the foot of each page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, redirect, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from ..messages.catalogue import LANGUAGES
from ..services import mentor_auth


def current_language() -> str:
    own = getattr(current_user, "language", None)
    if own in LANGUAGES:
        return str(own)
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "en"


def local_path(target: str, default: str) -> str:
    """`target` when it is a path on this site, else `default` (never another host)."""
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
    ):
        return default
    return target


def switch_language(default: str) -> Response:
    """Show the pages in the language posted as `lang`, then go back to the page posted as `back`.

    A signed-in mentor's choice is kept on their account (SMS follow it too); everyone else's
    is kept with the browser's session.
    """
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    if getattr(current_user, "is_mentor", False):
        mentor_auth.set_language(int(current_user.id), lang)
    session["lang"] = lang
    return redirect(local_path(request.form.get("back", ""), default))
