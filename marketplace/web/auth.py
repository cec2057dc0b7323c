"""Who is signed in: mentors (provider staff, by SMS code) and staff users (officers and funders).

Flask-Login keeps one id in the session, prefixed with the kind of account ("m:12" for a mentor,
"s:3" for a staff user), so the two kinds can never be confused. The staff sign-in page is shared by
/admin and /funder: officers land on /admin, funders on /funder.

`mentor_required` and `staff_required(*roles)` guard views; they answer a redirect to the right
sign-in page for someone not signed in, and 403 for someone signed in as the wrong kind of account.

Staff passwords are checked by `services.staff_auth`, which locks an e-mail address or a client
address out for a while after repeated failures (429, the same answer for unknown addresses).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..domain.errors import DomainError
from ..domain.models import ProviderStaff, Role, StaffUser
from ..extensions import db, login_manager
from ..messages.pages import signin as words
from ..services import mentor_auth, staff_auth
from .errors import page_status_of, refusals
from .i18n import current_language, switch_language

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__)

MENTOR_PREFIX = "m:"
STAFF_PREFIX = "s:"


class SignedInMentor:
    """A provider's staff member signed in on the mentor pages; acts for one provider only."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_mentor = True
    is_staff = False

    def __init__(self, staff: ProviderStaff) -> None:
        self.account = staff
        self.id = staff.id
        self.provider_id = staff.provider_id
        self.name = staff.name
        self.actor = f"mentor:{staff.id}"

    @property
    def language(self) -> str:
        return self.account.language

    def get_id(self) -> str:
        return f"{MENTOR_PREFIX}{self.id}:{self.account.session_epoch}"


class SignedInStaff:
    """A programme officer (role admin) or a funder's staff member (role funder)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_mentor = False
    is_staff = True

    def __init__(self, user: StaffUser) -> None:
        self.account = user
        self.id = user.id
        self.name = user.name
        self.email = user.email
        self.role = user.role
        self.funder = user.funder
        self.actor = f"staff:{user.email}"

    def get_id(self) -> str:
        return f"{STAFF_PREFIX}{self.id}:{self.account.session_epoch}"


def load_user(user_id: str) -> SignedInMentor | SignedInStaff | None:
    """The account a session names ("m:12:3": mentor 12, epoch 3), if it is active and has not
    signed out since (its epoch is still the same)."""
    prefix, _, rest = user_id.partition(":")
    raw, _, epoch = rest.partition(":")
    if not (raw.isdigit() and epoch.isdigit()) or len(raw) > 12 or len(epoch) > 12:
        return None
    if prefix + ":" == MENTOR_PREFIX:
        staff = db.session.get(ProviderStaff, int(raw))
        if staff is None or not staff.active or staff.session_epoch != int(epoch):
            return None
        return SignedInMentor(staff)
    if prefix + ":" == STAFF_PREFIX:
        user = db.session.get(StaffUser, int(raw))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return SignedInStaff(user)
    return None


def start_session(user: SignedInMentor | SignedInStaff, language: str | None = None) -> None:
    """A fresh session at sign-in: nothing from before (a planted session id) survives."""
    _forget_session()
    login_user(user)
    if language:
        session["lang"] = language


def end_session() -> None:
    """Sign out, here and in every other browser the account is signed in with (a copy of this
    session's cookie no longer signs anyone in); only the chosen language stays with the browser."""
    lang = getattr(current_user, "language", None) or session.get("lang")
    if getattr(current_user, "is_mentor", False):
        mentor_auth.sign_out(signed_in_mentor().id)
    elif getattr(current_user, "is_staff", False):
        staff_auth.sign_out(signed_in_staff().id)
    logout_user()
    _forget_session()
    if lang:
        session["lang"] = lang


def _forget_session() -> None:
    session.clear()
    # The CSRF token cached for this request belonged to the old session; a new one is made.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    refresh()  # and the language Flask-Babel chose is chosen again, for whoever is signed in now


def signed_in_mentor() -> SignedInMentor:
    return cast(SignedInMentor, current_user._get_current_object())


def signed_in_staff() -> SignedInStaff:
    return cast(SignedInStaff, current_user._get_current_object())


def mentor_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect("/mentor")
        if not getattr(current_user, "is_mentor", False):
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def staff_required(*roles: str) -> Callable[[F], F]:
    """Only staff users with one of `roles` (any staff user when none are given)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
            if not getattr(current_user, "is_staff", False):
                abort(403)
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def home_for(user: SignedInStaff) -> str:
    return "/funder" if user.role == Role.FUNDER else "/admin"


def _safe_next(target: str | None, user: SignedInStaff) -> str:
    """Only a local path, and only within the area the account may use."""
    home = home_for(user)
    if not target:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return home
    areas = ("/admin", "/funder") if user.role == Role.ADMIN else ("/funder",)
    if any(parts.path == area or parts.path.startswith(area + "/") for area in areas):
        return target
    return home


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {"lang": lang, "_": lambda key, **params: words(key, lang, **params)}


def _signin_page(
    next_url: str, email: str = "", error: str | None = None, status: int = 200
) -> Any:
    return render_template("auth/signin.html", next=next_url, email=email, error=error), status


def _signin_refused(exc: DomainError) -> Any:
    """A wrong password, or too many of them: the form again, saying so (and when to retry)."""
    next_url = request.values.get("next", "")[:500]
    email = request.form.get("email", "").strip()[:200]
    lang = current_language()
    if isinstance(exc, staff_auth.SignInLocked):
        message = words("signin_locked_staff", lang, minutes=exc.minutes)
        page, status = _signin_page(next_url, email, message, page_status_of(exc))
        return page, status, {"Retry-After": str(exc.minutes * 60)}
    if isinstance(exc, staff_auth.WrongPassword):
        message = words("wrong_password", lang)
        return _signin_page(next_url, email, message, page_status_of(exc))
    return None


@bp.route("/signin", methods=["GET", "POST"])
@refusals(_signin_refused)
def signin() -> Any:
    if current_user.is_authenticated and getattr(current_user, "is_staff", False):
        return redirect(home_for(signed_in_staff()))
    next_url = request.values.get("next", "")[:500]
    if request.method == "GET":
        return _signin_page(next_url)
    email = request.form.get("email", "").strip()[:200]
    password = request.form.get("password", "")[:200]
    user = staff_auth.sign_in(email, password, request.remote_addr or "")
    staff = SignedInStaff(user)
    start_session(staff, session.get("lang"))
    return redirect(_safe_next(next_url, staff))


@bp.post("/language")
def set_language() -> Response:
    """The language switch at the foot of the staff sign-in page and the officers' pages."""
    return switch_language(url_for("auth.signin"))


@bp.post("/signout")
def signout() -> Response:
    was_mentor = getattr(current_user, "is_mentor", False)
    end_session()
    return redirect("/mentor" if was_mentor else url_for("auth.signin"))


def register(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
