"""Which language a page is shown in, and the language switch of every page set.

The words themselves are in the message catalogue (`marketplace/messages/`): each page set reads
its section and the words all pages share (`messages/pages.py`). Templates call `_('key', name=...)`.

The language is the signed-in mentor's own setting, else the one chosen in this browser (kept in
the session, and across sign-out), else English: Flask-Babel asks `choose_language()` once per
request, and `current_language()` answers with its choice. `switch_language()` is the one language switch
of every page set: it answers the small form at the foot of each page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from babel import Locale
from flask import abort, redirect, request, session
from flask_babel import get_locale, refresh
from flask_login import current_user
from werkzeug.wrappers import Response

from ..messages.catalogue import LANGUAGES, SOURCE_LANGUAGE
from ..services import mentor_auth


def language_choices() -> list[tuple[str, str]]:
    """Each language of the catalogue with its name in itself, for the switch at a page's foot."""
    return [(code, Locale.parse(code).get_display_name(code) or code) for code in LANGUAGES]


def choose_language() -> str:
    """Flask-Babel's choice of the language for this request (it asks once per request)."""
    own = getattr(current_user, "language", None)
    if own in LANGUAGES:
        return str(own)
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else SOURCE_LANGUAGE


def current_language() -> str:
    """The language this request's page is shown in."""
    return str(get_locale() or SOURCE_LANGUAGE)


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
    refresh()  # Flask-Babel chose once for this request: the rest of it reads the new choice
    return redirect(local_path(request.form.get("back", ""), default))


def counted_up_to(period_end: datetime, day: Callable[[datetime], str]) -> str:
    """A payout period's end as it counts: sessions confirmed before `period_end` (its end is
    exclusive). A period chosen by its last day ends at the next midnight, and is shown as that
    last day (up to and including it); one cut short at the moment it ran (a last day of today)
    is shown with that moment's time (UTC)."""
    if period_end.time() == time.min:
        return day(period_end - timedelta(days=1))
    return f"{day(period_end)} {period_end:%H:%M} UTC"
