"""The words of the web pages in English and Kiswahili, and which of the two a page is shown in.

Each page set keeps its words in a dict of key -> {"en": ..., "sw": ...} (`mentor/texts.py`,
`admin/texts.py`); words used by more than one set live here in SHARED, and `merge()` joins them,
refusing a key defined twice. Templates call `_('key', name=...)`.

The language is the signed-in mentor's own setting, else the one chosen in this browser (kept in
the session, and across sign-out), else English. `switch_language()` is the one language switch
of every page set: it answers the small form at the foot of each page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, redirect, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from ..services import mentor_auth

LANGUAGES = ("en", "sw")

Texts = dict[str, dict[str, str]]

SHARED: Texts = {
    "control_characters": {
        "en": "Remove the control characters (such as NUL) from this text.",
        "sw": "Ondoa herufi za udhibiti (kama NUL) kwenye maandishi haya.",
    },
    "sign_out": {"en": "Sign out", "sw": "Toka"},
    "sign_in": {"en": "Sign in", "sw": "Ingia"},
    "language": {"en": "Language", "sw": "Lugha"},
    "phone": {"en": "Phone number", "sw": "Nambari ya simu"},
    "trade": {"en": "Trade", "sw": "Kazi"},
    "amount": {"en": "Amount", "sw": "Kiasi"},
    "reference": {"en": "Reference", "sw": "Kumbukumbu"},
    "sessions": {"en": "Sessions", "sw": "Vipindi"},
    "status_recorded": {"en": "Waiting for confirmation", "sw": "Inasubiri uthibitisho"},
    "status_confirmed": {"en": "Confirmed", "sw": "Imethibitishwa"},
    "status_disputed": {"en": "Disputed", "sw": "Imekataliwa"},
    "status_lapsed": {"en": "Lapsed (no answer)", "sw": "Imepitwa (hakuna jibu)"},
    "payout_pending": {"en": "Being paid", "sw": "Inalipwa"},
    "payout_paid": {"en": "Paid", "sw": "Imelipwa"},
}

# The staff sign-in page, shared by officers and funders.
SIGNIN: Texts = {
    "staff_signin_title": {"en": "Staff sign-in", "sw": "Wafanyakazi: kuingia"},
    "staff_signin_intro": {
        "en": "Programme officers and funders sign in here. Mentors sign in on",
        "sw": "Maafisa wa programu na wafadhili huingia hapa. Walimu huingia kwenye",
    },
    "mentor_page_link": {"en": "the mentor page", "sw": "ukurasa wa mwalimu"},
    "email": {"en": "E-mail", "sw": "Barua pepe"},
    "password": {"en": "Password", "sw": "Nenosiri"},
    "wrong_password": {
        "en": "That e-mail address and password do not match an account.",
        "sw": "Barua pepe na nenosiri hazilingani na akaunti yoyote.",
    },
    "signin_locked_staff": {
        "en": "Too many failed sign-ins. Wait {minutes} minutes and try again.",
        "sw": "Majaribio mengi mno yameshindwa. Subiri dakika {minutes} kisha ujaribu tena.",
    },
}


def merge(*parts: Texts) -> Texts:
    """One catalogue from several; a key defined twice is a mistake and raises ValueError."""
    merged: Texts = {}
    for part in parts:
        twice = merged.keys() & part.keys()
        if twice:
            raise ValueError(f"texts defined twice: {', '.join(sorted(twice))}")
        merged.update(part)
    return merged


def translate(texts: Texts, key: str, language: str, **params: Any) -> str:
    entry = texts[key]
    text = entry.get(language) or entry["en"]
    return text.format(**params) if params else text


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
