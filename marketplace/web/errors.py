"""What each domain error means in HTTP: the web layer's one table (the domain knows no HTTP)."""

from __future__ import annotations

from ..domain import errors
from ..services.staff_auth import WrongPassword

# The most specific class listed wins (a subclass inherits its parent's status unless listed).
STATUS: dict[type[errors.DomainError], int] = {
    errors.DomainError: 409,  # a rule of the marketplace refused: a conflict with the present state
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.Forbidden: 403,
    errors.TooManyAttempts: 429,
    WrongPassword: 401,
}


def status_of(exc: errors.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 409
