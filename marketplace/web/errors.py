"""What each domain error means on the web: the one status table (the domain knows no HTTP), and
the one handler that answers a page's refusal.

A view calls its service and lets a refusal (a `DomainError`) through. The handler rolls the
transaction back and answers as the view declared with `@refusals(show)`: `show(exc, **view_args)`
re-renders the view's form with the message, or flashes it and redirects, or returns None for
the error page of the error's status (`PAGE_STATUS`: a `NotFound` is the 404 page). A view that
declares nothing answers with that error page. The API's blueprint has its own handler (one JSON
shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from ..domain import errors
from ..domain.errors import most_specific
from ..services import unit
from ..services.staff_auth import WrongPassword

F = TypeVar("F", bound=Callable[..., Any])

# The most specific class listed wins (a subclass inherits its parent's status unless listed).
STATUS: dict[type[errors.DomainError], int] = {
    errors.DomainError: 409,  # a rule of the marketplace refused: a conflict with the present state
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.Forbidden: 403,
    errors.TooManyAttempts: 429,
    WrongPassword: 401,
}
# The pages answer a one-time code typed wrong as a bad request (the API takes no such codes).
PAGE_STATUS = {**STATUS, errors.CodeInvalid: 400}


def status_of(exc: errors.DomainError) -> int:
    return most_specific(STATUS, exc) or 409


def page_status_of(exc: errors.DomainError) -> int:
    return most_specific(PAGE_STATUS, exc) or 409


Show = Callable[..., Any]  # (exc, **view_args) -> a response, or None for the error page

_SHOW = "shows_refusals"


def refusals(show: Show) -> Callable[[F], F]:
    """Declare how the view shows a refusal of its service (see the module's docstring). Listed
    under the route's decorator; decorators between them keep it (`functools.wraps` copies it)."""

    def decorator(view: F) -> F:
        setattr(view, _SHOW, show)
        return view

    return decorator


def handle_refusal(exc: errors.DomainError) -> Any:
    from .security import render_error

    unit.rollback()
    view = current_app.view_functions.get(request.endpoint or "")
    show: Show | None = getattr(view, _SHOW, None)
    answer = show(exc, **(request.view_args or {})) if show is not None else None
    return answer if answer is not None else render_error(page_status_of(exc))


def register(app: Flask) -> None:
    app.register_error_handler(errors.DomainError, handle_refusal)
