"""The JSON API under /api/v1: API keys with roles, one error shape, an OpenAPI document."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from ...domain import errors
from ...domain.models import ApiKey, Role
from ...extensions import csrf
from ...services import access, unit
from ..errors import status_of

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

F = TypeVar("F", bound=Callable[..., Any])


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(errors.DomainError)
def _domain_error(exc: errors.DomainError) -> Response:
    unit.rollback()
    details = {str(exc.context["field"]): [exc.message]} if "field" in exc.context else None
    return error_response(status_of(exc), exc.code, exc.message, details)


@bp.errorhandler(ValidationError)
def _validation_error(exc: ValidationError) -> Response:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return error_response(
        422, "validation_error", "The request has invalid fields.", cast(dict[str, Any], messages)
    )


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Also used by the app for API paths no route matched (404, 405)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or exc.name or "Error")
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    unit.rollback()
    log.exception("API error")
    return error_response(500, "internal_error", "Something went wrong on our side.")


def current_key() -> ApiKey:
    return cast(ApiKey, g.api_key)


def actor() -> str:
    key = current_key()
    return f"api:{key.role}:{key.name}"


def requires(*roles: str) -> Callable[[F], F]:
    """Authenticate `Authorization: Bearer <key>` and check its role."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            key = access.authenticate_api_key(token.strip()) if scheme.lower() == "bearer" else None
            if key is None:
                response = error_response(401, "unauthorized", "A valid API key is required.")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            if key.role not in roles:
                return error_response(403, "forbidden", "This key's role may not do that.")
            g.api_key = key
            key.last_used_at = datetime.now(UTC)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def load(schema: Schema, *, source: str = "json") -> dict[str, Any]:
    if source == "args":
        data: Any = request.args.to_dict()
    else:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["Send a JSON object."]})
    return cast(dict[str, Any], schema.load(data))


def funder_scope() -> str | None:
    """The funder a key is limited to; None for admin keys (they see every programme)."""
    key = current_key()
    return key.funder if key.role == Role.FUNDER else None


from . import (  # noqa: E402  (routes attach to bp)
    openapi,
    stats,
    views,
)

__all__ = ["bp", "openapi", "stats", "views"]
